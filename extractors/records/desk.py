"""The read model: rows read back from the store for the analyst's desk (`newsmon web`),
`newsmon search` and the exports, typed for all three."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from extractors.records.alerts import Alert, DeliveryState


@dataclass(frozen=True)
class RuleHit:
    """A rule a story's copy matched, and the terms that fired (`russia: Kremlin* ×2`)."""

    rule_id: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class StoryRow:
    story_id: str
    title: str | None
    first_seen: datetime
    first_published: datetime | None
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    copies: int
    rules: tuple[RuleHit, ...]


@dataclass(frozen=True)
class StoryCopy:
    """One article of a story, with where it came from."""

    article_id: str
    outlet_id: str
    outlet_name: str | None
    url: str
    title: str | None
    published_at: datetime | None
    date_source: str | None
    fetched_at: datetime
    language: str | None
    discovered_via: str | None
    word_count: int
    duplicate_of: str | None
    authors: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryRow:
    channel_label: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class AlertRow(Alert):
    """An alert as the desk shows it: the story's size, its lead and each channel's delivery."""

    copies: int
    lead: str | None  # the triggering article's summary or first paragraph
    deliveries: tuple[DeliveryRow, ...]


@dataclass(frozen=True)
class StoryDetail:
    story: StoryRow
    copies: tuple[StoryCopy, ...]
    lead: StoryCopy | None  # the first complete article: its text is shown in full
    text: str
    alerts: tuple[AlertRow, ...]


@dataclass(frozen=True)
class Fragment:
    """A piece of a snippet; `hit` pieces are words the query found."""

    text: str
    hit: bool


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    story_id: str | None
    outlet_id: str
    url: str
    title: str | None
    published_at: datetime | None
    language: str | None
    score: float
    title_fragments: tuple[Fragment, ...]
    snippet: tuple[Fragment, ...]


@dataclass(frozen=True)
class DayCount:
    day: date
    key: str  # an outlet id
    count: int


@dataclass(frozen=True)
class FetchError:
    fetched_at: datetime
    kind: str
    url: str
    status: int | None
    error: str


@dataclass(frozen=True)
class OutletStatus:
    """An outlet's health as last checked, with the figures behind it."""

    outlet_id: str
    name: str
    homepage: str | None
    state: str  # ok, stale, failing, degraded, new
    since: datetime | None
    reason: str | None
    last_success: datetime | None
    articles: int
    new_7d: int
    requests_7d: int
    errors_7d: int
    per_day: tuple[DayCount, ...]  # articles fetched per day, last 30 days
    recent_errors: tuple[FetchError, ...]
