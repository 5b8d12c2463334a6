"""Small builders for records used across tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from extractors.article import article_id, content_hash
from extractors.records import Article, Failure, FetchPurpose, FetchRecord, OutletReport


def make_article(url: str, outlet_id: str = "x", text: str | None = None, **kw: object) -> Article:
    text = text or f"Body of {url}. " * 40
    fields: dict[str, object] = dict(
        id=article_id(url),
        outlet_id=outlet_id,
        url=url,
        canonical_url=url,
        title=f"Title of {url}",
        authors=["A. Writer"],
        published_at=datetime(2025, 7, 5, 10, 30, tzinfo=timezone(timedelta(hours=4))),
        date_source="jsonld",
        fetched_at=datetime.now(UTC),
        language="en",
        description=None,
        tags=[],
        sitename="X",
        text=text,
        word_count=len(text.split()),
        content_hash=content_hash(text),
        extractor_version="test",
        discovered_via="feed",
        final_url=url,
    )
    fields.update(kw)
    return Article(**fields)  # type: ignore[arg-type]


def make_fetch(
    url: str, outlet_id: str = "x", status: int | None = 200, failure: Failure | None = None
) -> FetchRecord:
    return FetchRecord(
        outlet_id, FetchPurpose.ARTICLE, url, url, status, 100, 0.01, datetime.now(UTC), failure
    )


def make_report(run_id: str, outlet_id: str = "x") -> OutletReport:
    now = datetime.now(UTC)
    return OutletReport(run_id, outlet_id, outlet_id.upper(), now, now, discovered=2, fetched=2)
