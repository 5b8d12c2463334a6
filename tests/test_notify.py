"""Alert channels and the outbox without Prefect: secrets, digests, retries, the Atom feed."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evaluation.rules import load_set
from extractors.records import Batch
from extractors.workers import Scorer
from flows.alerts import run_alerts, write_atom
from flows.config import load
from flows.notify import Notifier
from storage.db import Store
from tests.support.configs import RULE
from tests.support.factories import make_article
from tests.support.server import Receiver

ITEMS = {item.id: item for item in load_set("original")}

ROOT = Path(__file__).parents[1]


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config_with(tmp_path: Path, alerts: str):  # noqa: ANN201
    path = tmp_path / "c.toml"
    path.write_text(RULE + "\n[alerts]\n" + alerts, encoding="utf-8")
    return load(path)


def scored(articles: list, rules: tuple) -> list:
    """The articles with the topic scores an extraction worker gives them."""
    scorer = Scorer(rules)
    for a in articles:
        a.topics = scorer.scores(a.title, a.text)
    return articles


def store_matches(tmp_path: Path, config, ids: list[str]) -> Store:  # noqa: ANN001
    store = Store(tmp_path / "n.duckdb")
    now = datetime.now(UTC)
    articles = [
        make_article(f"https://news.example/news/story-{i}-a-b", "news", text=ITEMS[item].text,
                     title=ITEMS[item].title, published_at=now - timedelta(hours=1))
        for i, item in enumerate(ids)
    ]  # fmt: skip
    scored(articles, config.rules)
    store.write(Batch("r1", articles=articles))
    return store


def test_secrets_stay_out_of_errors_labels_and_database(tmp_path: Path) -> None:
    port = closed_port()
    secret = "s3cr3t-T0ken-value"
    config = config_with(
        tmp_path, f'channels = ["json://user:{secret}@127.0.0.1:{port}/hook"]\nretry_base_s = 0\n'
    )
    store = store_matches(tmp_path, config, ["en-pos-01"])
    summary = run_alerts(config, store)
    assert (summary.created, summary.sent, summary.failed) == (1, 0, 1)
    assert secret not in " ".join(summary.errors)
    dump = store.query(
        "SELECT channel, channel_label, state, last_error FROM alert_deliveries"
    ).rows
    assert dump and dump[0][2] == "pending"
    assert secret not in repr(dump)
    assert (
        Notifier.from_url(f"json://user:{secret}@127.0.0.1:{port}/hook").channel.label.count(secret)
        == 0
    )


def test_digest_sends_one_message_for_many_alerts(tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        config = config_with(
            tmp_path, f'channels = ["json://127.0.0.1:{receiver.port}/d"]\ndigest_minutes = 60\n'
        )
        store = store_matches(tmp_path, config, ["en-pos-01", "en-pos-02", "ru-pos-01"])
        summary = run_alerts(config, store)
        assert summary.created == 3 and summary.sent == 3
        assert len(receiver.messages) == 1 and "3 new alert(s)" in receiver.messages[0]["title"]
        # Within the period, new alerts wait for the next digest.
        more = make_article("https://news.example/news/later-story-x-y", "news", text=ITEMS["az-pos-01"].text,
                            title=ITEMS["az-pos-01"].title, published_at=datetime.now(UTC))  # fmt: skip
        store.write(Batch("r2", articles=scored([more], config.rules)))
        summary = run_alerts(config, store)
        assert summary.created == 1 and summary.sent == 0 and len(receiver.messages) == 1
    finally:
        receiver.stop()


def test_back_catalogue_outside_the_window_does_not_alert(tmp_path: Path) -> None:
    config = config_with(tmp_path, "window_hours = 48\n")
    store = Store(tmp_path / "n.duckdb")
    old = make_article("https://news.example/news/old-story-a-b", "news", text=ITEMS["en-pos-05"].text,
                       title=ITEMS["en-pos-05"].title, published_at=datetime.now(UTC) - timedelta(days=3))  # fmt: skip
    store.write(Batch("r1", articles=scored([old], config.rules)))
    assert run_alerts(config, store).created == 0
    assert store.query("SELECT matched FROM article_topics").rows == [(True,)]  # scored and stored


def test_atom_feed_of_alerts(tmp_path: Path) -> None:
    import feedparser

    config = config_with(tmp_path, "")
    store = store_matches(tmp_path, config, ["en-pos-01", "ru-pos-02"])
    run_alerts(config, store)
    path = tmp_path / "alerts.xml"
    assert write_atom(store, path) == 2
    feed = feedparser.parse(path.read_bytes())
    assert feed.version == "atom10" and len(feed.entries) == 2
    assert {e.title for e in feed.entries} == {
        ITEMS["en-pos-01"].title,
        ITEMS["ru-pos-02"].title,
    }
    assert all("Why: " in e.summary for e in feed.entries)
