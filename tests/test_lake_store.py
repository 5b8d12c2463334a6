"""The store on a DuckLake: the same writes, reads and outbox as on the DuckDB file (on a
DuckDB catalog, quick), and several processes writing one lake with a PostgreSQL catalog."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.records import (
    Batch,
    Channel,
    Failure,
    FailureKind,
    HealthState,
    HealthStatus,
    LakeSettings,
    Outlet,
    PollState,
    TopicScore,
    UrlFailure,
)
from storage.db import Store, StoreError
from tests.support.factories import make_article, make_fetch, make_report


def _lake_store(tmp_path: Path, catalog: str | None = None, name: str = "n") -> Store:
    settings = LakeSettings(catalog or str(tmp_path / "meta.ducklake"), str(tmp_path / "d"))
    return Store(tmp_path / name / "newsmon.duckdb", lake=settings)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = _lake_store(tmp_path)
    yield s
    s.close()


def _ids(store: Store, sql: str) -> list:
    return store.query(sql).rows


def test_articles_stories_and_aliases(store: Store) -> None:
    original = make_article("https://a.example/one", "a")
    copy = make_article("https://b.example/copy", "b", text=original.text)
    moved = make_article("https://a.example/one-moved", "a", text=original.text)
    report = make_report("r1", "a")
    batch = Batch("r1", articles=[original], fetches=[make_fetch(original.url, "a")],
                  reports=[report])  # fmt: skip
    assert store.write(batch).stored == 1
    assert store.write(batch).stored == 0  # the same batch again adds nothing
    assert store.write(Batch("r1", articles=[copy, moved])).stored == 1  # moved: an alias
    rows = _ids(store, "SELECT id, story_id, duplicate_of FROM articles ORDER BY outlet_id")
    assert rows == [
        (original.id, original.id, None),
        (copy.id, original.id, original.id),
    ]
    assert _ids(store, "SELECT copies, outlets FROM stories") == [(2, ["a", "b"])]
    assert _ids(store, "SELECT stored FROM runs") == [(1,)]
    assert store.unseen([moved.url, "https://c.example/new"]) == ["https://c.example/new"]


def test_upserts_replace_rows(store: Store) -> None:
    now = datetime.now(UTC)
    failure = UrlFailure("https://a.example/x", "a", Failure(FailureKind.NO_TEXT, "no text"), now)
    outlet = Outlet("a", "A", "https://a.example/", "en")
    poll = PollState("a", 900.0, now, 0, now, "first")
    for n in range(2):
        store.write(Batch(f"r{n}", outlets=[outlet], failures=[failure],
                          polls=[PollState("a", 900.0 * (n + 1), now, n, now, f"poll {n}")]))  # fmt: skip
    assert _ids(store, "SELECT attempts FROM url_failures") == [(2,)]
    assert _ids(store, "SELECT interval_s, reason FROM outlet_polls") == [(1800.0, "poll 1")]
    assert _ids(store, "SELECT count(*) FROM outlets") == [(1,)]
    assert store.poll_states()["a"].failures == 1
    # Stored at last: no longer failing.
    store.write(Batch("r2", articles=[make_article("https://a.example/x", "a")], polls=[poll]))
    assert _ids(store, "SELECT count(*) FROM url_failures") == [(0,)]


def test_one_alert_per_story_and_one_event_per_change(store: Store) -> None:
    a = make_article("https://a.example/s", "a", published_at=datetime.now(UTC))
    b = make_article("https://b.example/s", "b", text=a.text, published_at=datetime.now(UTC))
    score = TopicScore("rule", "sig", True, 9.0, ["x: y"])
    a.topics, b.topics = [score], [score]
    store.write(Batch("r1", articles=[a]))
    channel = Channel("k1", "json://127.0.0.1:1/...")
    created, due = store.prepare_alerts(["rule"], timedelta(hours=48), {"rule": [channel]})
    assert [x.story_id for x in created] == [a.id] and len(due) == 1
    store.write(Batch("r2", articles=[b]))
    again, _ = store.prepare_alerts(["rule"], timedelta(hours=48), {"rule": [channel]})
    assert again == []
    state = HealthState("a", HealthStatus.FAILING, "down", datetime.now(UTC))
    new, _ = store.record_health([state], quiet=set())
    assert [e.new_state for e in new] == [HealthStatus.FAILING]
    assert store.record_health([state], quiet=set())[0] == []


def test_analysts_sql_cannot_change_the_lake(store: Store) -> None:
    store.write(Batch("r1", articles=[make_article("https://a.example/one", "a")]))
    for sql in ("DELETE FROM articles", "SELECT 1; DROP TABLE articles", "COPY articles TO 'x'"):
        with pytest.raises(StoreError, match="only queries"):
            store.query(sql)
    assert store.query("SELECT count(*) FROM articles").rows == [(1,)]


# -- several processes, one lake with a PostgreSQL catalog ---------------------------------
def _writer(catalog: str, data: str, home: str, plan: list[tuple[str, str, str]]) -> str:
    """One process's batches: (url, outlet, text) each, one batch per article so that the
    processes' writes interleave."""
    store = Store(Path(home) / "newsmon.duckdb", lake=LakeSettings(catalog, data))
    try:
        for url, outlet, text in plan:
            store.write(Batch("run", articles=[make_article(url, outlet, text=text)]))
        return json.dumps({"conflicts": store.lake.writer.conflicts if store.lake else 0})
    finally:
        store.close()


