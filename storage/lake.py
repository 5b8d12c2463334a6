"""A DuckLake as the store: the catalog in PostgreSQL (many writers on many machines) or in a
DuckDB file (one process), the data as Parquet under a directory or an `s3://` prefix.

Three things differ from the DuckDB file, and this module owns them:

- **Schema.** DuckLake has no primary keys, unique constraints or sequences. The lake gets the
  migrations of `storage/schema.py` with those left out (`lake_sql`); the tables, columns,
  types and views are the same, which a test holds. Deduplication never leans on a key
  anyway: it happens in the write path, which sees every earlier write (next point).
- **Writers.** DuckLake commits optimistically: two transactions that only append both commit,
  so two workers storing the same article at once would store it twice, and story placement
  would miss the copy the other one is writing. Every store write therefore also bumps the
  one row of `lake_writes`: of two overlapping writes, DuckLake fails the second at COMMIT
  (both changed that row), which then starts again from a snapshot that holds the first
  (`LakeWriter.transaction`). Writes are thereby serial, as on one machine, whatever the
  catalog; a write lease (storage/leases.py) only queues the writers so that they rarely
  collide and redo work.
- **Connections.** Attaching costs a catalog round trip or three, so a process keeps one
  connection and gives each operation a cursor of it.

DuckLake retries a commit that lost a race without a logical conflict (appends) by itself, up
to `ducklake_max_retry_count` times; the settings below give a busy shared catalog more
patience than its defaults (10 attempts from 100 ms apart, growing 1.5x).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import TypeVar

import duckdb

from storage import extensions
from storage.schema import MIGRATIONS

ALIAS = "lake"
RETRY_SETTINGS = {
    "ducklake_max_retry_count": 20,
    "ducklake_retry_wait_ms": 50,
    "ducklake_retry_backoff": 1.5,
}
# After DuckLake's own retries, a write whose COMMIT conflicts is run again from the start this
# many times, waiting a growing, jittered while in between (50 ms, 100 ms, ... at most 5 s).
CONFLICT_ATTEMPTS = 12
CONFLICT_BASE_S = 0.05
CONFLICT_MAX_S = 5.0

T = TypeVar("T")


class LakeError(Exception):
    """A lake that cannot be reached or attached, in one line."""


class LakeConflict(LakeError):
    """A write that kept conflicting with other writers after every retry."""


def needed_extensions(catalog: str, data_path: str) -> list[str]:
    names = ["ducklake"]
    if catalog.startswith("postgres:"):
        names.append("postgres")
    if data_path.startswith(("s3://", "http://", "https://")):
        names.append("httpfs")
    return names


def connect(catalog: str, data_path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use."""
    con = duckdb.connect(config=extensions.connection_config())
    try:
        for name in needed_extensions(catalog, data_path):
            extensions.load(con, name)
        for key, value in RETRY_SETTINGS.items():
            con.execute(f"SET {key} = {value}")
        path = data_path if data_path.endswith("/") else data_path + "/"
        options = f"DATA_PATH {_literal(path)}" + (", READ_ONLY" if read_only else "")
        con.execute(f"ATTACH {_literal('ducklake:' + catalog)} AS {ALIAS} ({options})")
        con.execute(f"USE {ALIAS}")
    except (duckdb.Error, extensions.ExtensionError) as exc:
        con.close()
        raise LakeError(redact(f"cannot attach the lake {catalog}: {_one_line(exc)}")) from None
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection of its own (its own transaction) on the same attached lake."""
    cur = con.cursor()
    cur.execute(f"USE {ALIAS}")
    cur.execute("SET TimeZone = 'UTC'")
    return cur


# -- schema ----------------------------------------------------------------------------------
_INLINE_KEY = re.compile(r"\s+PRIMARY KEY\b(?!\s*\()", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*(?:PRIMARY KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_SEQUENCE = re.compile(r"CREATE SEQUENCE[^;]*;", re.IGNORECASE)
WRITES_TABLE = "lake_writes"


def lake_sql(migration: str) -> str:
    """A migration as DuckLake takes it: without keys, unique constraints and sequences. A
    key column stays NOT NULL, as a key made it."""
    return _SEQUENCE.sub("", _TABLE_KEY.sub("", _INLINE_KEY.sub(" NOT NULL", migration)))


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the lake to the latest schema. Safe when several workers start at once: each
    migration commits together with its version row, and a second worker applying the same
    migration conflicts (both create the same tables) and finds it done when it looks again."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            _migrate_once(con)
            return
        except duckdb.TransactionException as exc:
            if not _is_conflict(exc) or attempt == CONFLICT_ATTEMPTS - 1:
                raise
            _wait(attempt)


def _migrate_once(con: duckdb.DuckDBPyConnection) -> None:
    cur = cursor(con)
    try:
        tables = {r[0] for r in cur.execute("SHOW TABLES").fetchall()}
        if "schema_version" not in tables:
            _in_transaction(
                cur,
                lambda c: c.execute(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                    f"CREATE TABLE {WRITES_TABLE} (n BIGINT NOT NULL, writer VARCHAR, "
                    "written_at TIMESTAMPTZ);"
                    f"INSERT INTO {WRITES_TABLE} VALUES (0, NULL, NULL);"
                ),
            )
        current = cur.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] or 0
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number > current:
                _in_transaction(
                    cur,
                    lambda c, sql=sql, number=number: (
                        c.execute(lake_sql(sql)),
                        c.execute("INSERT INTO schema_version VALUES (?)", [number]),
                    ),
                )
    finally:
        cur.close()


def _in_transaction(
    cur: duckdb.DuckDBPyConnection, body: Callable[[duckdb.DuckDBPyConnection], object]
) -> None:
    cur.execute("BEGIN TRANSACTION")
    try:
        body(cur)
        cur.execute("COMMIT")
    except BaseException:
        _rollback(cur)
        raise


# -- serial writes ---------------------------------------------------------------------------
class LakeWriter:
    """Runs store writes one at a time across every process that writes the lake."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        lease: Callable[[], AbstractContextManager[object]] | None = None,
        writer: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.con = con
        self.lease = lease or nullcontext
        self.writer = writer
        self.sleep = sleep
        self.conflicts = 0  # COMMITs that lost to another writer, over this writer's life

    def transaction(self, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `body` in a transaction that no other store write overlaps. On a conflict the
        transaction is rolled back and `body` runs again from the start, so it must leave
        nothing behind outside the database that a second run would not redo."""
        for attempt in range(CONFLICT_ATTEMPTS):
            with self.lease(), self._cursor() as cur:
                cur.execute("BEGIN TRANSACTION")
                try:
                    cur.execute(
                        f"UPDATE {WRITES_TABLE} SET n = n + 1, writer = ?, written_at = now()",
                        [self.writer],
                    )
                    result = body(cur)
                    cur.execute("COMMIT")
                    return result
                except duckdb.TransactionException as exc:
                    _rollback(cur)
                    if not _is_conflict(exc):
                        raise
                    self.conflicts += 1
                except BaseException:
                    _rollback(cur)
                    raise
            self.sleep(_backoff(attempt))
        raise LakeConflict(
            f"a write conflicted with other writers {CONFLICT_ATTEMPTS} times in a row; "
            "it was not applied"
        )

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = cursor(self.con)
        try:
            yield cur
        finally:
            cur.close()


def _is_conflict(exc: BaseException) -> bool:
    return "conflict" in str(exc).lower()


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
        cur.execute("ROLLBACK")


def _backoff(attempt: int) -> float:
    return min(CONFLICT_MAX_S, CONFLICT_BASE_S * 2**attempt) * random.uniform(0.5, 1.0)


def _wait(attempt: int) -> None:
    time.sleep(_backoff(attempt))


# -- text --------------------------------------------------------------------------------------
def redact(text: str) -> str:
    """Text (a catalog string, an error quoting one) without passwords, for messages."""
    text = re.sub(r"(?i)(password\s*=\s*)('[^']*'|\S+)", r"\1***", text)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
