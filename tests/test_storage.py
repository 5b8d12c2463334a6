"""The DuckDB store: schema, idempotent batched writes, and another process holding the file."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.records import (
    Batch,
    Failure,
    FailureKind,
    Outlet,
    SourceKind,
    SourceOrigin,
    SourceState,
    UrlFailure,
)
from storage.db import Store
from tests.support.factories import make_article, make_fetch, make_report
from tests.support.processes import held_by_other_process

ROOT = Path(__file__).parents[1]


def batch(run_id: str, *urls: str, outlet: str = "x") -> Batch:
    return Batch(
        run_id=run_id,
        outlets=[Outlet(outlet, outlet.upper(), "http://127.0.0.1/", "en")],
        articles=[make_article(u, outlet) for u in urls],
        fetches=[make_fetch(u, outlet) for u in urls],
        reports=[make_report(run_id, outlet)],
    )


def count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def test_schema_is_created_with_public_columns(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    Store(db).initialise()
    con = duckdb.connect(str(db), read_only=True)
    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles'"
        ).fetchall()
    }
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    con.close()
    assert {
        "outlets",
        "articles",
        "fetches",
        "runs",
        "sources",
        "article_urls",
        "stories",
    } <= tables
    assert {
        "id", "outlet_id", "url", "canonical_url", "title", "authors", "published_at",
        "date_source", "fetched_at", "language", "text", "word_count", "content_hash",
        "extractor_version",
    } <= cols  # fmt: skip
    Store(db).initialise()  # migrating an up-to-date file is a no-op
    from storage.schema import MIGRATIONS

    assert count(db, "SELECT count(*) FROM schema_version") == len(MIGRATIONS)


def test_writes_are_idempotent_and_counted(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    store = Store(db)
    first = store.write(batch("r1", "http://h/a", "http://h/b", "http://h/a"))
    assert (first.stored, first.spooled) == (2, False)
    again = store.write(batch("r2", "http://h/a", "http://h/b"))
    assert again.stored == 0
    assert count(db, "SELECT count(*) FROM articles") == 2
    assert count(db, "SELECT stored FROM runs WHERE run_id = 'r1'") == 2
    assert count(db, "SELECT stored FROM runs WHERE run_id = 'r2'") == 0
    assert count(db, "SELECT count(*) FROM fetches") == 5
    assert store.unseen(["http://h/a", "http://h/c"]) == ["http://h/c"]


def test_published_at_keeps_the_instant(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    Store(db).write(batch("r1", "http://h/a"))
    got = Store(db).query("SELECT published_at FROM articles").rows[0][0]
    assert got == datetime(2025, 7, 5, 6, 30, tzinfo=UTC)


def test_sources_state_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "n.duckdb")
    state = SourceState("http://h/feed", "x", "feed", "discovered", etag='"e1"', body_hash="abc")
    store.write(Batch("r1", sources=[state]))
    (got,) = store.outlet_state("x", datetime.now(UTC)).sources
    assert (got.url, got.kind, got.origin, got.etag, got.body_hash) == (
        "http://h/feed", "feed", "discovered", '"e1"', "abc",
    )  # fmt: skip
    # A source once configured stays 'config' even if later met by discovery.
    store.write(Batch("r2", sources=[SourceState("http://h/feed", "x", "feed", "config")]))
    store.write(Batch("r3", sources=[SourceState("http://h/feed", "x", "feed", "discovered")]))
    assert store.outlet_state("x", datetime.now(UTC)).sources[0].origin == "config"


def test_held_file_spools_and_merges_without_loss(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    store = Store(db, lock_wait_s=0.2)
    store.write(batch("r0", "http://h/old"))
    with held_by_other_process(db):
        result = store.write(batch("r1", "http://h/new1", "http://h/new2"))
        assert result.spooled
        assert len(store.spool.pending()) == 1
        # URLs waiting in the spool count as known, so the next pass does not fetch them again.
        assert store.unseen(["http://h/new1", "http://h/x"]) == ["http://h/x"]
    assert store.merge_spool() == 1
    assert store.spool.pending() == []
    assert count(db, "SELECT count(*) FROM articles") == 3
    assert count(db, "SELECT stored FROM runs WHERE run_id = 'r1'") == 2


def test_query_while_another_process_writes_falls_back_to_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    Store(db).write(batch("r0", "http://h/a"))
    with held_by_other_process(db):  # answered while the other process still holds the file
        result = Store(db).query("SELECT count(*) FROM articles", wait_s=0.5)
    assert result.rows == [(1,)]
    assert result.note and "held by another process" in result.note


def test_query_errors_are_one_line(tmp_path: Path) -> None:
    from storage.db import StoreError

    db = tmp_path / "n.duckdb"
    Store(db).initialise()
    try:
        Store(db).query("SELECT * FROM no_such_table")
    except StoreError as exc:
        assert "no_such_table" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("expected StoreError")
    try:
        Store(tmp_path / "absent.duckdb").query("SELECT 1")
    except StoreError as exc:
        assert "no database" in str(exc)
    else:
        raise AssertionError("expected StoreError")


def test_read_only_query_cannot_write(tmp_path: Path) -> None:
    from storage.db import StoreError

    db = tmp_path / "n.duckdb"
    Store(db).write(batch("r0", "http://h/a"))
    try:
        Store(db).query("DELETE FROM articles")
    except StoreError as exc:
        assert "read-only" in str(exc).lower()
    else:
        raise AssertionError("expected StoreError")
    assert count(db, "SELECT count(*) FROM articles") == 1


def test_orphaned_spool_claim_is_taken_back(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    store = Store(db)
    path = store.spool.put(batch("r1", "http://h/a"))
    # A merger that died mid-merge leaves a claimed file named after its (now dead) pid.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    orphan = path.with_name(f"{path.stem}.claimed-{dead.stdout.strip()}")
    path.rename(orphan)
    assert store.merge_spool() == 1
    assert count(db, "SELECT count(*) FROM articles") == 1


def test_failing_article_urls_wait_longer_each_time_then_are_given_up(tmp_path: Path) -> None:
    store = Store(tmp_path / "f.duckdb")
    url = "https://x.example/news/a-page-without-text"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    waits = []
    for attempt in range(5):
        failed_at = start + timedelta(days=attempt)
        store.write(
            Batch(
                f"r{attempt}",
                failures=[
                    UrlFailure(url, "x", Failure(FailureKind.NO_TEXT, "too short"), failed_at)
                ],
            )
        )
        retry_at, kind = store.query("SELECT retry_at, kind FROM url_failures").rows[0]
        assert kind == "no-text"
        waits.append((retry_at - failed_at).total_seconds() / 3600)
        assert store.unseen([url, url + "-other"], failed_at) == [url + "-other"]
        assert store.unseen([url], retry_at + timedelta(seconds=1)) == [url]
        assert store.unseen([url]) == [url]  # failing is not stored
    assert waits[:4] == [1, 4, 16, 24] and waits[4] > 24 * 365  # then given up
    store.write(Batch("ok", articles=[make_article(url)]))  # it came good after all
    assert store.query("SELECT count(*) FROM url_failures").rows[0][0] == 0


def test_migration_gives_old_failures_the_kind_their_wording_meant(tmp_path: Path) -> None:
    from storage.schema import MIGRATIONS

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, sql in enumerate(MIGRATIONS[:5], start=1):
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?)", [number])
    messages = ["blocked by robots.txt", "HTTP 404", "cannot connect: refused", None]
    for i, message in enumerate(messages):
        con.execute(
            "INSERT INTO fetches (run_id, outlet_id, kind, url, final_url, status, bytes, "
            "elapsed_ms, fetched_at, error) VALUES ('r', 'x', 'article', ?, ?, NULL, 0, 1, now(), ?)",
            [f"https://x.example/{i}", f"https://x.example/{i}", message],
        )
    con.close()
    Store(db).initialise()
    rows = Store(db).query("SELECT error, error_kind FROM fetches ORDER BY url").rows
    assert [kind for _, kind in rows] == ["robots", "http-status", "cannot-connect", None]


def test_a_spooled_batch_comes_back_with_its_typed_failures(tmp_path: Path) -> None:
    from storage.spool import decode, encode

    failure = Failure(FailureKind.TOO_LARGE, "body exceeds limit of 10 bytes")
    batch = Batch(
        "r",
        fetches=[make_fetch("https://x.example/a")],
        failures=[UrlFailure("https://x.example/b", "x", failure, datetime.now(UTC))],
        sources=[SourceState("https://x.example/feed", "x", SourceKind.FEED, SourceOrigin.CONFIG)],
    )
    batch.fetches[0] = dataclasses.replace(batch.fetches[0], failure=failure)
    back = decode(encode(batch))
    assert back.failures == batch.failures and back.fetches == batch.fetches
    assert back.failures[0].failure.kind is FailureKind.TOO_LARGE
    assert back.sources[0].kind is SourceKind.FEED


def test_the_schema_is_checked_once_per_open_not_at_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.connection

    checks: list[int] = []
    version = storage.connection._version
    monkeypatch.setattr(
        storage.connection, "_version", lambda *a, **k: checks.append(1) or version(*a, **k)
    )
    store = Store(tmp_path / "n.duckdb")
    for i in range(3):
        store.write(batch(f"r{i}", f"http://h/{i}"))
    assert store.unseen(["http://h/0"]) == []
    assert len(checks) == 1
    Store(tmp_path / "n.duckdb").write(batch("r9", "http://h/9"))  # another open: checked again
    assert len(checks) == 2


def test_delivery_outcomes_wait_in_the_spool_while_the_file_is_held(tmp_path: Path) -> None:
    from extractors.records import Channel, Outcome, TopicScore

    db = tmp_path / "n.duckdb"
    store = Store(db, lock_wait_s=0.2)
    article = make_article("http://h/a", published_at=datetime.now(UTC))
    article.topics = [TopicScore("r", "sig", True, 9.0, ["g: t ×9"])]
    store.write(Batch("r1", articles=[article]))
    channel = Channel("key", "json://masked")
    created, due = store.prepare_alerts(["r"], timedelta(days=1), {"r": [channel]})
    assert len(created) == len(due) == 1
    sent = Outcome(due[0].alert.alert_id, "key", True, None, datetime.now(UTC))
    with held_by_other_process(db):
        store.record_outcomes([sent], timedelta(seconds=30), 0, wait_s=0.2)
        assert len(store.spool.pending()) == 1
    # The next claim merges the spool first: a sent alert is never taken for unsent.
    _, again = store.prepare_alerts(["r"], timedelta(days=1), {"r": [channel]}, stale=timedelta(0))
    assert again == [] and store.spool.pending() == []
    assert store.query("SELECT state FROM alert_deliveries").rows == [("sent",)]
