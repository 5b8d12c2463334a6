"""Source health: the history it is judged on, the verdicts, and the changes worth telling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from extractors.records.runs import RunStatus


class HealthStatus(StrEnum):
    OK = "ok"
    STALE = "stale"  # nothing new for much longer than the outlet's usual gap
    DEGRADED = "degraded"  # pages arrive but yield no text or no date where they used to
    FAILING = "failing"  # the last polls fetched nothing
    NEW = "new"  # no runs yet

    @property
    def needs_attention(self) -> bool:
        return self in (HealthStatus.FAILING, HealthStatus.DEGRADED, HealthStatus.STALE)


@dataclass(frozen=True)
class RunStats:
    run_id: str
    started_at: datetime
    status: RunStatus
    fetched: int  # article pages that arrived
    extracted: int | None  # of those, with article-length text (None: run predates counting)
    dated: int | None
    stored: int
    requests: int
    errors: int  # requests that failed (robots.txt refusals are not failures)
    error: str | None


@dataclass
class OutletHistory:
    outlet_id: str
    runs: list[RunStats] = field(default_factory=list)  # newest first
    # Publication times: the page's date when plausible, else when we first saw the article.
    # A back catalogue fetched on the first run keeps its own dates and does not look busy.
    last_published_at: datetime | None = None
    published_7d: int = 0
    published_window: int = 0


@dataclass(frozen=True)
class HealthState:
    """An outlet's current verdict (a row of `outlet_health`)."""

    outlet_id: str
    state: HealthStatus
    reason: str
    since: datetime | None = None


@dataclass(frozen=True)
class HealthEvent:
    """A change of state, and whether its notification went out (`health_events`)."""

    event_id: str
    outlet_id: str
    changed_at: datetime
    old_state: HealthStatus | None
    new_state: HealthStatus
    reason: str | None
    attempts: int = 0
