"""Going back in time: what re-extraction and revisits know of a stored article, and the
changed versions revisits find."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from extractors.records.articles import Article, ArticleChange
from extractors.records.web import ArchiveRef


@dataclass(frozen=True)
class StoredArticle:
    """What re-extraction and revisits need of a stored row."""

    id: str
    outlet_id: str
    url: str
    title: str | None
    text: str
    content_hash: str
    published_at: datetime | None
    fetched_at: datetime
    discovered_via: str | None
    extractor_version: str
    archived: ArchiveRef | None


@dataclass(frozen=True)
class RevisitState:
    article_id: str
    revisits: int
    last_visit: datetime
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Version:
    """A changed version found by a revisit: the article row takes it, article_versions keeps
    it (and the version before it, the first time)."""

    article: Article  # as extracted now; its id is the stored row's
    change: ArticleChange
