"""Source health: the judgement on synthetic histories, and state changes recorded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from extractors.records import HealthState, OutletHistory, RunStats
from flows.health import assess
from storage.db import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def run(
    age_h: float,
    fetched: int = 4,
    extracted: int | None = None,
    dated: int | None = None,
    status: str = "ok",
    requests: int = 10,
    errors: int = 0,
) -> RunStats:
    extracted = fetched if extracted is None else extracted
    return RunStats(
        f"r{age_h}", NOW - timedelta(hours=age_h), status, fetched, extracted,
        extracted if dated is None else dated, extracted, requests, errors,
        "cannot connect: refused" if status == "failed" else None,
    )  # fmt: skip


def history(runs: list[RunStats], last_h: float = 1, per_day: float = 10) -> OutletHistory:
    return OutletHistory(
        "x", sorted(runs, key=lambda r: r.started_at, reverse=True),
        NOW - timedelta(hours=last_h), int(per_day * 7), int(per_day * 30),
    )  # fmt: skip


GOOD = [run(h) for h in range(10, 60, 5)]


def test_a_healthy_outlet_is_ok_with_its_figures() -> None:
    h = assess("x", history(GOOD), NOW)
    assert (h.state, h.text_yield, h.normal_yield, h.error_rate) == ("ok", 1.0, 1.0, 0.0)
    assert h.new_per_day == 10


def test_no_runs_is_new() -> None:
    assert assess("x", None, NOW).state == "new"


def test_failing_needs_two_polls_that_fetched_nothing() -> None:
    one = history([run(1, fetched=0, status="failed", errors=10), *GOOD])
    two = history([run(1, 0, status="failed"), run(2, 0, status="failed"), *GOOD])
    assert assess("x", one, NOW).state == "ok"
    verdict = assess("x", two, NOW)
    assert verdict.state == "failing" and "cannot connect" in verdict.reason


def test_text_vanishing_is_degraded_within_two_runs() -> None:
    first = history([run(1, extracted=0), *GOOD])
    second = history([run(1, extracted=0), run(2, extracted=0), *GOOD])
    assert assess("x", first, NOW).state == "ok"  # one bad run is no verdict yet
    verdict = assess("x", second, NOW)
    assert verdict.state == "degraded"
    assert verdict.reason == "0 of 8 fetched pages had article text (normally 100%)"


def test_yield_is_judged_against_the_outlets_own_normal() -> None:
    """An outlet whose listing always yields some non-articles is not degraded for it."""
    usual = [run(h, fetched=10, extracted=3) for h in range(10, 60, 5)]
    recent = [run(1, fetched=10, extracted=3), run(2, fetched=10, extracted=2)]
    assert assess("x", history(recent + usual), NOW).state == "ok"


def test_too_few_recent_pages_are_no_evidence() -> None:
    thin = history([run(1, fetched=1, extracted=0), run(2, fetched=1, extracted=0), *GOOD])
    assert assess("x", thin, NOW).state == "ok"


def test_without_a_normal_a_yield_near_zero_is_degraded() -> None:
    assert assess("x", history([run(1, fetched=5, extracted=0)]), NOW).state == "degraded"


def test_dates_vanishing_is_degraded() -> None:
    recent = [run(1, dated=0), run(2, dated=0)]
    verdict = assess("x", history(recent + GOOD), NOW)
    assert verdict.state == "degraded" and "had a date" in verdict.reason


def test_stale_when_silent_much_longer_than_usual() -> None:
    busy_but_silent = history(GOOD, last_h=40, per_day=10)  # usually one every 2.4 h
    quiet = history(GOOD, last_h=40, per_day=0.5)  # usually one every 2 days
    verdict = assess("x", busy_but_silent, NOW)
    assert verdict.state == "stale" and "nothing new for 40.0 h" in verdict.reason
    assert assess("x", quiet, NOW).state == "ok"
    assert assess("x", history(GOOD, last_h=8, per_day=10), NOW).state == "ok"  # under 12 h


def test_changes_of_state_are_recorded_once_and_new_to_ok_is_silent(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.duckdb")
    store.initialise()

    def record(*states: tuple[str, str]) -> list[tuple[str, str | None, str]]:
        created, _ = store.record_health([HealthState(o, s, "") for o, s in states], {"new"})
        return [(e.outlet_id, e.old_state, e.new_state) for e in created]

    assert record(("a", "new"), ("b", "failing")) == [("b", None, "failing")]
    assert record(("a", "ok"), ("b", "failing")) == []
    assert record(("a", "degraded"), ("b", "failing")) == [("a", "ok", "degraded")]
    assert record(("a", "degraded"), ("b", "ok")) == [("b", "failing", "ok")]
    assert record(("a", "ok"), ("b", "ok")) == [("a", "degraded", "ok")]


def test_owed_notifications_are_claimed_once_until_finished(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.duckdb")
    store.initialise()
    created, owed = store.record_health([HealthState("a", "failing", "x")], {"new"}, 5)
    assert [e.event_id for e in owed] == [e.event_id for e in created]
    _, again = store.record_health([HealthState("a", "failing", "x")], {"new"}, 5)
    assert again == []  # claimed by the first caller, not yet stale
    store.finish_health_events([(owed[0].event_id, "channel down")])
    _, retry = store.record_health([HealthState("a", "failing", "x")], {"new"}, 5)
    assert [e.attempts for e in retry] == [2]
    store.finish_health_events([(retry[0].event_id, None)])
    assert store.record_health([HealthState("a", "failing", "x")], {"new"}, 5)[1] == []
    assert store.health_events(5)[0][5] is not None  # notified_at
