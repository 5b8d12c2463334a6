"""Source health: is each outlet still delivering what it used to?

Judged from the outlet's own history (runs and requests of the last 30 days), never from fixed
expectations: an outlet whose listing pages always yield some non-articles has a lower normal
yield, and that is fine; what matters is a drop against its own normal.

  failing   the last polls could not fetch anything (dead host, broken feed, errors)
  degraded  pages still arrive but yield no article text, or no date, where they used to:
            the layout probably changed
  stale     nothing new for much longer than the outlet's usual gap between articles
  ok        none of the above
  new       no runs yet (changes out of `new` into `ok` are not announced)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from extractors.records import (
    HealthEvent,
    HealthState,
    HealthStatus,
    OutletHistory,
    RunStats,
    RunStatus,
)
from flows.config import Config
from flows.notify import Channels
from storage.db import Store, StoreError

WINDOW = timedelta(days=30)
MAX_ATTEMPTS = 5
NO_CHANNEL = "no channel configured"
log = logging.getLogger("newsmon.health")


@dataclass(frozen=True)
class Thresholds:
    recent_runs: int = 2  # runs that fetched pages, judged together against the rest
    min_pages: int = 3  # fewer recent pages than this is no evidence either way
    min_normal_pages: int = 5
    drop: float = 0.5  # degraded below this share of the outlet's normal
    floor: float = 0.2  # degraded below this share when there is no normal yet
    failing_runs: int = 2  # consecutive polls that fetched nothing
    stale_gaps: float = 4.0  # stale after this many usual gaps without a new article...
    stale_min: timedelta = timedelta(hours=12)  # ...and never sooner than this


@dataclass(frozen=True)
class OutletHealth:
    outlet_id: str
    state: HealthStatus
    reason: str
    last_success: datetime | None = None
    new_per_day: float | None = None  # last 7 days
    normal_per_day: float | None = None  # over the window
    text_yield: float | None = None  # recent share of fetched pages with article text
    normal_yield: float | None = None
    dated: float | None = None  # recent share of articles with a publication date
    normal_dated: float | None = None
    error_rate: float | None = None  # recent share of requests that failed
    runs: int = 0


def assess(
    outlet_id: str, history: OutletHistory | None, now: datetime, t: Thresholds = Thresholds()
) -> OutletHealth:
    runs = history.runs if history else []
    if not runs:
        return OutletHealth(outlet_id, HealthStatus.NEW, "no runs yet")
    assert history is not None
    success = next((r for r in runs if not _fetched_nothing(r)), None)
    with_pages = [r for r in runs if r.fetched > 0 and r.extracted is not None]
    recent, normal = with_pages[: t.recent_runs], with_pages[t.recent_runs :]
    latest = runs[: t.recent_runs]
    requests = sum(r.requests for r in latest)
    days = WINDOW.total_seconds() / 86400
    facts = dict(
        last_success=success.started_at if success else None,
        new_per_day=history.published_7d / 7,
        normal_per_day=history.published_window / days,
        text_yield=_share(recent, "extracted", "fetched"),
        normal_yield=_share(normal, "extracted", "fetched"),
        dated=_share(recent, "dated", "extracted"),
        normal_dated=_share(normal, "dated", "extracted"),
        error_rate=sum(r.errors for r in latest) / requests if requests else None,
        runs=len(runs),
    )

    def verdict(state: HealthStatus, reason: str) -> OutletHealth:
        return OutletHealth(outlet_id, state, reason, **facts)  # type: ignore[arg-type]

    failing = runs[: t.failing_runs]
    if all(_fetched_nothing(r) for r in failing):
        return verdict(
            HealthStatus.FAILING, f"{len(failing)} poll(s) fetched nothing: {runs[0].error}"
        )
    if why := _degraded(recent, normal, t):
        return verdict(HealthStatus.DEGRADED, why)
    if why := _stale(history, runs, now, t):
        return verdict(HealthStatus.STALE, why)
    return verdict(HealthStatus.OK, "")


def _fetched_nothing(run: RunStats) -> bool:
    return run.status == RunStatus.FAILED and run.fetched == 0


def _share(runs: list[RunStats], part: str, whole: str) -> float | None:
    total = sum(getattr(r, whole) or 0 for r in runs)
    return sum(getattr(r, part) or 0 for r in runs) / total if total else None


def _degraded(recent: list[RunStats], normal: list[RunStats], t: Thresholds) -> str | None:
    pages = sum(r.fetched for r in recent)
    if pages < t.min_pages:
        return None
    has_normal = sum(r.fetched for r in normal) >= t.min_normal_pages
    got = _share(recent, "extracted", "fetched") or 0.0
    usual = _share(normal, "extracted", "fetched") if has_normal else None
    if usual is not None and got < t.drop * usual or usual is None and got < t.floor:
        extracted = sum(r.extracted or 0 for r in recent)
        normally = f" (normally {usual:.0%})" if usual is not None else ""
        return f"{extracted} of {pages} fetched pages had article text{normally}"
    articles = sum(r.extracted or 0 for r in recent)
    dated = _share(recent, "dated", "extracted")
    usual_dated = _share(normal, "dated", "extracted") if has_normal else None
    enough = articles >= t.min_pages and dated is not None
    if enough and usual_dated and usual_dated >= 0.5 and dated < t.drop * usual_dated:
        return f"{dated:.0%} of new articles had a date (normally {usual_dated:.0%})"
    return None


def _stale(
    history: OutletHistory, runs: list[RunStats], now: datetime, t: Thresholds
) -> str | None:
    watched = now - runs[-1].started_at  # how long we have been looking
    last = history.last_published_at
    if last is None:
        if watched >= timedelta(days=1):
            return f"no article in {_span(watched)} of polling"
        return None
    if history.published_window < 3:
        return None  # too few to know its rhythm
    # Over the whole window: a first run's back catalogue keeps its own dates, so the rate is
    # right from the start when the catalogue reaches back far enough, and cautious when not.
    usual_gap = WINDOW / history.published_window
    silent = now - last
    limit = max(t.stale_min, usual_gap * t.stale_gaps)
    if silent > limit:
        return f"nothing new for {_span(silent)} (usually one every {_span(usual_gap)})"
    return None


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


# -- checking and telling -------------------------------------------------------------------
@dataclass
class HealthCheck:
    table: list[OutletHealth] = field(default_factory=list)
    changes: list[HealthEvent] = field(default_factory=list)
    notified: int = 0
    errors: list[str] = field(default_factory=list)


def assess_all(config: Config, store: Store, now: datetime | None = None) -> list[OutletHealth]:
    now = now or datetime.now(UTC)
    histories = store.health_history(now, WINDOW)
    return [assess(o.id, histories.get(o.id), now) for o in config.outlets]


def check_health(config: Config, store: Store) -> HealthCheck:
    """Assess every outlet, record the states, and send one notification per change of state
    (a recovery included) through the alert channels. Never raises for a busy database or a
    failing channel: what could not be sent is retried at the next check."""
    result = HealthCheck()
    channels = Channels(config.alerts.channels)
    notifiers = channels.resolve(config.alerts.health_channels)
    result.errors += channels.errors
    try:
        result.table = assess_all(config, store)
        states = [HealthState(h.outlet_id, h.state, h.reason) for h in result.table]
        attempts = MAX_ATTEMPTS if notifiers else 0
        result.changes, owed = store.record_health(states, {HealthStatus.NEW}, attempts)
    except StoreError as exc:
        result.errors.append(f"health not checked: {exc}")
        return result
    by_outlet = {h.outlet_id: h for h in result.table}
    # Recorded as why each event went unsent; a channel configured later still sends it (a day).
    outcomes = [(e.event_id, NO_CHANNEL) for e in result.changes] if not notifiers else []
    for event in owed:
        title, body = health_message(event, by_outlet.get(event.outlet_id))
        failures = [e for e in (n.send(title, body) for n in notifiers) if e]
        # Delivered once any channel took it: resending would repeat it on the others.
        error = "; ".join(failures) if len(failures) == len(notifiers) else None
        outcomes.append((event.event_id, error))
        if error:
            result.errors.append(f"health notification for {event.outlet_id}: {error}")
        else:
            result.notified += 1
    if outcomes:
        try:
            store.finish_health_events(outcomes)
        except StoreError as exc:
            result.errors.append(f"health notifications sent but not recorded: {exc}")
    return result


def health_message(event: HealthEvent, health: OutletHealth | None) -> tuple[str, str]:
    if event.new_state == HealthStatus.OK:
        title = f"newsmon: {event.outlet_id} recovered"
        lines = [f"{event.outlet_id} is ok again (was {event.old_state})."]
    else:
        title = f"newsmon: {event.outlet_id} is {event.new_state}"
        lines = [f"{event.outlet_id} is {event.new_state}: {event.reason}"]
    lines.append(f"Since {event.changed_at:%Y-%m-%d %H:%M} UTC.")
    if health is not None:
        lines.append(describe(health))
    return title, "\n".join(lines)


def describe(h: OutletHealth) -> str:
    parts = []
    if h.last_success:
        parts.append(f"last success {h.last_success:%Y-%m-%d %H:%M} UTC")
    if h.new_per_day is not None:
        parts.append(f"{h.new_per_day:.1f} new/day (normal {h.normal_per_day or 0:.1f})")
    if h.text_yield is not None:
        parts.append(f"text yield {pct(h.text_yield)} (normal {pct(h.normal_yield)})")
    if h.dated is not None:
        parts.append(f"dated {pct(h.dated)} (normal {pct(h.normal_dated)})")
    if h.error_rate is not None:
        parts.append(f"errors {pct(h.error_rate)}")
    return "; ".join(parts)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


_WORST_FIRST = (
    HealthStatus.FAILING, HealthStatus.DEGRADED, HealthStatus.STALE, HealthStatus.NEW,
    HealthStatus.OK,
)  # fmt: skip


def report_text(table: list[OutletHealth]) -> tuple[str, str]:
    """The daily health report: one line per outlet, problems first."""
    order = {s: i for i, s in enumerate(_WORST_FIRST)}
    rows = sorted(table, key=lambda h: (order.get(h.state, 9), h.outlet_id))
    bad = sum(1 for h in table if h.state.needs_attention)
    title = f"newsmon health: {bad} of {len(table)} outlet(s) need attention"
    lines = [
        f"{h.outlet_id}: {h.state}" + (f" — {h.reason}" if h.reason else "") + f"\n  {describe(h)}"
        for h in rows
    ]
    return title, "\n".join(lines)
