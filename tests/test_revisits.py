"""Revisit policy (decaying schedule for fresh articles) and the diff of two versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from extractors.records import ChangedField
from extractors.versions import SUMMARY_CHARS, diff
from flows.revisits import RevisitPolicy, due_now, next_revisit

T0 = datetime(2025, 7, 8, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def schedule(policy: RevisitPolicy, published: datetime | None, fetched: datetime) -> list[float]:
    """Hours after the first fetch at which the article is revisited, until it is not."""
    out, last, count = [], fetched, 0
    while (due := next_revisit(policy, published, fetched, count, last)) is not None:
        out.append((due - fetched) / H)
        last, count = due, count + 1
        assert count < 50
    return out


def test_fresh_articles_are_revisited_on_a_decaying_schedule() -> None:
    assert schedule(RevisitPolicy(), None, T0) == [1, 3, 7, 15, 31]
    # Published 20 hours before it was found: fewer revisits are left in its first 48 hours.
    assert schedule(RevisitPolicy(), T0 - 20 * H, T0) == [1, 3, 7, 15]
    # Found when already two days old: never revisited.
    assert schedule(RevisitPolicy(), T0 - 49 * H, T0) == []
    # A date in the future (a wrong zone) counts from the fetch.
    assert schedule(RevisitPolicy(), T0 + 30 * H, T0) == [1, 3, 7, 15, 31]
    assert schedule(RevisitPolicy(enabled=False), None, T0) == []
    fast = RevisitPolicy(fresh_for=timedelta(hours=6), first_after=timedelta(minutes=30), factor=3)
    assert schedule(fast, None, T0) == [0.5, 2.0]


def test_due_is_decided_by_the_clock_passed_in() -> None:
    due = next_revisit(RevisitPolicy(), None, T0, 0, T0)
    assert due == T0 + H
    assert not due_now(due, T0 + 59 * timedelta(minutes=1))
    assert due_now(due, T0 + H)
    assert not due_now(None, T0 + 100 * H)


TEXT = (
    "Officials in Baku said on Monday that talks on the corridor would resume. "
    "Twelve people were injured in the blast, the ministry said. "
    "The delegation is expected in Moscow next week."
)


def test_a_changed_headline_and_figure_are_named_and_summarised() -> None:
    new_text = TEXT.replace("Twelve people were injured", "Fifteen people were injured")
    change = diff("Blast near border", TEXT, "Blast near border: 15 injured", new_text)
    assert change is not None
    assert change.fields == (ChangedField.TITLE, ChangedField.TEXT)
    assert '"Blast near border" -> "Blast near border: 15 injured"' in change.summary
    assert "+1 -1 words" in change.summary
    assert "Fifteen people were injured" in change.summary
    assert len(change.summary) <= SUMMARY_CHARS


def test_whitespace_and_quotes_are_no_change() -> None:
    assert diff("Talks resume", TEXT, "Talks  resume", TEXT.replace(". ", ".\n")) is None
    title_only = diff("Talks resume", TEXT, "Talks resumed", TEXT)
    assert title_only is not None and title_only.fields == (ChangedField.TITLE,)
    shorter = diff("T", TEXT, "T", TEXT.rsplit(" The delegation", 1)[0])
    assert shorter is not None and shorter.fields == (ChangedField.TEXT,)
    assert "removed" in shorter.summary and "+0 -8 words" in shorter.summary


def test_a_long_change_is_cut_to_one_line() -> None:
    change = diff("A" * 300, TEXT, "B" * 300, TEXT + " " + "word " * 500)
    assert change is not None and len(change.summary) <= SUMMARY_CHARS
    assert "\n" not in change.summary
