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

import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TypeVar

import duckdb

from extractors.records import LakeSettings
from storage import extensions
from storage.connection import StoreError, StoreLocked
from storage.leases import Leases, LocalLeases, PostgresLeases
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
# What PostgreSQL says when two processes create the same catalog tables at once.
_RACING = ("duplicate key value", "already exists")


class LakeError(StoreError):
    """A lake that cannot be attached (a bad catalog string, a missing extension)."""


class LakeUnreachable(StoreLocked):
    """The catalog cannot be reached now: writes wait in the spool, as for a held file."""


class LakeMissing(LakeUnreachable):
    """The catalog's PostgreSQL database does not exist (yet)."""


class LakeRacing(LakeUnreachable):
    """Another process was creating the catalog's tables at the same moment."""


class LakeConflict(StoreLocked):
    """A write that kept losing races to other writers: it waits in the spool."""


class LakeBackend:
    """One process's use of a lake (a Backend of storage/connection.py): a writing connection,
    attached and migrated once, whose cursors serve every read and write; a read-only one for
    analysts' SQL; the write serialiser and the leases. Its spool and story index live beside
    `local`, this process's data directory."""

    exclusive = False

    def __init__(self, settings: LakeSettings, local: Path) -> None:
        self.settings = settings
        self.local = local
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._reader: duckdb.DuckDBPyConnection | None = None
        self._writer: LakeWriter | None = None
        self.leases: Leases = (
            PostgresLeases(settings.catalog.removeprefix("postgres:"))
            if settings.shared
            else LocalLeases()
        )

    def __str__(self) -> str:
        return f"the lake {redact(self.settings.catalog)}"

    # -- the Backend protocol ------------------------------------------------------------
    def exists(self) -> bool:
        return True  # attaching creates it

    def derived(self, suffix: str) -> Path:
        return self.local.with_name(self.local.name + suffix)

    def connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        return cursor(self.connection())

    def snapshot(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise StoreError("a lake is never held by another process")

    @contextmanager
    def atomic(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """One transaction that no other store write overlaps: under the write lease, and
        bumping the write token. One that still lost a race is not redone here (a block cannot
        be run twice): it fails, as a conflict."""
        with self.leases.write():
            con.execute("BEGIN TRANSACTION")
            try:
                self.writer.bump(con)
                yield
            except BaseException:
                _rollback(con)
                raise
            try:
                con.execute("COMMIT")
            except duckdb.TransactionException as exc:
                _rollback(con)
                if _is_conflict(exc):
                    raise LakeConflict(
                        f"another writer changed the lake meanwhile: {_one_line(exc)}"
                    ) from None
                raise

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        body: Callable[[duckdb.DuckDBPyConnection], T],
        redo: Callable[[], object],
    ) -> T:
        return self.writer.transaction(body, cur=con, on_conflict=redo)

    # -- the lake's own --------------------------------------------------------------------
    def connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                con = self._attach()
                try:
                    migrate(con)
                except duckdb.Error as exc:
                    con.close()
                    raise LakeError(redact(f"cannot migrate the lake: {_one_line(exc)}")) from None
                self._con = con
            return self._con

    def _attach(self) -> duckdb.DuckDBPyConnection:
        """Attach; create the catalog's database when missing (a new stack's PostgreSQL holds
        Prefect's only); attach again when another worker was creating the catalog's tables at
        the same moment (workers of a new stack start together)."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                return connect(self.settings.catalog, self.settings.data_path)
            except LakeMissing:
                create_database(self.settings.catalog.removeprefix("postgres:"))
            except LakeRacing:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(_backoff(attempt))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    @property
    def writer(self) -> LakeWriter:
        con = self.connection()
        with self._lock:
            if self._writer is None:
                self._writer = LakeWriter(
                    con, self.leases.write, writer=f"{socket.gethostname()}:{os.getpid()}"
                )
            return self._writer

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for analysts' SQL that cannot change the lake: on a read-only attachment
        of a shared catalog, or (a DuckDB catalog file admits one attachment per process) on
        the writing connection. Either way in a transaction, rolled back at the end: every
        query of one reading (a desk page, a search and its highlights) sees one snapshot,
        whatever other writers commit meanwhile."""
        if not self.settings.shared:
            cur = cursor(self.connection())
        else:
            with self._lock:
                if self._reader is None:
                    self._reader = connect(self.settings.catalog, self.settings.data_path, True)
                cur = cursor(self._reader)
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        finally:
            _rollback(cur)
            cur.close()

    def close(self) -> None:
        with self._lock:
            for con in (self._con, self._reader):
                if con is not None:
                    con.close()
            self._con = self._reader = self._writer = None
        self.leases.close()


def create_database(conninfo: str) -> None:
    """Create the database the catalog string names, connecting to `postgres` to do it."""
    import psycopg
    from psycopg import conninfo as info
    from psycopg import sql

    name = info.conninfo_to_dict(conninfo).get("dbname")
    if not name:
        return
    try:
        admin = info.make_conninfo(conninfo, dbname="postgres")
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
    except psycopg.errors.DuplicateDatabase:
        pass  # another worker made it just now
    except psycopg.Error as exc:
        raise LakeError(
            redact(f"cannot create the catalog database {name}: {_one_line(exc)}")
        ) from None


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
        con.execute("SET enable_progress_bar = false")  # it would print into `newsmon sql`
        path = data_path if data_path.endswith("/") else data_path + "/"
        options = f"DATA_PATH {_literal(path)}" + (", READ_ONLY" if read_only else "")
        con.execute(f"ATTACH {_literal('ducklake:' + catalog)} AS {ALIAS} ({options})")
        con.execute(f"USE {ALIAS}")
    except (duckdb.Error, extensions.ExtensionError) as exc:
        con.close()
        message = redact(f"cannot attach the lake {catalog}: {_one_line(exc)}")
        if "does not exist" in str(exc) and catalog.startswith("postgres:"):
            raise LakeMissing(message) from None
        if any(m in str(exc) for m in _RACING):
            raise LakeRacing(message) from None
        if isinstance(exc, duckdb.IOException | duckdb.ConnectionException):
            raise LakeUnreachable(message) from None  # a catalog down: try again later
        raise LakeError(message) from None
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
        except (duckdb.TransactionException, duckdb.CatalogException) as exc:
            racing = _is_conflict(exc) or "already exists" in str(exc)
            if not racing or attempt == CONFLICT_ATTEMPTS - 1:
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

    def transaction(
        self,
        body: Callable[[duckdb.DuckDBPyConnection], T],
        cur: duckdb.DuckDBPyConnection | None = None,
        on_conflict: Callable[[], None] | None = None,
    ) -> T:
        """Run `body` in a transaction that no other store write overlaps (on `cur`, or on a
        cursor of its own). On a conflict the transaction is rolled back, `on_conflict` is
        told (to drop state built from the lost attempt), and `body` runs again from the
        start: it must leave nothing behind outside the database that a second run would
        not redo."""
        for attempt in range(CONFLICT_ATTEMPTS):
            with self.lease(), self._cursor(cur) as con:
                con.execute("BEGIN TRANSACTION")
                try:
                    self.bump(con)
                    result = body(con)
                    con.execute("COMMIT")
                    return result
                except duckdb.TransactionException as exc:
                    _rollback(con)
                    if not _is_conflict(exc):
                        raise
                    self.conflicts += 1
                    if on_conflict is not None:
                        on_conflict()
                except BaseException:
                    _rollback(con)
                    raise
            self.sleep(_backoff(attempt))
        raise LakeConflict(
            f"a write conflicted with other writers {CONFLICT_ATTEMPTS} times in a row; "
            "it was not applied"
        )

    def bump(self, con: duckdb.DuckDBPyConnection) -> None:
        """Change the write token: a transaction that does conflicts with any other that does."""
        con.execute(
            f"UPDATE {WRITES_TABLE} SET n = n + 1, writer = ?, written_at = now()", [self.writer]
        )

    @contextmanager
    def _cursor(
        self, given: duckdb.DuckDBPyConnection | None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        if given is not None:
            yield given
            return
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
