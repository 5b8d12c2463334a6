"""One alert per event across languages: reports of one event in en/ru/az become one story with
one alert listing its languages; reports of two events stay two. Real DuckDB, a real webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from evaluation.rules import SETS, load_set
from extractors.crosslang import event_key, name_key, rarity_from, same_event
from extractors.records import Batch
from extractors.workers import Scorer
from flows.alerts import run_alerts
from flows.config import load
from storage.db import Store
from tests.support.configs import RULE
from tests.support.factories import make_article
from tests.support.server import Receiver

ROOT = Path(__file__).parents[1]
ITEMS = {item.id: item for name in SETS for item in load_set(name)}


def test_names_meet_across_scripts_and_inflections() -> None:
    keys = {name_key(w, lang) for w, lang in [("Алиев", "ru"), ("Aliyev", "en"), ("Əliyev", "az")]}
    assert len(keys) == 1
    assert name_key("Алиевым", "ru").startswith(name_key("Aliyev", "en"))
    assert name_key("Гаджизаде", "ru") == name_key("Hacızadə", "az") == name_key("Hajizada", "en")
    assert name_key("Джейхун", "ru") == name_key("Ceyhun", "az") == name_key("Jeyhun", "en")
    assert name_key("Baku", "en") != name_key("Moscow", "en")
    key = event_key("", "Товарооборот 4,5 миллиарда долларов, 1,500 тонн, 2030 год, 7 дней", "ru")
    assert key.numbers == {"4.5", "1500", "2030"}  # single digits say nothing


def test_figures_decide_between_two_events_with_the_same_officials() -> None:
    keys = {i: event_key(ITEMS[i].title, ITEMS[i].text, ITEMS[i].lang) for i in ITEMS}
    rarity = rarity_from(keys.values())
    one = same_event(keys["en-held2-pos-01"], keys["ru-held2-pos-01"], rarity)
    assert one.same and any(f.startswith("#") for f in one.shared)
    # Overchuk and Mustafayev in both, but a freight target and a customs protocol.
    two = same_event(keys["en-held-pos-02"], keys["ru-held-pos-02"], rarity)
    assert not two.same and any("vrc" in f for f in two.shared)
    assert not same_event(keys["en-held2-pos-01"], keys["en-held2-pos-01"], rarity).same


def test_one_event_in_three_languages_is_one_story_with_one_alert(tmp_path: Path) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        path = tmp_path / "c.toml"
        path.write_text(
            f'{RULE}\n[alerts]\nchannels = ["json://127.0.0.1:{receiver.port}/a"]\n',
            encoding="utf-8",
        )
        config = load(path)
        now = datetime.now(UTC)
        picked = [
            "en-held2-pos-01",
            "ru-held2-pos-01",
            "az-held2-pos-01",  # one event
            "en-held-pos-02",
            "ru-held-pos-02",
        ]  # two events, the same officials
        articles = []
        for n, item_id in enumerate(picked):
            item = ITEMS[item_id]
            article = make_article(
                f"https://news{n}.example/news/{item_id}-a-b", f"outlet{n}", text=item.text,
                title=item.title, language=item.lang, published_at=now - timedelta(hours=5 - n),
            )  # fmt: skip
            article.topics = Scorer(config.rules).scores(article.title, article.text)
            articles.append(article)
        store = Store(tmp_path / "n.duckdb")
        store.write(Batch("r", articles=articles))
        summary = run_alerts(config, store, now)
        assert (summary.joined, summary.created, summary.errors) == (2, 3, [])
        stories = store.query(
            "SELECT story_id, list(language ORDER BY language) FROM articles GROUP BY 1 ORDER BY 2"
        ).rows
        assert sorted(langs for _, langs in stories) == [["az", "en", "ru"], ["en"], ["ru"]]
        titles = [m["title"] for m in receiver.messages]
        assert len(titles) == 3
        joined = [m for m in receiver.messages if "Reported in:" in m["message"]]
        assert len(joined) == 1 and "Reported in: az, en, ru" in joined[0]["message"]
        # A later pass finds nothing more to join and sends nothing again.
        again = run_alerts(config, store, now + timedelta(minutes=5))
        assert (again.joined, again.created, len(receiver.messages)) == (0, 0, 3)
    finally:
        receiver.stop()
