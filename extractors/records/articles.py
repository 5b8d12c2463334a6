"""Articles and what the pipeline learns about them on the way: fingerprints for deduplication,
topic scores, the URLs an article is known under, and pages that came to nothing."""

from __future__ import annotations

from dataclasses import dataclass
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
    topics: list[TopicScore] | None = None  # scored by the extraction worker; None: no rules
    archived: ArchiveRef | None = None  # the raw response it was extracted from


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
