"""Articles and what the pipeline learns about them on the way: fingerprints for deduplication,
topic scores, the URLs an article is known under, and pages that came to nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from extractors.records.failures import Failure
from extractors.records.web import ArchiveRef, Route


@dataclass(frozen=True)
class Fingerprint:
    """Computed in the extraction workers (extractors.fingerprint), compared by the store."""

    minhash: list[int]  # NUM_PERM uint32 values
    shingles: int  # distinct shingles in the text
    band_keys: list[int]  # one uint64 per LSH band
    lead_keys: list[int]  # uint64 hashes of the lead's shingles
    snippet: bool  # short text or one that ends in an ellipsis


@dataclass(frozen=True)
class TopicScore:
    """How an article scored against one rule, and why (a row of `article_topics`)."""

    rule_id: str
    rule_signature: str  # changes with the rule, so stale scores can be found
    matched: bool
    score: float
    terms: list[str]  # "group: term ×count", strongest first


class TitleSource(StrEnum):
    """Which signal gave an article's title (extractors/headline.py has the order)."""

    H1 = "h1"  # the headline the page shows, as its metadata agrees
    JSONLD = "jsonld"  # the JSON-LD article's headline
    OG = "og"  # og:title or twitter:title
    TITLE = "title"  # the document's <title>
    FEED = "feed"  # the feed's or sitemap's title for the item


class AuthorSource(StrEnum):
    """Which signal named an article's authors (extractors/byline.py has the order)."""

    BYLINE = "byline"  # the byline the page shows near the headline
    JSONLD = "jsonld"  # the JSON-LD article's author
    META = "meta"  # meta author tags
    FEED = "feed"  # the feed item's author


class DateSource(StrEnum):
    """Which signal gave a publication or modification date (extractors/dates.py)."""

    JSONLD = "jsonld"  # the JSON-LD article's datePublished / dateModified
    META = "meta"  # article:published_time, article:modified_time and kin
    FEED = "feed"  # the feed's or news sitemap's date for the item
    TIME_TAG = "time-tag"  # a <time datetime> or itemprop date in the article
    DATELINE = "dateline"  # the date shown under the headline (day only)
    HTMLDATE = "htmldate"  # htmldate's guess from the whole page (day only)


@dataclass
class Article:
    id: str
    outlet_id: str
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    date_source: DateSource | None
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
    topics: list[TopicScore] | None = None  # scored by the extraction worker; None: no rules
    archived: ArchiveRef | None = None  # the raw response it was extracted from
    title_source: TitleSource | None = None
    author_source: AuthorSource | None = None
    modified_at: datetime | None = None  # the last update the page states, apart from publication
    modified_source: DateSource | None = None
    # Keys of the text's paragraphs before the outlet's chrome was removed (extractors/chrome):
    # what the outlet's next pages learn their chrome from.
    paragraph_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UrlAlias:
    """Another URL under which an already stored article was met."""

    url: str
    article_id: str
    outlet_id: str


@dataclass(frozen=True)
class UrlFailure:
    """An article URL that came to nothing: the fetch failed, or the page held no article."""

    url: str
    outlet_id: str
    failure: Failure
    failed_at: datetime


class ChangedField(StrEnum):
    """What a new version of an article changed (`article_versions.changed`)."""

    TITLE = "title"
    TEXT = "text"


@dataclass(frozen=True)
class ArticleChange:
    """How a version of an article differs from the one before it."""

    fields: tuple[ChangedField, ...]
    summary: str  # one line for people


@dataclass(frozen=True)
class Chrome:
    """The paragraphs (keys) an outlet repeats, learned from `pages` of its articles
    (extractors/chrome.py learns and applies it)."""

    keys: frozenset[str] = frozenset()
    pages: int = 0


@dataclass(frozen=True)
class ExtractJob:
    """One fetched page for extraction, with what discovery and the outlet know of it. A
    record here rather than in extractors/article.py, so that commands which only hand pages
    on do not import trafilatura to name the type."""

    html: str
    url: str
    final_url: str
    outlet_id: str
    homepage: str
    fetched_at: datetime
    via: str
    default_language: str | None = None
    hint_title: str | None = None
    hint_published: datetime | None = None
    hint_author: str | None = None
    chrome: Chrome = Chrome()  # what the outlet repeats on its articles
