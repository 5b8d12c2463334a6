"""Runs: what one outlet's pass did (a `runs` row), when the outlet is due next, and how its
last run went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from extractors.records.failures import FailureKind
from extractors.records.history import RevisitState, StoredArticle
from extractors.records.web import SourceState


class RunStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some requests or pages failed, the rest was stored
    FAILED = "failed"  # nothing usable came back


@dataclass
class OutletReport:
    """What one outlet's branch of a run did; also one row of the `runs` table.

    The pass counts what it met on the way (discovered, skipped, fetched, failed, extracted,
    dated); the store counts what it stored, and hands the report back with `stored` and
    `spooled` filled in."""

    run_id: str
    outlet_id: str
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    discovered: int = 0  # candidate article URLs found
    fetched: int = 0  # article pages that arrived
    stored: int = 0  # new articles (the store's count)
    skipped: int = 0  # candidates not fetched: already stored, failing lately, or robots.txt
    failed: int = 0  # article URLs that came to nothing
    extracted: int = 0  # fetched pages that yielded article-length text
    dated: int = 0  # of those, how many got a publication date
    status: RunStatus = RunStatus.OK
    error: str | None = None
    spooled: bool = False  # the file was held: the pass waits in the spool
    error_kind: FailureKind | None = None  # the kind of `error` (polling waits longer on some)


@dataclass
class PollState:
    """When an outlet is next due, and why: one row of `outlet_polls`."""

    outlet_id: str
    interval_s: float
    next_due_at: datetime
    failures: int = 0  # consecutive failed polls
    last_polled_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LastRun:
    outlet_id: str
    finished_at: datetime | None
    status: RunStatus
    stored: int
    error: str | None
    articles: int  # stored articles of the outlet, all runs


@dataclass(frozen=True)
class OutletState:
    """What the store knows of an outlet when its pass begins."""

    sources: list[SourceState]  # its feeds and sitemaps, configured or discovered, as last seen
    published: int | None  # articles it published since a given time (None: the store was held)
    fresh: list[tuple[StoredArticle, RevisitState | None]] = field(default_factory=list)
    paragraph_keys: list[list[str]] = field(default_factory=list)  # of its latest articles
