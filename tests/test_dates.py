"""Publication and update dates (extractors/dates.py): published beats updated, each with its
signal, on small realistic pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from extractors.dates import modified, published
from extractors.datetext import parse_date
from extractors.records import DateSource


def read(head: str, body: str, feed: datetime | None = None):  # noqa: ANN201
    tree = lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    jsonld = [
        json.loads(script.text)
        for script in tree.iter("script")
        if script.get("type") == "application/ld+json"
    ]
    h1 = next(tree.iter("h1"), None)
    return published(tree, jsonld, feed, h1), modified(tree, jsonld, h1)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_jsonld_published_and_modified_are_kept_apart() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2025-03-03T09:30:00+04:00",'
        ' "dateModified": "2025-03-05T12:00:00+04:00"}</script>'
    )
    got_published, got_modified = read(head, "<h1>Talks resume</h1>")
    assert got_published == (datetime.fromisoformat("2025-03-03T09:30:00+04:00"), "jsonld")
    assert got_modified == (datetime.fromisoformat("2025-03-05T12:00:00+04:00"), "jsonld")


def test_meta_published_time_not_the_modified_one() -> None:
    head = (
        '<meta property="article:modified_time" content="2025-03-05T12:00:00Z">'
        '<meta property="article:published_time" content="2025-03-03T09:30:00Z">'
    )
    got_published, got_modified = read(head, "<h1>Talks resume</h1>")
    assert got_published == (datetime(2025, 3, 3, 9, 30, tzinfo=UTC), DateSource.META)
    assert got_modified == (datetime(2025, 3, 5, 12, 0, tzinfo=UTC), DateSource.META)


@pytest.mark.parametrize(
    ("dateline", "first", "updated"),
    [
        ("<p>Published 3 March 2025 · Updated 5 March 2025</p>", "2025-03-03", "2025-03-05"),
        ("<p><span>Updated:</span> <span>March 5, 2025</span></p><p>March 3, 2025</p>",
         "2025-03-03", "2025-03-05"),
        ("<p>Опубликовано: 3 декабря 2025</p><p>Обновлено: 5 декабря 2025</p>",
         "2025-12-03", "2025-12-05"),
        ("<p>Dərc olunub: 3 dekabr 2025</p><p>Yenilənib: 05.12.2025</p>",
         "2025-12-03", "2025-12-05"),
    ],
)  # fmt: skip
def test_the_dateline_under_the_headline(dateline: str, first: str, updated: str) -> None:
    body = f"<h1>Talks resume</h1>{dateline}<p>{'Text of the article. ' * 5}</p>"
    got_published, got_modified = read("", body)
    assert got_published == (day(first), DateSource.DATELINE)
    assert got_modified == (day(updated), DateSource.DATELINE)


def jsonld_dates(published_at: str, modified_at: str | None = None) -> str:
    node = {"@type": "BlogPosting", "datePublished": published_at}
    if modified_at:
        node["dateModified"] = modified_at
    return f'<script type="application/ld+json">{json.dumps(node)}</script>'


@pytest.mark.parametrize(
    ("head", "shown", "first"),
    [
        # datePublished written as the last save, equal to dateModified
        (jsonld_dates("Jun 24, 2025", "Jun 24, 2025"), "<p>Shauna Mitchell</p><p>August 25, 2024</p>",
         "2024-08-25"),
        # datePublished equal to the update the page shows
        (jsonld_dates("2025-08-21T10:00:00Z"),
         "<p>Published <span>Apr 26, 2023</span></p><p>Updated <span>Aug 21, 2025</span></p>",
         "2023-04-26"),
    ],
)  # fmt: skip
def test_a_restamped_structured_date_gives_way_to_the_earlier_one_shown(
    head: str, shown: str, first: str
) -> None:
    body = f"<h1>How much to charge for a class</h1>{shown}<p>{'Text of the post. ' * 5}</p>"
    assert read(head, body)[0] == (day(first), DateSource.DATELINE)


@pytest.mark.parametrize(
    ("meta", "shown"),
    [
        ('<meta property="article:published_time" content="2022-12-15T09:13:00+01:00">',
         "<p>15. Dezember 2022</p>"),
        ('<meta property="article:published_time" content="2022-12-15T09:13:00+03:00">',
         "<p>Опубликовано: 15 декабря 2022</p>"),
        ('<meta name="publish-date" content="2022-12-15T09:13:00+04:00">',
         "<p>Dərc olunub: 15 dekabr 2022</p>"),
    ],
)  # fmt: skip
def test_of_disagreeing_structured_dates_the_one_the_page_shows_wins(meta: str, shown: str) -> None:
    # Republished: the JSON-LD keeps the first publication, the meta tag and the page the new one.
    head = jsonld_dates("2021-12-06T14:36:00Z") + meta
    body = f"<h1>Ten tips for the holidays</h1>{shown}<p>{'Text of the article. ' * 5}</p>"
    got = read(head, body)[0]
    assert got is not None and got[1] == DateSource.META
    assert got[0].date() == datetime(2022, 12, 15).date()


@pytest.mark.parametrize(
    ("head_extra", "body_extra"),
    [
        ("", '<meta itemprop="datePublished" content="2020-02-19">'),  # a teaser's microdata
        ('<meta name="date" content="2020-02-19T15:24:33+01:00">', ""),  # the save, once more
    ],
)
def test_a_last_save_does_not_side_with_the_page(head_extra: str, body_extra: str) -> None:
    # The page shows its last update, unlabelled.
    head = (
        '<meta property="article:published_time" content="2017-04-12T18:33:59+02:00">'
        '<meta property="article:modified_time" content="2020-02-19T15:24:33+01:00">'
    ) + head_extra
    body = (
        "<h1>What to eat for a healthy gut</h1><p>Le <span>19 février 2020</span></p>"
        f"{body_extra}<p>Text of the article.</p>"
    )
    got = read(head, body)[0]
    assert got == (datetime.fromisoformat("2017-04-12T18:33:59+02:00"), DateSource.META)


def test_a_real_update_keeps_the_structured_publication_date() -> None:
    head = jsonld_dates("2025-03-03T09:30:00Z", "2025-03-05T12:00:00Z")
    body = "<h1>Talks resume</h1><p>1 March 2025</p><p>Talks resumed on Monday.</p>"
    assert read(head, body)[0] == (datetime(2025, 3, 3, 9, 30, tzinfo=UTC), DateSource.JSONLD)


def test_an_update_alone_is_no_publication_date() -> None:
    got_published, got_modified = read("", "<h1>Talks resume</h1><p>Updated on Jul 4, 2024</p>")
    assert got_published is None  # the caller falls back to htmldate's guess
    assert got_modified == (day("2024-07-04"), DateSource.DATELINE)


def test_explicit_signals_come_before_the_feed_and_the_page_text() -> None:
    feed = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    head = '<meta property="article:published_time" content="2025-03-03T09:30:00Z">'
    body = "<h1>Talks resume</h1><p>Published 2 March 2025</p>"
    assert read(head, body, feed)[0] == (datetime(2025, 3, 3, 9, 30, tzinfo=UTC), "meta")
    assert read("", body, feed)[0] == (feed, "feed")


def test_implausible_dates_are_passed_over() -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    head = (
        f'<meta property="article:published_time" content="{future}">'
        '<meta name="date" content="1970-01-01">'
    )
    body = "<h1>Talks resume</h1><p>Published 3 March 2025</p>"
    assert read(head, body)[0] == (day("2025-03-03"), "dateline")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-31T08:00:00+04:00", datetime.fromisoformat("2025-10-31T08:00:00+04:00")),
        ("Fri, 31 Oct 2025 08:00:00 GMT", datetime(2025, 10, 31, 8, 0, tzinfo=UTC)),
        ("Oct 31, 2025", day("2025-10-31")),
        ("31st October 2025", day("2025-10-31")),
        ("31.10.2025", day("2025-10-31")),
        ("3/4/2025", day("2025-03-04")),  # a slash: month first
        ("13/11/2025 09:21:40", day("2025-11-13")),  # unless the first cannot be a month
        ("3 декабря 2025", day("2025-12-03")),
        ("3 dekabr 2025", day("2025-12-03")),
        ("no date here", None),
        ("31.02.2025", None),
    ],
)
def test_dates_as_people_write_them(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("lang", "expected"), [("en-US", "2023-03-10"), ("en-GB", "2023-10-03"), ("de", "2023-10-03")]
)
def test_a_slashed_date_is_read_as_the_pages_country_writes_it(lang: str, expected: str) -> None:
    tree = lxml.html.fromstring(
        f"<html lang='{lang}'><body><h1>Talks resume</h1><p>03/10/2023</p></body></html>"
    )
    assert published(tree, [], None, next(tree.iter("h1"))) == (day(expected), "dateline")


def test_an_xhtml_page_declares_its_country_in_xml_lang() -> None:
    tree = lxml.html.fromstring(
        '<html xml:lang="en-GB"><body><h1>Talks resume</h1><p>02/10/2020</p></body></html>'
    )
    assert published(tree, [], None, next(tree.iter("h1"))) == (day("2020-10-02"), "dateline")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://wine.example/blog/2023/october/03/wine-styles/", "2023-10-03"),
        ("https://wine.example/blog/2023/10/03/wine-styles/", "2023-10-03"),
        ("https://wine.example/blog/wine-styles/", "2023-03-10"),  # no word from the URL
    ],
)
def test_the_articles_dated_url_tells_day_from_month(url: str, expected: str) -> None:
    tree = lxml.html.fromstring(
        "<html lang='en'><body><h1>Wine styles</h1><p>03/10/2023</p><p>by the editors</p>"
        "</body></html>"
    )
    got = published(tree, [], None, next(tree.iter("h1")), url)
    assert got == (day(expected), "dateline")
