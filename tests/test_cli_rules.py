"""`newsmon rules ...` and `newsmon alerts` in process (typer's runner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from evaluation.rules import load_set
from extractors.records import Batch
from extractors.workers import Scorer
from flows.cli import app
from flows.config import load
from storage.db import Store
from tests.support.configs import RULE, config_text, outlet_toml, write_config
from tests.support.factories import make_article

ROOT = Path(__file__).parents[1]
CONFIG = str(ROOT / "newsmon.toml")
ITEMS = {item.id: item for item in load_set("original")}
runner = CliRunner()


def test_rules_test_explains_a_match_and_a_stored_non_match(tmp_path: Path) -> None:
    text = ITEMS["ru-pos-03"].text
    result = runner.invoke(app, ["rules", "test", text, "--config", CONFIG])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "azerbaijan-russia: MATCH"
    assert lines[2].startswith("  mentions/minimum: azerbaijan ")
    assert "azerbaijan NEAR/15 russia NEAR/15 relations: yes, within 15 words: “" in result.output
    db = tmp_path / "n.duckdb"
    url = "https://news.example/news/stored-story-a-b"
    neg = ITEMS["en-neg-01"]  # Armenia–Azerbaijan delimitation: Russia named once
    Store(db).write(Batch("r", articles=[make_article(url, "news", text=neg.text)]))
    result = runner.invoke(app, ["rules", "test", url, "--db", str(db), "--config", CONFIG])
    assert result.exit_code == 0, result.output
    block = result.output.splitlines()
    # One short block: the verdict with its reasons, groups, each condition, score, terms.
    assert block[0].startswith("azerbaijan-russia: no match: azerbaijan NEAR/15 russia NEAR/15")
    assert "russia 1 < 2" in block[0]
    assert any(line.startswith("  commerce > relations: ") for line in block)
    assert any(line.startswith("  score ") and "threshold 5" in line for line in block)
    assert any(line.startswith("  fired: ") for line in block)
    conditions = [
        line for line in block if line.startswith("  ") and " NEAR/" in line.split(":")[0]
    ]
    conditions += [line for line in block if line.startswith("  commerce > relations: ")]
    assert len(conditions) == 8  # every NEAR and `>` of the shipped rule, one line each
    assert len(block) - len(conditions) <= 6  # head, rule, mentions, score, fired, excluded
    missing = runner.invoke(app, ["rules", "test", "https://nowhere.example/x", "--db", str(db)])
    assert missing.exit_code == 2


def test_rules_test_on_files(tmp_path: Path) -> None:
    item = ITEMS["az-pos-01"]
    path = tmp_path / "article.txt"
    path.write_text(item.text, encoding="utf-8")
    result = runner.invoke(app, ["rules", "test", str(path), "--config", CONFIG])
    assert result.exit_code == 0 and result.output.startswith("azerbaijan-russia: MATCH")
    for target, message in [
        (str(tmp_path / "missing.txt"), "no such file"),
        ("/missing/file", "no such file: /missing/file"),
        (str(tmp_path), "is a folder"),
    ]:
        result = runner.invoke(app, ["rules", "test", target, "--config", CONFIG])
        assert result.exit_code == 2, (target, result.output)
        assert message in result.output and "azerbaijan-russia" not in result.output


def test_rescore_after_a_rule_change(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    outlet = outlet_toml("news", "https://news.example/")
    write_config(config, config_text(outlet) + RULE)
    rules = load(config).rules
    db = tmp_path / "n.duckdb"
    item = ITEMS["en-pos-02"]
    article = make_article("https://news.example/news/a-b-c", "news", text=item.text,
                           title=item.title, published_at=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    article.topics = Scorer(rules).scores(article.title, article.text)
    Store(db).write(Batch("r", articles=[article]))
    assert Store(db).query("SELECT matched FROM article_topics").rows == [(True,)]
    # Make the rule impossible to satisfy, re-score: the stored match follows the rule.
    impossible = RULE.replace("threshold = 5\n", "threshold = 100000\n")
    assert impossible != RULE
    write_config(config, config_text(outlet) + impossible)
    result = runner.invoke(app, ["rules", "rescore", "--config", str(config), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "re-scored 1 article(s)" in result.output
    assert Store(db).query("SELECT matched FROM article_topics").rows == [(False,)]


def test_alerts_listing(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    Store(db).initialise()
    result = runner.invoke(app, ["alerts", "--db", str(db), "--atom", str(tmp_path / "a.xml")])
    assert result.exit_code == 0 and "no alerts yet" in result.output
    assert (tmp_path / "a.xml").read_text(encoding="utf-8").startswith("<?xml")
