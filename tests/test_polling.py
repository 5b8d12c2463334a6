"""Adaptive polling and failure backoff: the pure rules, and the schedule read from the config."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extractors.records import FailureKind, Outlet, OutletReport, PollState
from flows.config import ConfigError, parse
from flows.polling import PollPolicy, due, next_poll

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(interval_s=900, min_s=300, max_s=7200, max_backoff_s=6 * 3600)


def report(status: str = "ok", fetched: int = 3) -> OutletReport:
    return OutletReport("r", "x", "X", NOW, NOW, fetched=fetched, status=status)


def settle(published: int, polls: int = 12) -> float:
    """The interval an outlet settles at after a series of successful polls."""
    state = None
    for _ in range(polls):
        state = next_poll(POLICY, state, report(), published, None, NOW)
    assert state is not None
    return state.interval_s


def test_pace_follows_how_often_the_outlet_publishes() -> None:
    hourly = settle(published=14 * 24)
    busy = settle(published=14 * 200)
    quiet = settle(published=3)
    assert busy == POLICY.min_s  # bounded below
    assert quiet == POLICY.max_s  # bounded above
    assert 800 < hourly < 1000  # one new article every ~4 polls: about 15 minutes
    assert busy < hourly < quiet


def test_one_busy_day_moves_the_pace_only_part_of_the_way() -> None:
    calm = PollState("x", 3600, NOW, 0)
    after = next_poll(POLICY, calm, report(), 14 * 200, None, NOW)
    assert POLICY.min_s < after.interval_s < calm.interval_s


def test_failures_back_off_exponentially_up_to_the_cap_and_recover_at_once() -> None:
    state = PollState("x", 900, NOW, 0)
    waits = []
    for _ in range(8):
        state = next_poll(POLICY, state, report("failed", fetched=0), 0, None, NOW)
        waits.append((state.next_due_at - NOW).total_seconds())
    assert state.failures == 8
    assert waits[1] > waits[0] * 1.5 and waits[2] > waits[1] * 1.5
    assert max(waits) <= POLICY.max_backoff_s * 1.1  # capped (with at most 10% jitter)
    assert state.interval_s == 900  # the learned pace is kept for the recovery
    recovered = next_poll(POLICY, state, report(), 14 * 24, None, NOW)
    assert recovered.failures == 0
    assert (recovered.next_due_at - NOW).total_seconds() < 1000


def test_a_bot_wall_backs_off_for_hours_not_minutes() -> None:
    walled = dataclasses.replace(report("failed", fetched=0), error_kind=FailureKind.ANTI_BOT)
    down = report("failed", fetched=0)
    wall_state = down_state = None
    for _ in range(6):
        wall_state = next_poll(POLICY, wall_state, walled, 0, None, NOW)
        down_state = next_poll(POLICY, down_state, down, 0, None, NOW)
        wall_wait = (wall_state.next_due_at - NOW).total_seconds()
        down_wait = (down_state.next_due_at - NOW).total_seconds()
        assert wall_wait > down_wait  # every step, with jitter on both sides
        assert wall_wait <= POLICY.max_walled_s * 1.1
    assert wall_state is not None and wall_state.reason is not None
    assert wall_state.reason.startswith("blocked by a bot wall (6 in a row)")
    first = next_poll(POLICY, None, walled, 0, None, NOW)
    assert (first.next_due_at - NOW).total_seconds() >= POLICY.walled_s * 0.9


def test_pages_that_arrive_but_yield_nothing_are_not_a_fetch_failure() -> None:
    """A layout change is for health to report, not a reason to poll less."""
    state = next_poll(POLICY, None, report("failed", fetched=4), 14 * 24, None, NOW)
    assert state.failures == 0


def test_retry_after_is_honoured() -> None:
    hold = NOW + timedelta(hours=3)
    state = next_poll(POLICY, None, report("failed", fetched=0), 0, hold, NOW)
    assert state.next_due_at == hold
    assert "Retry-After" in (state.reason or "")


def test_unknown_publication_count_keeps_the_learned_pace() -> None:
    state = next_poll(POLICY, PollState("x", 1234, NOW, 0), report(), None, None, NOW)
    assert state.interval_s == 1234


def test_fixed_interval_when_adaptation_is_off() -> None:
    fixed = PollPolicy(interval_s=600, min_s=60, max_s=6000, adaptive=False)
    assert next_poll(fixed, None, report(), 10_000, None, NOW).interval_s == 600


def test_due_outlets_include_new_ones_and_those_due_before_the_next_tick() -> None:
    outlets = [Outlet(i, i, f"https://{i}.example/", "en") for i in ("a", "b", "c", "d")]
    states = {
        "a": PollState("a", 900, NOW - timedelta(minutes=1)),
        "b": PollState("b", 900, NOW + timedelta(seconds=20)),
        "c": PollState("c", 900, NOW + timedelta(minutes=10)),
    }
    assert [o.id for o in due(outlets, states, NOW, slack_s=30)] == ["a", "b", "d"]


def outlet(**kw: object) -> dict[str, object]:
    return {"id": "o", "name": "O", "homepage": "https://o.example/", "language": "en", **kw}


def test_schedule_from_config_globally_and_per_outlet() -> None:
    cfg = parse(
        {
            "schedule": {"interval_minutes": 10, "max_interval_minutes": 60},
            "outlet": [outlet(), outlet(id="p", interval_minutes=1, min_interval_minutes=1)],
        },
        Path("t.toml"),
    )
    assert cfg.schedule.policy("o") == PollPolicy(600, 300, 3600, 21600, True)
    assert cfg.schedule.policy("p").interval_s == 60
    assert cfg.schedule.tick_s(["o", "p"]) == 60
    assert cfg.schedule.tick_s(["o"]) == 300


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"schedule": {"interval_minutes": 0}}, "more than 0"),
        ({"schedule": {"interval_minutes": 300}, "outlet": []}, None),
        ({"schedule": {"min_interval_minutes": 30}}, "min_interval_minutes <= interval_minutes"),
        ({"schedule": {"health_report": "25:00"}}, "HH:MM"),
        ({"schedule": {"every": 5}}, "unknown key 'every'"),
        ({"outlet": [outlet(max_interval_minutes=1)]}, "outlet[0] (o): need min_interval"),
    ],
)
def test_schedule_errors_name_the_key(raw: dict, message: str | None) -> None:
    if message is None:
        assert parse(raw, Path("t.toml")).schedule.default.max_s == 300 * 60
        return
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(raw, Path("t.toml"))
