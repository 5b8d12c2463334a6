"""Backfill planning: which sitemaps and pages cover a date range, and when a walk stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from extractors.backfill import (
    EMPTY,
    UNDATED,
    Order,
    Paging,
    Span,
    Window,
    choose_children,
    in_window,
    infer_order,
    named_span,
    next_page,
    page_number,
    pager,
    span_of,
)
from extractors.discover import Entry, next_page_url, parse_sitemap

MARCH = Window(date(2024, 3, 1), date(2024, 3, 31))


def at(y: int, m: int, d: int = 1) -> datetime:
    return datetime(y, m, d, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "first", "last"),
    [
        ("https://x.org/sitemap-2024-03.xml", date(2024, 3, 1), date(2024, 3, 31)),
        ("https://x.org/post-sitemap-2024-02.xml.gz", date(2024, 2, 1), date(2024, 2, 29)),
        ("https://x.org/sitemaps/2023/11/sitemap.xml", date(2023, 11, 1), date(2023, 11, 30)),
        ("https://x.org/sitemap_202401.xml", date(2024, 1, 1), date(2024, 1, 31)),
        ("https://x.org/sitemap-2024-03-15.xml", date(2024, 3, 15), date(2024, 3, 15)),
        ("https://x.org/sitemap.xml?yyyy=2022&mm=07", date(2022, 7, 1), date(2022, 7, 31)),
        ("https://x.org/sitemap.xml?year=2021", date(2021, 1, 1), date(2021, 12, 31)),
        ("https://x.org/sitemap-posts-2020.xml", date(2020, 1, 1), date(2020, 12, 31)),
    ],
)
def test_named_span_reads_dates_from_sitemap_names(url: str, first: date, last: date) -> None:
    span = named_span(url)
    assert span is not None
    assert span.oldest.date() == first
    assert span.newest.date() == last
    assert span.newest.time() > span.oldest.time()  # the whole last day


@pytest.mark.parametrize(
    "url",
    [
        "https://x.org/wp-sitemap-posts-post-3.xml",
        "https://x.org/post-sitemap2.xml",
        "https://x.org/sitemap.xml?page=12",
        "https://x.org/news-sitemap.xml",
        "https://x.org/sitemap-1.xml",
    ],
)
def test_numbered_and_plain_sitemaps_name_no_dates(url: str) -> None:
    assert named_span(url) is None


def test_page_numbers_of_the_usual_series() -> None:
    wp = page_number("https://x.org/wp-sitemap-posts-post-3.xml")
    assert wp is not None and (wp.number, wp.paging) == (3, Paging.NAME)
    yoast1, yoast2 = (
        page_number("https://x.org/post-sitemap.xml"),
        page_number("https://x.org/post-sitemap2.xml"),
    )
    assert yoast1 is not None and yoast2 is not None
    assert yoast1.series == yoast2.series and (yoast1.number, yoast2.number) == (1, 2)
    drupal = page_number("https://x.org/sitemap.xml?page=4")
    assert drupal is not None and (drupal.number, drupal.key) == (4, "page")
    listing = page_number("https://x.org/category/news/page/7/")
    assert listing is not None and (listing.number, listing.paging) == (7, Paging.PATH)
    assert page_number("https://x.org/category/news/") is None


def month_children(years: range) -> list[Entry]:
    return [
        Entry(f"https://x.org/sitemap-{y}-{m:02d}.xml", modified_at=at(y, m, 28))
        for y in years
        for m in range(1, 13)
    ]


def test_date_named_children_cover_exactly_the_window() -> None:
    plan = choose_children(month_children(range(2022, 2025)), MARCH)
    assert [c.url for c in plan.chosen] == ["https://x.org/sitemap-2024-03.xml"]
    assert plan.skipped == 35 and plan.series == []
    two = Window(date(2023, 12, 20), date(2024, 1, 5))
    chosen = [c.url for c in choose_children(month_children(range(2022, 2025)), two).chosen]
    assert chosen == ["https://x.org/sitemap-2023-12.xml", "https://x.org/sitemap-2024-01.xml"]


def test_numbered_children_with_ascending_lastmods_are_chosen_by_them() -> None:
    # Yoast: post-sitemap.xml holds the oldest posts; each lastmod is its newest entry.
    children = [
        Entry("https://x.org/post-sitemap.xml", modified_at=at(2023, 10)),
        Entry("https://x.org/post-sitemap2.xml", modified_at=at(2024, 2, 20)),
        Entry("https://x.org/post-sitemap3.xml", modified_at=at(2024, 4, 10)),
        Entry("https://x.org/post-sitemap4.xml", modified_at=at(2024, 9)),
        Entry("https://x.org/page-sitemap.xml", modified_at=at(2019, 1)),
    ]
    plan = choose_children(children, MARCH)
    assert [c.url for c in plan.chosen] == ["https://x.org/post-sitemap3.xml"]
    assert plan.skipped == 4


def test_numbered_children_without_dates_are_left_to_the_search() -> None:
    children = [Entry(f"https://x.org/wp-sitemap-posts-post-{n}.xml") for n in (2, 1, 3)]
    children.append(Entry("https://x.org/wp-sitemap-taxonomies-category-1.xml"))
    plan = choose_children(children, MARCH)
    assert plan.chosen == []
    posts = next(s for s in plan.series if len(s) == 3)
    assert [c.url[-6:] for c in posts] == ["-1.xml", "-2.xml", "-3.xml"]


def pages_newest_first(count: int, per_page: int, newest: datetime, step: timedelta) -> list:
    """A listing of count pages, each per_page entries a `step` apart, newest first."""
    pages = []
    moment = newest
    for _ in range(count):
        entries = []
        for _ in range(per_page):
            entries.append(Entry(f"https://x.org/a/{moment:%Y%m%d%H}", published_at=moment))
            moment -= step
        pages.append(entries)
    return pages


def walk(pages: list, window: Window, order: Order, last: int | None) -> tuple[list[int], set]:
    seen: dict[int, Span | None] = {}
    read: list[int] = []
    found: set[str] = set()
    while (k := next_page(seen, window, order, last)) is not None:
        assert k not in seen, "a page is never read twice"
        read.append(k)
        entries = pages[k - 1] if 1 <= k <= len(pages) else []
        seen[k] = span_of(entries) if entries else EMPTY
        found |= {e.url for e in entries if in_window(e, window)}
        assert len(read) < 100
    return read, found


def wanted(pages: list, window: Window) -> set[str]:
    return {e.url for page in pages for e in page if in_window(e, window)}


def test_a_listing_three_years_deep_is_searched_not_walked() -> None:
    # Ten articles a page, one a day, newest on 2025-06-30: March 2024 is about page 46.
    pages = pages_newest_first(110, 10, at(2025, 6, 30), timedelta(days=1))
    read, found = walk(pages, MARCH, Order.NEWEST_FIRST, None)
    assert found == wanted(pages, MARCH) and len(found) == 31
    assert len(read) < 20  # galloping and halving, then the four or five pages of March
    assert read[:4] == [1, 2, 4, 8]


def test_the_walk_stops_at_the_end_of_the_pages() -> None:
    pages = pages_newest_first(5, 10, at(2024, 3, 20), timedelta(days=1))
    read, found = walk(pages, MARCH, Order.NEWEST_FIRST, None)
    assert found == wanted(pages, MARCH) and len(found) == 20
    assert max(read) <= 6  # one look past the last page at most


def test_a_window_newer_than_everything_reads_little() -> None:
    pages = pages_newest_first(50, 10, at(2023, 1, 1), timedelta(days=1))
    read, found = walk(pages, MARCH, Order.NEWEST_FIRST, None)
    assert found == set() and read == [1]


def test_oldest_first_series_is_searched_from_its_known_length() -> None:
    pages = pages_newest_first(40, 30, at(2025, 6, 30), timedelta(days=1))[::-1]  # WP: oldest first
    read, found = walk(pages, MARCH, Order.OLDEST_FIRST, len(pages))
    assert found == wanted(pages, MARCH) and len(found) == 31
    assert len(read) <= 9
    with pytest.raises(ValueError):
        next_page({}, MARCH, Order.OLDEST_FIRST, None)


def test_a_pinned_old_post_on_the_first_page_does_not_end_the_walk() -> None:
    pages = pages_newest_first(60, 10, at(2025, 6, 30), timedelta(days=1))
    pages[0].insert(0, Entry("https://x.org/a/pinned", published_at=at(2015, 1, 1)))
    read, found = walk(pages, MARCH, Order.NEWEST_FIRST, None)
    assert found == wanted(pages, MARCH) and len(found) == 31


def test_undated_pages_are_read_one_by_one_to_the_end() -> None:
    pages = [[Entry(f"https://x.org/a/{p}-{i}") for i in range(3)] for p in range(4)]
    seen: dict[int, Span | None] = {}
    read = []
    while (k := next_page(seen, MARCH)) is not None:
        read.append(k)
        seen[k] = (span_of(pages[k - 1]) or UNDATED) if k <= len(pages) else EMPTY
    assert read == [1, 2, 3, 4, 5]


def test_order_is_inferred_from_the_dates_read() -> None:
    newer, older = Span(at(2024, 5), at(2024, 6)), Span(at(2023, 1), at(2023, 2))
    assert infer_order({1: newer, 3: older}, Order.OLDEST_FIRST) == Order.NEWEST_FIRST
    assert infer_order({1: older, 2: newer}, Order.NEWEST_FIRST) == Order.OLDEST_FIRST
    assert infer_order({1: older}, Order.NEWEST_FIRST) == Order.NEWEST_FIRST


def test_pagers_learnt_from_the_next_link() -> None:
    html = "<html><body><a class='next page-numbers' href='/news/page/2/'>Next</a></body></html>"
    wp = pager("https://x.org/news/", next_page_url(html, "https://x.org/news/"))
    assert wp.url(1) == "https://x.org/news/"
    assert wp.url(5) == "https://x.org/news/page/5/"
    drupal = pager("https://x.org/news?type=a", "https://x.org/news?type=a&page=1")
    assert drupal.url(3) == "https://x.org/news?type=a&page=2"  # Drupal counts from 0
    feed = pager("https://x.org/feed/", "https://x.org/feed/?paged=2")
    assert feed.url(4) == "https://x.org/feed/?paged=4"
    assert pager("https://x.org/news/", None).url(2) == "https://x.org/news/page/2/"


def test_sitemap_entries_through_discovers_parser() -> None:
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        b"<url><loc>https://x.org/a/1</loc><news:news><news:publication_date>2024-03-02T10:00:00Z"
        b"</news:publication_date><news:title>A</news:title></news:news></url>"
        b"<url><loc>https://x.org/a/2</loc><lastmod>2024-04-02</lastmod></url>"
        b"<url><loc>https://x.org/a/3</loc></url></urlset>"
    )
    entries = parse_sitemap(body, "https://x.org/").entries
    assert [in_window(e, MARCH) for e in entries] == [True, False, True]
    assert span_of(entries) == Span(
        datetime(2024, 3, 2, 10, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)
    )
