"""Copy a store into another: a DuckDB file into a lake, or a lake back into a file.

Both are attached to one DuckDB, and each table is copied engine-side (`INSERT ... SELECT`) in
chunks of rows taken in the source's row order. Every chunk commits together with a row in
the target's `store_migration` table that says how far the copy of that table has come, so an
interrupted copy (Ctrl-C, a crash, a lost catalog connection) resumes where it stopped and
copies nothing twice, also for the tables that have no key. The table goes when all is done.
The story index is derived and is rebuilt by the target's first write.

The source must not be written meanwhile: stop `newsmon serve` and the workers first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storage.db import Store

PROGRESS = "store_migration"
CHUNK = 5000
_SKIP = {"schema_version", "lake_writes", PROGRESS}


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int  # in the source
    done: int  # already in the target when this copy began


def plan(source: Store, target: Store) -> list[TableCopy]:
    """What is left to copy, table by table (the target's schema is brought up to date)."""
    target.initialise()
    source.initialise()
    with _both(source, target) as (con, src, dst):
        _progress_table(con, dst, target)
        done = dict(con.execute(f"SELECT name, done FROM {dst}.{PROGRESS}").fetchall())
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "ORDER BY table_name",
                [src],
            ).fetchall()
            if r[0] not in _SKIP
        ]
        return [
            TableCopy(t, con.execute(f"SELECT count(*) FROM {src}.{t}").fetchall()[0][0],
                      done.get(t, 0))
            for t in tables
        ]  # fmt: skip


def copy(
    source: Store,
    target: Store,
    tables: list[TableCopy],
    advance: Callable[[str, int], None] = lambda table, rows: None,
) -> int:
    """Copy what `plan` found; `advance(table, rows)` after each chunk. Returns rows copied."""
    copied = 0
    with _both(source, target) as (con, src, dst):
        for item in tables:
            done = item.done
            while done < item.rows:
                n = min(CHUNK, item.rows - done)

                def chunk(c: duckdb.DuckDBPyConnection, t: str = item.table, at: int = done,
                          n: int = n) -> None:  # fmt: skip
                    c.execute(
                        f"INSERT INTO {dst}.{t} BY NAME "
                        f"SELECT * FROM {src}.{t} ORDER BY rowid LIMIT {n} OFFSET {at}"
                    )
                    c.execute(f"DELETE FROM {dst}.{PROGRESS} WHERE name = ?", [t])
                    c.execute(f"INSERT INTO {dst}.{PROGRESS} VALUES (?, ?)", [t, at + n])

                target.db.backend.run(con, chunk, lambda: None)
                done += n
                copied += n
                advance(item.table, n)
    with _both(source, target) as (con, _, dst):
        target.db.backend.run(
            con, lambda c: c.execute(f"DROP TABLE {dst}.{PROGRESS}"), lambda: None
        )
    return copied


def _progress_table(con: duckdb.DuckDBPyConnection, dst: str, target: Store) -> None:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
        [dst, PROGRESS],
    ).fetchall()[0][0]
    if not exists:
        target.db.backend.run(
            con,
            lambda c: c.execute(
                f"CREATE TABLE {dst}.{PROGRESS} (name VARCHAR NOT NULL, done BIGINT NOT NULL)"
            ),
            lambda: None,
        )


class _both:
    """One DuckDB with the source and the target attached: the lake's own connection with the
    file attached beside it. Yields (connection, source name, target name)."""

    def __init__(self, source: Store, target: Store) -> None:
        self.source, self.target = source, target
        self.lake = source if source.lake is not None else target
        self.file = target if self.lake is source else source
        if self.lake.lake is None or self.file.lake is not None:
            raise ValueError("a migration copies between a DuckDB file and a lake")

    def __enter__(self) -> tuple[duckdb.DuckDBPyConnection, str, str]:
        assert self.lake.lake is not None
        self.con = self.lake.lake.connect(read_only=False)
        read_only = " (READ_ONLY)" if self.file is self.source else ""
        path = str(Path(self.file.path)).replace("'", "''")
        self.con.execute(f"ATTACH '{path}' AS store_file{read_only}")
        names = ("store_file", "lake") if self.file is self.source else ("lake", "store_file")
        return self.con, *names

    def __exit__(self, *exc: object) -> None:
        self.con.execute("DETACH store_file")
        self.con.close()
