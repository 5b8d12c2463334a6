"""What outlets are and what the web gave back: outlets, sources, candidate URLs, pages and
the log of requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from extractors.records.failures import Failure


class FetchPurpose(StrEnum):
    """What a request was for (the `fetches.kind` column)."""

    ROBOTS = "robots"
    FEED = "feed"
    SITEMAP = "sitemap"
    SECTION = "section"
    ARTICLE = "article"
    PROBE = "probe"  # discovery trying the usual feed and sitemap paths of a homepage


class SourceKind(StrEnum):
    FEED = "feed"
    SITEMAP = "sitemap"
    SITEMAP_CHILD = "sitemap-child"  # a sitemap listed by a sitemap index
    LISTING = "listing"  # a homepage read for its links: probing found no feed or sitemap


class SourceOrigin(StrEnum):
    CONFIG = "config"
    DISCOVERED = "discovered"


class Route(StrEnum):
    """How discovery met an article URL (`articles.discovered_via`)."""

    FEED = "feed"
    SITEMAP = "sitemap"
    SECTION = "section"
    ARCHIVE = "archive"  # read from a WARC file (newsmon import-warc)


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
    """The outcome of one HTTP fetch (after redirects); `failure` says why it came to nothing."""

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
    failure: Failure | None = None
    # For the raw archive: the headers as exchanged, and where the response was archived.
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    archived: ArchiveRef | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def error(self) -> str | None:
        """The failure's message, for people."""
        return self.failure.message if self.failure else None


@dataclass(frozen=True)
class FetchRecord:
    """One row of the `fetches` table: every HTTP request the run made."""

    outlet_id: str
    kind: FetchPurpose
    url: str
    final_url: str
    status: int | None
    bytes: int
    elapsed_s: float
    fetched_at: datetime
    failure: Failure | None

    @property
    def error(self) -> str | None:
        """The failure's message, for people."""
        return self.failure.message if self.failure else None


@dataclass
class Candidate:
    """A URL that discovery believes is an article, with the hints its source gave."""

    url: str
    outlet_id: str
    via: Route
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
    kind: SourceKind
    origin: SourceOrigin
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


@dataclass(frozen=True)
class ArchiveRef:
    """Where a response's payload lies in the raw archive: a WARC file name and the offset of
    its record (storage/archive.py writes and reads them; articles point at theirs)."""

    file: str
    offset: int
