"""Per-rule channels and health channels, routed by Apprise tags: two real JSON webhooks on
127.0.0.1, no Prefect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.records import Batch, HealthState
from extractors.workers import Scorer
from flows.alerts import run_alerts
from flows.config import ConfigError, load
from flows.health import check_health
from storage.db import Store
from tests.support.factories import make_article
from tests.support.server import Receiver

RULES = """
[[outlet]]
id = "news"
name = "News"
homepage = "https://news.example/"
language = "en"

[[rule]]
id = "desk-rule"
match = "baku"
min_mentions = 1
channels = ["desk"]
[rule.terms.baku]
en = ["Baku"]

[[rule]]
id = "default-rule"
match = "moscow"
min_mentions = 1
[rule.terms.moscow]
en = ["Moscow"]
"""


@pytest.fixture
def hooks() -> Iterator[tuple[Receiver, Receiver]]:
    default, desk = Receiver(), Receiver()
    default.start()
    desk.start()
    yield default, desk
    default.stop()
    desk.stop()


def config(tmp_path: Path, default: Receiver, desk: Receiver, extra: str = ""):  # noqa: ANN201
    path = tmp_path / "c.toml"
    path.write_text(
        RULES + "\n[alerts]\nretry_base_s = 0\n" + extra + "channels = ["
        f'"json://127.0.0.1:{default.port}/default", '
        f'{{ url = "json://127.0.0.1:{desk.port}/desk", tags = ["desk"] }}]\n',
        encoding="utf-8",
    )
    return load(path)


def test_a_rule_with_its_own_channel_notifies_only_that_channel(
    tmp_path: Path, hooks: tuple[Receiver, Receiver]
) -> None:
    default, desk = hooks
    cfg = config(tmp_path, default, desk)
    store = Store(tmp_path / "n.duckdb")
    now = datetime.now(UTC)
    articles = [
        make_article("https://news.example/news/baku-story-a-b", "news", title="Baku story",
                     text="A report from Baku. " * 30, published_at=now - timedelta(hours=1)),
        make_article("https://news.example/news/moscow-story-a-b", "news", title="Moscow story",
                     text="A report from Moscow. " * 30, published_at=now - timedelta(hours=1)),
    ]  # fmt: skip
    for article in articles:
        article.topics = Scorer(cfg.rules).scores(article.title, article.text)
    store.write(Batch("r", articles=articles))
    summary = run_alerts(cfg, store)
    assert (summary.created, summary.sent, summary.failed, summary.errors) == (2, 2, 0, [])
    assert [m["title"] for m in desk.messages] == ["[desk-rule] Baku story"]
    assert [m["title"] for m in default.messages] == ["[default-rule] Moscow story"]
    rows = store.query(
        "SELECT a.rule_id, d.channel_label FROM alert_deliveries d JOIN alerts a USING (alert_id) "
        "ORDER BY 1"
    ).rows
    assert rows == [
        ("default-rule", f"json://127.0.0.1:{default.port}/default"),
        ("desk-rule", f"json://127.0.0.1:{desk.port}/desk"),
    ]


def test_health_news_goes_to_its_own_channels(
    tmp_path: Path, hooks: tuple[Receiver, Receiver]
) -> None:
    default, desk = hooks
    for extra, got, quiet in [('health_channels = ["desk"]\n', desk, default), ("", default, desk)]:
        store = Store(tmp_path / f"h{len(extra)}.duckdb")
        store.initialise()
        # The outlet was degraded; with no runs in this store it is judged new: a change.
        store.record_health([HealthState("news", "degraded", "layout changed")], {"new"})
        before, silent = len(got.messages), len(quiet.messages)
        result = check_health(config(tmp_path, default, desk, extra), store)
        assert result.errors == [] and result.notified >= 1
        assert len(got.messages) > before and all("news" in m["title"] for m in got.messages)
        assert len(quiet.messages) == silent


def test_channel_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    for alerts, message in [
        ('channels = ["json://127.0.0.1:9/a"]\n', "rule desk-rule names channel tag 'desk'"),
        (
            'channels = [{ url = "json://x:9/a", tags = ["a b"] }]\n',
            "'tags' must be a list of words",
        ),
        ('channels = [{ url = "nourl" }]\n', "must list Apprise URLs"),
        (
            'channels = [{ url = "json://x:9/a", tags = ["desk"] }]\nhealth_channels = ["ops"]\n',
            "health_channels names channel tag 'ops'",
        ),
    ]:
        path.write_text(RULES + "\n[alerts]\n" + alerts, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load(path)
