"""Where a stored article's title, authors and dates came from, and its last update, survive
the store (migration 7) as the extraction recorded them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from extractors.records import AuthorSource, Batch, DateSource, Outlet, TitleSource
from storage import spool
from storage.db import Store
from tests.support.factories import make_article, make_fetch, make_report


def test_sources_and_the_update_date_are_stored(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    updated = datetime(2025, 7, 6, 9, 0, tzinfo=UTC)
    article = make_article(
        "http://h/a",
        title_source=TitleSource.H1,
        author_source=AuthorSource.BYLINE,
        date_source=DateSource.DATELINE,
        modified_at=updated,
        modified_source=DateSource.JSONLD,
    )
    plain = make_article("http://h/b")  # older records carry no sources: NULL, not a guess
    batch = Batch(
        run_id="r1",
        outlets=[Outlet("x", "X", "http://h/", "en")],
        articles=[article, plain],
        fetches=[make_fetch("http://h/a", "x"), make_fetch("http://h/b", "x")],
        reports=[make_report("r1", "x")],
    )
    # A spooled batch keeps them too, as their kinds.
    back = spool.decode(spool.encode(batch)).articles[0]
    assert (back.title_source, back.modified_source) == (TitleSource.H1, DateSource.JSONLD)
    assert back.modified_at == updated
    Store(db).write(batch)
    rows = (
        Store(db)
        .query(
            "SELECT url, title_source, author_source, date_source, modified_at, modified_source "
            "FROM articles ORDER BY url"
        )
        .rows
    )
    assert rows == [
        ("http://h/a", "h1", "byline", "dateline", updated, "jsonld"),
        ("http://h/b", None, None, "jsonld", None, None),
    ]
