"""When to poll each outlet next: adaptive to how often it publishes, backing off while it fails.

Scheduled runs tick at the shortest interval any outlet may need; each tick polls only the
outlets that are due. An outlet publishing about once an hour is polled every 15 minutes, a busy
one down to its minimum interval, a quiet one up to its maximum. A failing outlet waits twice as long
after each failure (and at least as long as its Retry-After asked), and is back on its normal
pace after the first poll that works. Behind a bot wall the waits start at hours, not minutes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from extractors.records import FailureKind, Outlet, OutletReport, PollState, RunStatus

RATE_WINDOW = timedelta(days=14)
NEW_PER_POLL = 0.25  # an outlet publishing hourly is polled every 15 minutes


@dataclass(frozen=True)
class PollPolicy:
    interval_s: float = 15 * 60.0  # the normal pace, and the start for an outlet with no history
    min_s: float = 5 * 60.0  # busiest
    max_s: float = 120 * 60.0  # quietest
    max_backoff_s: float = 6 * 3600.0  # longest wait between attempts on a failing outlet
    adaptive: bool = True
    # Behind a bot wall: asking again soon shows the wall more bot traffic and gets nothing.
    # The wall depends on the network asked from, and its operators' moods change in hours.
    walled_s: float = 3 * 3600.0  # first wait after a bot wall, doubling while it stays
    max_walled_s: float = 24 * 3600.0

    @property
    def shortest_s(self) -> float:
        return self.min_s if self.adaptive else self.interval_s


@dataclass(frozen=True)
class Schedule:
    default: PollPolicy = field(default_factory=PollPolicy)
    outlets: dict[str, PollPolicy] = field(default_factory=dict)
    health_report: str | None = "08:00"  # daily health report, UTC "HH:MM"; None = off

    def policy(self, outlet_id: str) -> PollPolicy:
        return self.outlets.get(outlet_id, self.default)

    def tick_s(self, outlet_ids: Sequence[str]) -> float:
        """How often scheduled runs must look for due outlets."""
        return min((self.policy(o).shortest_s for o in outlet_ids), default=self.default.interval_s)


def due(
    outlets: Sequence[Outlet], states: dict[str, PollState], now: datetime, slack_s: float
) -> list[Outlet]:
    """Outlets whose next poll falls before the next tick would come round (within `slack_s`,
    so a run that starts a few seconds early does not skip an outlet for a whole tick)."""
    horizon = now + timedelta(seconds=slack_s)
    return [o for o in outlets if o.id not in states or states[o.id].next_due_at <= horizon]


def next_poll(
    policy: PollPolicy,
    previous: PollState | None,
    report: OutletReport,
    published_recently: int | None,
    hold_until: datetime | None,
    now: datetime,
) -> PollState:
    """`published_recently`: articles the outlet published within RATE_WINDOW, this pass's
    included (None: unknown, keep the pace). `hold_until`: the end of the longest Retry-After the outlet's host sent."""
    learned = previous.interval_s if previous else policy.interval_s
    if report.status == RunStatus.FAILED and report.fetched == 0:
        failures = (previous.failures if previous else 0) + 1
        if report.error_kind == FailureKind.ANTI_BOT:
            wait = min(policy.max_walled_s, policy.walled_s * 2 ** (failures - 1))
            reason = f"blocked by a bot wall ({failures} in a row): backing off longer"
        else:
            wait = min(policy.max_backoff_s, policy.interval_s * 2 ** (failures - 1))
            reason = f"failing ({failures} in a row): backing off"
        # Jitter, so outlets that failed together (a network outage) do not retry in lockstep.
        wait *= random.uniform(0.9, 1.1)
        interval = learned
    else:
        failures = 0
        interval = _adapt(policy, learned, published_recently)
        wait = interval
        reason = (
            f"{published_recently} published in {RATE_WINDOW.days} days"
            if policy.adaptive
            else "fixed interval"
        )
    next_due = now + timedelta(seconds=wait)
    if hold_until is not None and hold_until > next_due:
        next_due, reason = hold_until, reason + "; the site asked us to wait (Retry-After)"
    return PollState(report.outlet_id, interval, next_due, failures, now, reason)


def _adapt(policy: PollPolicy, learned: float, published: int | None) -> float:
    if not policy.adaptive:
        return policy.interval_s
    if published is None:
        return min(policy.max_s, max(policy.min_s, learned))
    rate = published / RATE_WINDOW.total_seconds()
    # Aim for a new article every few polls (an unchanged feed costs one conditional request),
    # and go halfway there each time, so one odd day of publishing does not swing the pace.
    target = NEW_PER_POLL / rate if rate > 0 else policy.max_s
    smoothed = math.sqrt(max(learned, 1.0) * target)
    return min(policy.max_s, max(policy.min_s, smoothed))
