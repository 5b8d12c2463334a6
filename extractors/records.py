"""Typed records that move between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from extractors.fingerprint import Fingerprint
from extractors.topics import TopicMatch


@dataclass(frozen=True)
class Section:
    """A listing page whose links lead to articles; `pages` is how many pages to follow."""

    url: str
    pages: int = 1


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    homepage: str
    language: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    # Applied with re.search to the URL's path and query, so one pattern fits mirrors too.
    article_pattern: str | None = None
    min_delay_s: float = 2.0
    max_articles: int = 100


@dataclass(frozen=True)
class Validators:
    """What a previous fetch of a feed or sitemap left behind for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class Page:
    """The outcome of one HTTP fetch (after redirects); `error` is a one-line reason or None."""

    url: str
    final_url: str
    status: int | None
    fetched_at: datetime
    elapsed_s: float
    content_type: str | None = None
    body: bytes = b""
    text: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    not_modified: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class FetchRecord:
    """One row of the `fetches` table: every HTTP request the run made."""

    outlet_id: str
    kind: str  # robots | feed | sitemap | section | article | probe
    url: str
    final_url: str
    status: int | None
    bytes: int
    elapsed_s: float
    fetched_at: datetime
    error: str | None


@dataclass
class Candidate:
    """A URL that discovery believes is an article, with the hints its source gave."""

    url: str
    outlet_id: str
    via: str  # feed | sitemap | section
    source_url: str
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    author: str | None = None


@dataclass
class SourceState:
    """A feed or sitemap of an outlet, and what was seen of it last time (`sources` row)."""

    url: str
    outlet_id: str
    kind: str  # feed | sitemap
    origin: str  # config | discovered
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_checked: datetime | None = None
    last_changed: datetime | None = None

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified, self.body_hash)


@dataclass
class Article:
    id: str
    outlet_id: str
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    date_source: str | None
    fetched_at: datetime
    language: str | None
    description: str | None
    tags: list[str]
    sitename: str | None
    text: str
    word_count: int
    content_hash: str
    extractor_version: str
    discovered_via: str
    final_url: str = ""
    fingerprint: Fingerprint | None = None
    topics: list[TopicMatch] | None = None  # scored in the worker when rules are configured


@dataclass(frozen=True)
class ExtractionFailure:
    url: str
    reason: str


@dataclass
class OutletReport:
    """What one outlet's branch of a run did; also one row of the `runs` table."""

    run_id: str
    outlet_id: str
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    discovered: int = 0
    fetched: int = 0
    stored: int = 0
    skipped: int = 0
    failed: int = 0
    extracted: int = 0  # fetched pages that yielded article-length text
    dated: int = 0  # of those, how many got a publication date
    status: str = "ok"  # ok | partial | failed
    error: str | None = None
    spooled: bool = False
