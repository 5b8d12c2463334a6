"""The lake's own parts: its schema against the DuckDB file's, serial writes, and the leases
in a PostgreSQL catalog."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from storage import lake as lakes
from storage.db import Store
from storage.leases import LocalLeases, PostgresLeases
from storage.schema import MIGRATIONS
from tests.support.processes import WAIT_S, wait_until


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = lakes.connect(str(tmp_path / "meta.ducklake"), str(tmp_path / "data"))
    lakes.migrate(con)
    yield con
    con.close()


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple]]:
    tables: dict[str, list[tuple]] = {}
    for table, column, type_, nullable in con.execute(
        """SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns()
           WHERE database_name = ? AND table_name NOT IN ('lake_writes')
           ORDER BY table_name, column_index""",
        [database],
    ).fetchall():
        tables.setdefault(table, []).append((column, type_, nullable))
    return tables


def test_the_lake_has_the_file_stores_schema(tmp_path: Path, lake) -> None:
    Store(tmp_path / "file.duckdb").initialise()
    with duckdb.connect(str(tmp_path / "file.duckdb"), read_only=True) as con:
        expected = _columns(con, "file")
    got = _columns(lake, lakes.ALIAS)
    assert "articles" in got and "stories" in got  # tables and views
    assert got == expected


def test_migrating_again_changes_nothing(lake) -> None:
    before = lake.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchall()
    lakes.migrate(lake)
    assert lake.execute("SELECT version FROM schema_version ORDER BY 1").fetchall() == [
        (n,) for n in range(1, len(MIGRATIONS) + 1)
    ]
    assert lake.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchall() == before


def test_keys_and_sequences_are_left_out() -> None:
    sql = lakes.lake_sql(
        "CREATE SEQUENCE s START 1;\nCREATE TABLE a (id VARCHAR PRIMARY KEY, n INT NOT NULL,\n"
        "  PRIMARY KEY (id, n), UNIQUE (n));"
    )
    assert sql == "\nCREATE TABLE a (id VARCHAR NOT NULL, n INT NOT NULL);"


def _rows(con: duckdb.DuckDBPyConnection) -> list[str]:
    return sorted(r[0] for r in con.execute("SELECT outlet_id FROM runs").fetchall())


def _insert(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    cur.execute(
        "INSERT INTO runs (run_id, outlet_id, started_at, discovered, fetched, stored, skipped,"
        " failed, status) VALUES ('r', ?, now(), 0, 0, 0, 0, 0, 'ok')",
        [name],
    )


def test_an_overlapping_write_is_done_again_after_the_other(lake) -> None:
    """The second writer's first attempt read a snapshot without the first writer's row; its
    COMMIT fails and its second attempt starts from the first writer's result."""
    first = lakes.LakeWriter(lake, writer="first")
    second = lakes.LakeWriter(lake, writer="second", sleep=lambda s: None)
    seen: list[list[str]] = []

    def body(cur: duckdb.DuckDBPyConnection) -> None:
        seen.append(_rows(cur))
        if len(seen) == 1:
            first.transaction(lambda c: _insert(c, "one"))  # commits in the meantime
        _insert(cur, "two")

    second.transaction(body)
    assert seen == [[], ["one"]]
    assert second.conflicts == 1
    assert _rows(lake) == ["one", "two"]
    assert lake.execute("SELECT n, writer FROM lake_writes").fetchall() == [(2, "second")]


def test_a_write_that_always_conflicts_gives_up_and_applies_nothing(lake) -> None:
    other = lakes.LakeWriter(lake, writer="other")
    waits: list[float] = []
    stubborn = lakes.LakeWriter(lake, writer="stubborn", sleep=waits.append)

    def body(cur: duckdb.DuckDBPyConnection) -> None:
        other.transaction(lambda c: _insert(c, "other"))
        _insert(cur, "stubborn")

    with pytest.raises(lakes.LakeConflict):
        stubborn.transaction(body)
    assert _rows(lake) == ["other"] * lakes.CONFLICT_ATTEMPTS
    assert len(waits) == lakes.CONFLICT_ATTEMPTS
    assert all(0 < w <= lakes.CONFLICT_MAX_S for w in waits)
    assert waits[-1] > waits[0]  # backing off


