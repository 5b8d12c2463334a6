"""What DuckLake 1.5.5 does that the shared store is built on, pinned so that an upgrade which
changes it fails here first: no keys or sequences (so deduplication cannot lean on the
engine), appends that never conflict, and a conflict for two transactions that both change
one row (the write token that serialises the store's writers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from storage import lake as lakes


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.slow)])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple]:
    """Two connections to one fresh lake (two writers), on each kind of catalog."""
    if request.param == "postgres":
        pg = request.getfixturevalue("postgres")
        catalog = "postgres:" + pg.create_database(f"engine_{abs(hash(tmp_path)) % 10**8}")
        a, b = lakes.connect(catalog, str(tmp_path)), lakes.connect(catalog, str(tmp_path))
    else:
        a = lakes.connect(str(tmp_path / "meta.ducklake"), str(tmp_path))
        b = a.cursor()  # a DuckDB catalog file has one process; writers are connections in it
        b.execute("USE lake")
    a.execute("CREATE TABLE t (id VARCHAR NOT NULL)")
    a.execute("CREATE TABLE token (n BIGINT NOT NULL)")
    a.execute("INSERT INTO token VALUES (0)")
    yield a, b
    b.close()
    a.close()


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE k (id VARCHAR PRIMARY KEY)",
        "CREATE TABLE k (id VARCHAR, UNIQUE (id))",
        "CREATE SEQUENCE s START 1",
    ],
)
def test_keys_and_sequences_are_refused(lake: tuple, ddl: str) -> None:
    a, _ = lake
    with pytest.raises(duckdb.NotImplementedException):
        a.execute(ddl)


def test_upserts_need_merge(lake: tuple) -> None:
    """Without keys ON CONFLICT has nothing to act on; MERGE INTO does the same job."""
    a, _ = lake
    with pytest.raises(duckdb.BinderException):
        a.execute("INSERT INTO t VALUES ('x') ON CONFLICT DO NOTHING")
    merge = """MERGE INTO t USING (SELECT 'x' AS id) s ON t.id = s.id
               WHEN NOT MATCHED THEN INSERT VALUES (s.id)"""
    a.execute(merge)
    a.execute(merge)
    assert a.execute("SELECT id FROM t").fetchall() == [("x",)]


def test_concurrent_appends_both_commit(lake: tuple) -> None:
    a, b = lake
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("INSERT INTO t VALUES ('a')")
    b.execute("INSERT INTO t VALUES ('b')")
    a.execute("COMMIT")
    b.execute("COMMIT")
    assert sorted(a.execute("SELECT id FROM t").fetchall()) == [("a",), ("b",)]


def test_two_writers_of_the_token_conflict(lake: tuple) -> None:
    """Both read the same snapshot and both change the token: the second commit must fail,
    with nothing of it applied, so that it can start again from the first one's result."""
    a, b = lake
    a.execute("BEGIN")
    b.execute("BEGIN")
    for con, row in ((a, "a"), (b, "b")):
        con.execute("UPDATE token SET n = n + 1")
        con.execute("INSERT INTO t VALUES (?)", [row])
    a.execute("COMMIT")
    with pytest.raises(duckdb.TransactionException, match="(?i)conflict"):
        b.execute("COMMIT")
    assert a.execute("SELECT id FROM t").fetchall() == [("a",)]
    assert a.execute("SELECT n FROM token").fetchall() == [(1,)]
    # Started again, it sees the first writer's rows and commits.
    b.execute("BEGIN")
    assert b.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    b.execute("UPDATE token SET n = n + 1")
    b.execute("INSERT INTO t VALUES ('b')")
    b.execute("COMMIT")
    assert sorted(a.execute("SELECT id FROM t").fetchall()) == [("a",), ("b",)]
