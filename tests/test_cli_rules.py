"""`newsmon rules ...`, `newsmon alerts` and `newsmon eval-rules` in process (typer's runner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from flows.config import load
from flows.pipeline import score_topics
from storage.db import Batch, Store
from tests.factories import make_article
from tests.test_alerts import ITEMS

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def test_rules_test_on_text_and_stored_article(tmp_path: Path) -> None:
    text = ITEMS["ru-pos-03"]["text"]
    result = runner.invoke(app, ["rules", "test", text, "--config", str(ROOT / "newsmon.toml")])
    assert result.exit_code == 0, result.output
    assert "azerbaijan-russia: MATCH" in result.output and "azerbaijan: " in result.output
    db = tmp_path / "n.duckdb"
    url = "https://news.example/news/stored-story-a-b"
    Store(db).write(
        Batch("r", articles=[make_article(url, "news", text=ITEMS["en-neg-01"]["text"])])
    )
    result = runner.invoke(
        app, ["rules", "test", url, "--db", str(db), "--config", str(ROOT / "newsmon.toml")]
    )
    assert result.exit_code == 0 and "no match" in result.output
    missing = runner.invoke(app, ["rules", "test", "https://nowhere.example/x", "--db", str(db)])
    assert missing.exit_code == 2


def test_rescore_after_a_rule_change(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    original = (ROOT / "newsmon.toml").read_text(encoding="utf-8")
    config.write_text(original, encoding="utf-8")
    rules = load(config).rules
    db = tmp_path / "n.duckdb"
    article = make_article("https://news.example/news/a-b-c", "news", text=ITEMS["en-pos-02"]["text"],
                           title=ITEMS["en-pos-02"]["title"], published_at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    Store(db).write(Batch("r", articles=[article], topics=score_topics([article], rules)))
    assert Store(db).query("SELECT matched FROM article_topics").rows == [(True,)]
    # Make the rule impossible to satisfy, re-score: the stored match follows the rule.
    config.write_text(original.replace("threshold = 5", "threshold = 100000"), encoding="utf-8")
    result = runner.invoke(app, ["rules", "rescore", "--config", str(config), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "re-scored 1 article(s)" in result.output
    assert Store(db).query("SELECT matched FROM article_topics").rows == [(False,)]


def test_alerts_listing_and_eval_rules(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    Store(db).initialise()
    result = runner.invoke(app, ["alerts", "--db", str(db), "--atom", str(tmp_path / "a.xml")])
    assert result.exit_code == 0 and "no alerts yet" in result.output
    assert (tmp_path / "a.xml").read_text(encoding="utf-8").startswith("<?xml")
    result = runner.invoke(
        app, ["eval-rules", "--config", str(ROOT / "newsmon.toml"), "--corpora", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert "precision" in result.output and "\naz " in result.output and "\nru " in result.output
