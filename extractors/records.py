"""Typed records that move between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from extractors.fingerprint import Fingerprint
from extractors.topics import TopicMatch


class FailureKind(StrEnum):
    """Why a request or an extraction came to nothing. Code branches on these, never on the
    wording of a message; the values are what the store's `error_kind` columns hold."""

    ROBOTS = "robots"  # robots.txt says no: the site's wish, not an error
    CANNOT_RESOLVE = "cannot-resolve"
    CANNOT_CONNECT = "cannot-connect"
    TIMEOUT = "timeout"  # no byte for longer than the read timeout
    DEADLINE = "deadline"  # the whole response took longer than its deadline
    CONNECTION_LOST = "connection-lost"  # reset or closed before the response was complete
    HTTP_STATUS = "http-status"
    ANTI_BOT = "anti-bot"  # a challenge page or a bot wall instead of the content
    TOO_MANY_REDIRECTS = "too-many-redirects"
    REDIRECT_REFUSED = "redirect-refused"  # a hop the address or scope policy forbids
    TOO_LARGE = "too-large"
    BAD_ENCODING = "bad-encoding"  # a body that cannot be decompressed or decoded
    UNSUPPORTED_TYPE = "unsupported-type"  # not HTML or XML (or not what was asked for)
    BINARY = "binary"
    BAD_SOURCE = "bad-source"  # a feed or sitemap that does not parse
    NO_TEXT = "no-text"  # the page arrived but holds no article
    INTERNAL = "internal"  # a bug of ours, caught so the run goes on


# Kinds worth asking again later in the same run (with backoff): the next try may well work.
TRANSIENT = frozenset(
    {
        FailureKind.CANNOT_CONNECT, FailureKind.TIMEOUT, FailureKind.CONNECTION_LOST,
        FailureKind.INTERNAL,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """A failure as data: its kind for code, one line for people."""

    kind: FailureKind
    message: str

    def __str__(self) -> str:
        return self.message


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


class SourceOrigin(StrEnum):
    CONFIG = "config"
    DISCOVERED = "discovered"


class Route(StrEnum):
    """How discovery met an article URL (`articles.discovered_via`)."""

    FEED = "feed"
    SITEMAP = "sitemap"
    SECTION = "section"


class RunStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


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
    discovered_via: Route
    final_url: str = ""
    fingerprint: Fingerprint | None = None
    topics: list[TopicMatch] | None = None  # scored in the worker when rules are configured


@dataclass(frozen=True)
class ExtractionFailure:
    url: str
    failure: Failure


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
    status: RunStatus = RunStatus.OK
    error: str | None = None
    spooled: bool = False


@dataclass(frozen=True)
class ArchiveRef:
    """Where a response's payload lies in the raw archive: a WARC file name and the offset of
    its record (storage/archive.py writes and reads them; articles point at theirs)."""

    file: str
    offset: int