@pytest.mark.slow
def test_three_processes_store_each_article_once(postgres, tmp_path: Path) -> None:
    """Three processes start on an empty catalog (creating its tables at the same moment) and
    write the same pages, and syndicated copies of them, at once: each page is stored once,
    and each story's copies share one story."""
    catalog = "postgres:" + postgres.create_database("lake_store")
    stories = [f"Story {n} " + " ".join(f"word{n}x{i}" for i in range(300)) for n in range(4)]
    pages = [(f"https://o{o}.example/story-{n}", f"o{o}", stories[n])
             for n in range(4) for o in range(3)]  # fmt: skip
    plans = [pages[k:] + pages[:k] for k in (0, 4, 8)]  # every process writes every page
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        results = pool.starmap(
            _writer,
            [(catalog, str(tmp_path / "d"), str(tmp_path / f"w{i}"), plan)
             for i, plan in enumerate(plans)],
        )  # fmt: skip
    check = _lake_store(tmp_path, catalog, "check")
    try:
        assert check.query("SELECT count(*), count(DISTINCT id) FROM articles").rows == [(12, 12)]
        story_rows = check.query(
            "SELECT count(DISTINCT story_id), count(*) FILTER (WHERE duplicate_of IS NULL) "
            "FROM articles"
        ).rows
        assert story_rows == [(4, 4)]
        assert check.query("SELECT min(copies), max(copies) FROM stories").rows == [(3, 3)]
        assert check.query(
            "SELECT count(*), count(DISTINCT seq), count(DISTINCT article_id) "
            "FROM article_fingerprints"
        ).rows == [(12, 12, 12)]
        assert check.query("SELECT count(DISTINCT url_key) = count(*) FROM article_urls").rows == [
            (True,)
        ]
    finally:
        check.close()
    assert len(results) == 3


@pytest.mark.slow
def test_a_missing_catalog_database_is_created(postgres, tmp_path: Path) -> None:
    """A new stack's PostgreSQL holds Prefect's database only; the lake's is made on first use."""
    store = _lake_store(tmp_path, "postgres:" + postgres.dsn("lake_made_on_first_use"))
    try:
        store.write(Batch("r1", articles=[make_article("https://a.example/one", "a")]))
        assert store.query("SELECT count(*) FROM articles").rows == [(1,)]
    finally:
        store.close()