def test_an_error_in_a_write_rolls_it_back(lake) -> None:
    writer = lakes.LakeWriter(lake)

    def body(cur: duckdb.DuckDBPyConnection) -> None:
        _insert(cur, "half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        writer.transaction(body)
    assert _rows(lake) == []
    assert writer.conflicts == 0


def test_passwords_stay_out_of_messages() -> None:
    assert lakes.redact("postgres:dbname=x password=s3cret host=h") == (
        "postgres:dbname=x password=*** host=h"
    )
    assert "s3cret" not in lakes.redact("postgres:postgresql://u:s3cret@h/db")


def test_local_outlet_leases_exclude_within_the_process() -> None:
    leases = LocalLeases()
    with leases.outlet("a") as first, leases.outlet("a") as second, leases.outlet("b") as other:
        assert (first, second, other) == (True, False, True)
    with leases.outlet("a") as again:
        assert again


_HOLDER = """
import sys, time
from storage.leases import PostgresLeases
leases = PostgresLeases(sys.argv[1])
with leases.outlet("eurasianet") as held:
    print("held" if held else "refused", flush=True)
    time.sleep(120)
"""


@pytest.mark.slow
def test_outlet_leases_in_postgres(postgres) -> None:
    dsn = postgres.create_database("leases")
    a, b = PostgresLeases(dsn), PostgresLeases(dsn)
    try:
        with a.outlet("eurasianet") as held:
            assert held
            with b.outlet("eurasianet") as other, b.outlet("azernews") as free:
                assert (other, free) == (False, True)
            with a.outlet("eurasianet") as twice:  # another thread of the same process
                assert not twice
        with b.outlet("eurasianet") as after:
            assert after
        # A holder killed outright gives the outlet back: its session ends with it.
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, dsn], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with b.outlet("eurasianet") as taken:
            assert not taken
        holder.kill()
        holder.wait()
        wait_until(lambda: _takes(b, "eurasianet"), lambda: "the dead holder's lease was not freed")
    finally:
        a.close()
        b.close()


def _takes(leases: PostgresLeases, outlet: str) -> bool:
    with leases.outlet(outlet) as taken:
        return taken


@pytest.mark.slow
def test_the_write_lease_queues_writers(postgres) -> None:
    dsn = postgres.create_database("write_lease")
    a, b = PostgresLeases(dsn), PostgresLeases(dsn)
    order: list[str] = []
    b_waiting = threading.Event()

    def second() -> None:
        b_waiting.set()
        with b.write():
            order.append("b in")

    try:
        with a.write():
            order.append("a in")
            thread = threading.Thread(target=second)
            thread.start()
            b_waiting.wait()
            time.sleep(0.2)  # room for b to get in wrongly; it must not
            order.append("a out")
        thread.join(timeout=WAIT_S)
        assert order == ["a in", "a out", "b in"]
    finally:
        a.close()
        b.close()


def test_store_sql_runs_on_a_lake_too() -> None:
    """Every module that speaks SQL must also speak it to a lake: no ON CONFLICT, INSERT OR
    REPLACE/IGNORE, sequences (outside the schema) or UPDATE ... RETURNING; storage/rows.py
    says what to use instead."""
    forbidden = re.compile(
        r"\bON CONFLICT\b|\bINSERT OR (REPLACE|IGNORE)\b|\bnextval\(|\bRETURNING\b"
    )
    storage = Path(__file__).parent.parent / "storage"
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(storage.glob("*.py"))
        if path.name not in ("schema.py", "rows.py")
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert offenders == []
