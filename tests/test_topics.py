"""Topic rules: matching, expressions, the shipped rule on the labelled multilingual set."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from extractors.topics import Rule, RuleError, Term, score
from flows.config import ConfigError, load
from flows.evaluate_rules import evaluate, load_set

ROOT = Path(__file__).parents[1]
SHIPPED = load(ROOT / "newsmon.toml").rules[0]


def rule(expression: str, **groups: list[str]) -> Rule:
    return Rule(
        "r", "R", expression, {k: tuple(Term.parse(t) for t in v) for k, v in groups.items()},
        min_mentions=1, title_weight=2.0,
    )  # fmt: skip


def test_case_diacritics_and_whole_words() -> None:
    r = rule("az", az=["Əliyev*", "Baku", "Azərbaycan*"])
    assert score(r, "", "ƏLİYEV dedi").matched
    assert score(r, "", "Prezident Eliyev").matched  # without diacritics too
    assert score(r, "", "Azərbaycanın xarici işlər naziri").matched  # suffix
    assert not score(r, "", "Bakunin wrote about anarchism").matched  # no substrings
    assert score(r, "", "in Baku's old city").matched


def test_russian_inflection_and_phrases() -> None:
    r = rule("ru", ru=["Азербайдж*", "Русский дом"])
    m = score(
        r,
        "",
        "Посол Азербайджана и азербайджанская делегация; закрытие «Русского дома»? Нет: Русский дом закрыт.",
    )
    assert m.matched and m.groups["ru"] == 3  # phrase needs its exact last word without *


def test_title_weight_and_terms_reported() -> None:
    r = rule("a", a=["Baku"])
    m = score(r, "Baku summit", "Talks in Baku.")
    assert m.groups["a"] == 3 and m.terms == ["a: Baku ×2 (title ×1)"]


def test_overlapping_terms_count_a_word_once() -> None:
    r = rule("a", a=["Kreml*", "Kremlin*"])
    assert score(r, "", "The Kremlin said").groups["a"] == 1


def test_expressions() -> None:
    r = rule("a AND NOT b OR (c AND a)", a=["alpha"], b=["beta"], c=["gamma"])
    assert score(r, "", "alpha").matched
    assert not score(r, "", "alpha beta").matched
    assert score(r, "", "alpha beta gamma").matched
    near = rule("a NEAR b", a=["alpha"], b=["beta"])
    assert score(near, "", "alpha beta").matched
    assert not score(near, "", "alpha " + "x " * 40 + "beta").matched
    more = rule("a AND NOT (b > a)", a=["alpha"], b=["beta"])
    assert score(more, "", "alpha alpha beta").matched
    assert not score(more, "", "alpha beta beta").matched


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("a AND", "ends too early"),
        ("a OR zeta", "unknown term group 'zeta'"),
        ("(a", "ends too early"),
        ("(a b)", "missing"),
        ("", "empty"),
    ],
)
def test_bad_expressions(expression: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        rule(expression, a=["alpha"])


def test_config_errors_name_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[rule]]\nid = "x"\nmatch = "a AND b"\n[rule.terms.a]\nen = ["alpha"]\n', encoding="utf-8"
    )
    with pytest.raises(
        ConfigError, match=r"rule\[0\] \(x\): match expression names unknown term group 'b'"
    ):
        load(path)


def test_shipped_rule_meets_targets_per_language() -> None:
    tallies = evaluate(SHIPPED, load_set())
    assert set(tallies) == {"en", "ru", "az"}
    for lang, tally in tallies.items():
        assert tally.precision >= 0.95, (lang, tally.errors)
        assert tally.recall >= 0.95, (lang, tally.errors)


def test_signature_covers_everything_that_changes_a_score() -> None:
    base = rule("a NEAR b", a=["alpha"], b=["beta"])
    text = "alpha " + "x " * 25 + "beta"
    # Two rules that differ only in a group's minimum or the NEAR window score differently...
    stricter = dataclasses.replace(base, group_min_mentions={"a": 2})
    wider = dataclasses.replace(base, near_words=30)
    assert score(base, "", text).matched != score(wider, "", text).matched
    assert score(base, "", "alpha beta").matched != score(stricter, "", "alpha beta").matched
    # ...so their signatures differ: stored scores go stale and pool workers get the new rule.
    assert len({base.signature(), stricter.signature(), wider.signature()}) == 3
    # What does not change a score does not change the signature.
    assert dataclasses.replace(base, name="Other", alert=False).signature() == base.signature()
