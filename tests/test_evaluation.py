"""The extraction evaluation's scoring rules (evaluation/extraction.py), on hand-made records."""

from __future__ import annotations

from evaluation.extraction import Truth, author_right, date_right, score, title_right, wcxb_half


def test_author_needs_every_full_name_and_nothing_else() -> None:
    assert author_right("Jillian Kubala, MS, RD", ["Jillian Kubala"])
    assert author_right("Maria & Katerina", ["Maria", "Katerina"])
    assert author_right(["Birgit Baumann", "Anna Fink"], ["Anna Fink", "Birgit Baumann"])
    assert not author_right("Chen Zhao, Daryl Fairweather", ["Chen Zhao"])  # one missing
    assert not author_right("Chen Zhao", ["Chen Zhao", "View more posts"])  # a UI string
    assert not author_right("Chen Zhao", [])
    assert not author_right("Ann Lee", ["Ann Leeson"])  # whole words only


def test_title_folds_case_space_compatibility_forms_and_typography_only() -> None:
    assert title_right("Baku  talks resume", "baku talks resume")
    assert title_right("ﬁnal offer", "final offer")
    assert title_right("We've “won” – again", 'We’ve "won" - again')
    assert not title_right("Baku talks resume", "Baku talks resume | Example News")


def test_date_within_one_day() -> None:
    assert date_right("2025-03-04", "2025-03-05T01:00:00+00:00")
    assert date_right("2025-03-04 15:47:42+00:00", "2025-03-03")
    assert not date_right("2025-03-04", "2025-03-06")
    assert not date_right("2025-03-04", None)


def test_score_counts_snippets_in_title_and_text() -> None:
    truth = Truth(title="T", with_=["the lead", "second line"], without=["Subscribe now"])
    got = {"title": "T", "text": "The lead.\nMore.", "authors": [], "date": None}
    figures = score(truth, got)
    assert figures["title"] == (1.0, 1)
    assert figures["with"] == (1.0, 2)
    assert figures["without"] == (1.0, 1)
    assert "author" not in figures and "body F1" not in figures


def test_wcxb_halves_are_fixed_by_id_and_both_used() -> None:
    halves = [wcxb_half(f"{n:04d}") for n in range(1, 201)]
    assert halves == [wcxb_half(f"{n:04d}") for n in range(1, 201)]
    assert 60 < halves.count("dev") < 140
