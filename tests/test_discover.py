"""Reading feeds, sitemaps and listing pages into candidate URLs (no fetching here)."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from extractors.discover import (
    DiscoveryError,
    feed_links,
    harvest_links,
    next_page_url,
    parse_datetime,
    parse_feed,
    parse_sitemap,
)

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SITEMAPS = Path(__file__).parent / "fixtures" / "sitemaps"


def tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# --- parse_feed ------------------------------------------------------------------------------


def test_rss2_entries_urls_and_titles() -> None:
    entries = parse_feed((FEEDS / "rss2.xml").read_bytes(), "https://news.example.com/feed/")
    assert [e.url for e in entries] == [
        # utm_* dropped, fragment dropped
        "https://news.example.com/baku-and-moscow-resume-talks-on-transit/",
        "https://news.example.com/caspian-shipping-volumes-rise/",
        "https://news.example.com/wire-digest-without-a-date/",
        # no <link>: the permalink guid is the URL
        "https://news.example.com/permalink-only-in-guid/",
    ]
    # Whitespace in titles is collapsed.
    assert entries[0].title == "Baku and Moscow resume talks on transit"
    assert entries[1].title == "Caspian shipping volumes rise"
    assert all(e.modified_at is None for e in entries)


def test_rss2_pubdate_keeps_the_feeds_own_offset() -> None:
    entries = parse_feed((FEEDS / "rss2.xml").read_bytes(), "https://news.example.com/feed/")
    first, second, undated, gmt = entries
    # +0400: the wall-clock time and the offset are the feed's, not converted to UTC.
    assert first.published_at is not None
    assert (first.published_at.hour, first.published_at.minute) == (14, 30)
    assert first.published_at.utcoffset() == timedelta(hours=4)
    assert first.published_at == datetime(2024, 5, 17, 10, 30, tzinfo=UTC)
    # -0500 late in the evening: still the 16th locally, the 17th in UTC.
    assert second.published_at is not None
    assert second.published_at.utcoffset() == timedelta(hours=-5)
    assert (second.published_at.day, second.published_at.hour) == (16, 23)
    assert second.published_at == datetime(2024, 5, 17, 4, 5, 10, tzinfo=UTC)
    assert undated.published_at is None
    assert gmt.published_at == datetime(2024, 5, 15, 8, 0, tzinfo=UTC)
    assert gmt.published_at is not None and gmt.published_at.utcoffset() == timedelta(0)


def test_atom_entries() -> None:
    entries = parse_feed((FEEDS / "atom.xml").read_bytes(), "https://atom.example.org/atom.xml")
    assert [e.url for e in entries] == [
        # the alternate link, not rel=replies
        "https://atom.example.org/news/2024/05/17/peregovory-v-baku-prodolzhatsya",
        # no link at all: an http(s) id is the URL
        "https://atom.example.org/news/only-updated-entry",
    ]
    assert entries[0].title == "Переговоры в Баку продолжатся"
    # <published> wins over <updated>, with its own offset.
    assert entries[0].published_at == datetime(2024, 5, 17, 8, 15, tzinfo=tz(3))
    assert entries[0].published_at.utcoffset() == timedelta(hours=3)
    # Only <updated>: that is the date.
    assert entries[1].published_at == datetime(2024, 5, 16, 21, 0, tzinfo=tz(-7))
    assert entries[1].published_at.utcoffset() == timedelta(hours=-7)


def test_rss1_rdf_entries() -> None:
    entries = parse_feed((FEEDS / "rdf.xml").read_bytes(), "https://rdf.example.net/rss")
    assert [(e.url, e.title) for e in entries] == [
        ("https://rdf.example.net/story/caspian-summit-opens-today", "Caspian summit opens today"),
        ("https://rdf.example.net/story/9876543", "Numeric story"),
    ]
    assert entries[0].published_at == datetime(2024, 5, 17, 12, 0, tzinfo=tz(5))
    assert entries[0].published_at.utcoffset() == timedelta(hours=5)
    assert entries[1].published_at is None


def test_json_feed_1_1() -> None:
    raw = (FEEDS / "jsonfeed.json").read_bytes()
    entries = parse_feed(raw, "https://json.example.com/feed.json")
    assert [e.url for e in entries] == [
        "https://json.example.com/posts/json-feed-first-post",
        "https://elsewhere.example/ext/linked-story-abc",  # external_url when no url
        "https://json.example.com/posts/relative-json-item",  # resolved against the feed
    ]  # the item without any URL is skipped
    assert entries[0].title == "First post"
    assert entries[0].published_at == datetime(2024, 5, 17, 10, 0, tzinfo=tz(2))
    assert entries[0].published_at.utcoffset() == timedelta(hours=2)
    assert entries[1].title is None
    assert entries[1].published_at == datetime(2024, 5, 18, 10, 0, tzinfo=UTC)  # date_modified
    assert entries[2].published_at is None
    # str input is accepted too and reads the same.
    assert parse_feed(raw.decode("utf-8"), "https://json.example.com/feed.json") == entries


def test_json_feed_skips_non_object_items() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": ["junk", 42, None, {"id": "1", "url": "https://j.example.com/a-b-c"}],
        }
    )
    assert [e.url for e in parse_feed(body, "https://j.example.com/")] == [
        "https://j.example.com/a-b-c"
    ]


def test_feed_with_relative_links() -> None:
    entries = parse_feed((FEEDS / "relative.xml").read_bytes(), "https://example.com/news/feed.xml")
    assert [e.url for e in entries] == [
        "https://example.com/news/root-relative-story-link",
        "https://example.com/news/path-relative-story-link",
        "https://cdn.example.com/news/scheme-relative-story",
    ]  # the mailto: link is dropped
    assert entries[0].published_at == datetime(2024, 5, 17, 9, 0, tzinfo=UTC)


def test_illformed_but_recoverable_feed_still_yields_entries() -> None:
    # A bare "&" and an undeclared &nbsp; make it ill-formed XML; feedparser recovers.
    entries = parse_feed((FEEDS / "illformed.xml").read_bytes(), "https://ill.example.com/feed")
    assert [e.url for e in entries] == [
        "https://ill.example.com/news/oil-gas-deal-signed",
        "https://ill.example.com/news/second-story-here",
    ]
    assert entries[0].title is not None and entries[0].title.startswith("Oil & gas")
    assert entries[0].published_at == datetime(2024, 5, 17, 14, 30, tzinfo=tz(3))


def test_feed_in_windows_1251() -> None:
    body = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel>'
        "<title>Новости</title><item><title>Переговоры в Баку</title>"
        "<link>https://example.ru/news/12345</link></item></channel></rss>"
    ).encode("cp1251")
    [entry] = parse_feed(body, "https://example.ru/rss")
    assert entry.title == "Переговоры в Баку"
    assert entry.url == "https://example.ru/news/12345"


def test_wellformed_feed_without_items_is_empty_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    assert parse_feed(body, "https://example.com/feed") == []


NOT_FEEDS = {
    "html page": (
        b"<!DOCTYPE html><html><head><title>Home</title></head>"
        b'<body><h1>Welcome</h1><a href="/news/a-b-c">story</a></body></html>'
    ),
    "truncated xml": b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel>\n<title>Trunc',
    "truncated at root": b'<?xml version="1.0"?><rss',
    "random bytes": random.Random(7).randbytes(600),
    "all byte values": bytes(range(256)) * 2,
    "plain text": b"hello world\nthis is not a feed\n",
    "other xml": b'<?xml version="1.0"?><catalog><book id="1">x</book></catalog>',
    "json not a feed": b'{"status": "ok", "items": [1, 2]}',
    "json list": b'[{"url": "https://example.com/a-b-c"}]',
    "broken json": b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    "empty": b"",
    "whitespace": b"  \n\t ",
}


@pytest.mark.parametrize("body", NOT_FEEDS.values(), ids=NOT_FEEDS.keys())
def test_not_a_feed_raises_one_line_discovery_error(body: bytes) -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_feed(body, "https://example.com/feed")
    message = str(info.value)
    assert message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 300


def test_parse_datetime() -> None:
    assert parse_datetime("2024-05-17T10:00:00Z") == datetime(2024, 5, 17, 10, tzinfo=UTC)
    local = parse_datetime("Fri, 17 May 2024 14:30:00 +0400")
    assert local is not None and local.utcoffset() == timedelta(hours=4) and local.hour == 14
    naive = parse_datetime("2024-05-17T10:00:00")
    assert naive == datetime(2024, 5, 17, 10, tzinfo=UTC)  # naive is taken as UTC
    assert parse_datetime("2024-05-17") == datetime(2024, 5, 17, tzinfo=UTC)
    assert parse_datetime("") is None
    assert parse_datetime("   ") is None
    assert parse_datetime("yesterday afternoon") is None


# --- parse_sitemap ---------------------------------------------------------------------------


def test_urlset_lastmod_is_modified_not_published() -> None:
    body = (SITEMAPS / "urlset.xml").read_bytes()
    content = parse_sitemap(body, "https://www.example.com/sitemap.xml")
    assert content.children == []
    assert [e.url for e in content.entries] == [
        "https://www.example.com/news/first-article-in-sitemap",
        "https://www.example.com/news/second-article-in-sitemap",  # whitespace, utm dropped
        "https://www.example.com/news/third-article-without-lastmod",
    ]  # a <url> without <loc> is skipped
    first, second, third = content.entries
    assert first.published_at is None
    assert first.modified_at == datetime(2024, 5, 17, 10, 0, tzinfo=tz(4))
    assert first.modified_at.utcoffset() == timedelta(hours=4)
    assert second.modified_at == datetime(2024, 5, 16, tzinfo=UTC)
    assert second.published_at is None
    assert third.modified_at is None and third.published_at is None
    assert all(e.title is None for e in content.entries)


def test_google_news_sitemap() -> None:
    body = (SITEMAPS / "news.xml").read_bytes()
    content = parse_sitemap(body, "https://xeber.example.az/news-sitemap.xml")
    first, second = content.entries
    assert first.url == "https://xeber.example.az/az/news/baki-ve-moskva-danisiqlari-berpa-edir"
    assert first.title == "Bakı və Moskva danışıqları bərpa edir"
    assert first.published_at == datetime(2024, 5, 17, 14, 30, tzinfo=tz(4))
    assert first.published_at.utcoffset() == timedelta(hours=4)
    # lastmod is kept apart as the modification time.
    assert first.modified_at == datetime(2024, 5, 17, 15, 45, tzinfo=tz(4))
    assert second.title == "Каспийский транзит растёт"
    assert second.published_at == datetime(2024, 5, 17, tzinfo=UTC)
    assert second.modified_at is None


def test_sitemap_index_lists_children() -> None:
    body = (SITEMAPS / "index.xml").read_bytes()
    content = parse_sitemap(body, "https://www.example.com/sitemap_index.xml")
    assert content.entries == []
    assert [c.url for c in content.children] == [
        "https://www.example.com/post-sitemap1.xml",
        "https://www.example.com/post-sitemap2.xml.gz",
        "https://www.example.com/category-sitemap.xml",  # relative loc resolved
    ]
    assert content.children[0].modified_at == datetime(2024, 5, 17, 10, tzinfo=UTC)
    assert content.children[1].modified_at is None


def test_gzipped_sitemap_is_decompressed() -> None:
    plain = (SITEMAPS / "urlset.xml").read_bytes()
    packed = gzip.compress(plain)
    assert packed[:2] == b"\x1f\x8b"
    base = "https://www.example.com/sitemap.xml.gz"
    assert parse_sitemap(packed, base) == parse_sitemap(plain, base)
    assert len(parse_sitemap(packed, base).entries) == 3


def test_gzipped_sitemap_index() -> None:
    packed = gzip.compress((SITEMAPS / "index.xml").read_bytes())
    content = parse_sitemap(packed, "https://www.example.com/sitemap_index.xml.gz")
    assert len(content.children) == 3


def test_plain_text_sitemap() -> None:
    body = (SITEMAPS / "plain.txt").read_bytes()
    content = parse_sitemap(body, "https://www.example.com/sitemap.txt")
    assert [e.url for e in content.entries] == [
        "https://www.example.com/news/plain-text-sitemap-one",
        "https://www.example.com/news/plain-text-sitemap-two",
        "https://www.example.com/news/plain-text-sitemap-three",
    ]
    assert content.children == []
    assert all(e.published_at is None and e.modified_at is None for e in content.entries)


def test_image_titles_are_not_article_titles() -> None:
    """image:title captions a photo; a plain urlset carries no article title."""
    body = (SITEMAPS / "images.xml").read_bytes()
    [entry] = parse_sitemap(body, "https://www.example.com/post-sitemap.xml").entries
    assert entry.url == "https://www.example.com/news/article-with-a-photo"
    assert entry.modified_at == datetime(2024, 5, 17, 10, tzinfo=UTC)
    assert entry.title is None


NOT_SITEMAPS = {
    "empty": b"",
    "whitespace": b" \n ",
    "plain words": b"hello world, no urls here\n",
    "html": b"<!DOCTYPE html><html><body><p>Not found</p></body></html>",
    "rss": b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
    "corrupt gzip": b"\x1f\x8b\x08garbage-after-the-magic",
    "gzipped words": gzip.compress(b"hello world"),
    "random bytes": random.Random(11).randbytes(500),
    "all byte values": bytes(range(256)),
    "comment only": b"<!-- nothing -->",
}


@pytest.mark.parametrize("body", NOT_SITEMAPS.values(), ids=NOT_SITEMAPS.keys())
def test_garbage_is_not_a_sitemap(body: bytes) -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_sitemap(body, "https://www.example.com/sitemap.xml")
    assert str(info.value)
    assert "\n" not in str(info.value)


# --- harvest_links ---------------------------------------------------------------------------

LISTING = """<!DOCTYPE html>
<html><head><title>Politics</title></head><body>
<nav><a href="/">Home</a> <a href="#main">Skip</a></nav>
<main id="main">
  <article><h2><a href="https://example.com/news/absolute-story-link">Absolute story</a></h2></article>
  <article><h2><a href="relative-story-link?utm_source=section">Relative story</a></h2></article>
  <article><a href="/news/absolute-story-link"><img src="/i.jpg" alt=""></a>
           <a href="/news/absolute-story-link#comments">Absolute story, with a longer anchor</a></article>
  <a href="mailto:desk@example.com">Mail us</a>
  <a href="javascript:void(0)">Share</a>
  <a href="tel:+994120000000">Call</a>
  <a href="ftp://example.com/archive.zip">FTP</a>
  <a>no href</a>
  <a href="">empty href</a>
  <a href="https://partner.example.org/their-story">  Partner
     story  </a>
</main></body></html>"""


def test_harvest_links() -> None:
    entries = harvest_links(LISTING, "https://example.com/politics/")
    by_url = {e.url: e.title for e in entries}
    assert list(by_url) == [
        "https://example.com/",
        "https://example.com/news/absolute-story-link",
        "https://example.com/politics/relative-story-link",
        "https://partner.example.org/their-story",
    ]
    assert len(entries) == len(by_url)  # duplicates merged
    # Of the anchors for one URL, the longest text wins (an image link has none).
    assert by_url["https://example.com/news/absolute-story-link"] == (
        "Absolute story, with a longer anchor"
    )
    assert by_url["https://example.com/politics/relative-story-link"] == "Relative story"
    assert by_url["https://partner.example.org/their-story"] == "Partner story"


def test_harvest_links_image_only_anchor_has_no_title() -> None:
    html = '<html><body><a href="/news/photo-story-link"><img src="a.jpg"></a></body></html>'
    [entry] = harvest_links(html, "https://example.com/")
    assert entry.url == "https://example.com/news/photo-story-link"
    assert entry.title is None


def test_harvest_links_honours_base_href() -> None:
    html = """<html><head><base href="https://mirror.example.net/archive/"></head><body>
      <a href="story-one-two-three">One</a>
      <a href="/root-story-link">Root</a>
      <a href="https://example.com/absolute">Abs</a>
    </body></html>"""
    urls = [e.url for e in harvest_links(html, "https://example.com/politics/")]
    assert urls == [
        "https://mirror.example.net/archive/story-one-two-three",
        "https://mirror.example.net/root-story-link",
        "https://example.com/absolute",
    ]


def test_harvest_links_relative_base_href() -> None:
    html = '<html><head><base href="/en/"></head><body><a href="news/a-b-c">x</a></body></html>'
    [entry] = harvest_links(html, "https://example.com/ru/politics/")
    assert entry.url == "https://example.com/en/news/a-b-c"


def test_harvest_links_on_empty_or_linkless_html() -> None:
    assert harvest_links("", "https://example.com/") == []
    assert harvest_links("<html><body><p>No links</p></body></html>", "https://example.com/") == []


# --- next_page_url ---------------------------------------------------------------------------

BASE = "https://example.com/region/south-caucasus?page=0"


def test_next_page_from_link_rel_next() -> None:
    html = (
        '<html><head><link rel="prev" href="/news?page=0">'
        '<link rel="next" href="/news?page=2"></head><body><a href="/x">x</a></body></html>'
    )
    assert next_page_url(html, BASE) == "https://example.com/news?page=2"


def test_next_page_from_anchor_rel_next() -> None:
    html = '<html><body><a rel="nofollow next" href="page/3/">Load more</a></body></html>'
    assert next_page_url(html, "https://example.com/news/") == "https://example.com/news/page/3/"


def test_next_page_drupal_pager() -> None:
    # Drupal 8+ pager markup without rel=next; the link text is an icon.
    html = """<html><body><nav class="pager" role="navigation"><ul class="pager__items js-pager__items">
      <li class="pager__item is-active"><a href="?page=0" title="Current page">1</a></li>
      <li class="pager__item"><a href="?page=1" title="Go to page 2">2</a></li>
      <li class="pager__item"><a href="?page=2" title="Go to page 3">3</a></li>
      <li class="pager__item pager__item--next"><a href="?page=1" title="Go to next page">
        <span class="visually-hidden">Next page</span><span aria-hidden="true">&rsaquo;&rsaquo;</span></a></li>
      <li class="pager__item pager__item--last"><a href="?page=9" title="Go to last page">Last</a></li>
    </ul></nav></body></html>"""
    assert next_page_url(html, BASE) == "https://example.com/region/south-caucasus?page=1"


def test_next_page_drupal_pager_icon_only() -> None:
    # The same pager when the theme shows only an icon: the class is the only clue.
    html = """<html><body><ul class="pager__items">
      <li class="pager__item is-active"><a href="?page=3">4</a></li>
      <li class="pager__item pager__item--next"><a href="?page=4" title="Go to next page">
        <span aria-hidden="true">&rsaquo;&rsaquo;</span></a></li>
    </ul></body></html>"""
    base = "https://example.com/region/south-caucasus?page=3"
    assert next_page_url(html, base) == "https://example.com/region/south-caucasus?page=4"


def test_next_page_wordpress_pagination() -> None:
    html = """<html><body><nav class="navigation pagination"><div class="nav-links">
      <span aria-current="page" class="page-numbers current">1</span>
      <a class="page-numbers" href="https://example.com/category/opinion/page/2/">2</a>
      <a class="page-numbers" href="https://example.com/category/opinion/page/3/">3</a>
      <a class="next page-numbers" href="https://example.com/category/opinion/page/2/"><i class="icon-arrow"></i></a>
    </div></nav></body></html>"""
    assert (
        next_page_url(html, "https://example.com/category/opinion/")
        == "https://example.com/category/opinion/page/2/"
    )


@pytest.mark.parametrize(
    ("text", "href"),
    [("Next »", "/news/?p=2"), ("Növbəti", "/xeberler/2"), ("Далее →", "/novosti/page/2")],
)
def test_next_page_from_link_text(text: str, href: str) -> None:
    html = f'<html><body><a href="/news/a-b-c">Story</a><a href="{href}">{text}</a></body></html>'
    assert next_page_url(html, "https://example.com/news/") == "https://example.com" + href


def test_next_page_respects_base_href() -> None:
    html = (
        '<html><head><base href="https://example.com/m/"></head>'
        '<body><a rel="next" href="list?page=2">more</a></body></html>'
    )
    assert next_page_url(html, "https://example.com/") == "https://example.com/m/list?page=2"


@pytest.mark.parametrize(
    "html",
    [
        '<html><body><a href="/news/a-b-c">Article</a><a href="/about">About</a></body></html>',
        # previous-page links only
        '<html><head><link rel="prev" href="/n?page=0"></head>'
        '<body><a class="prev page-numbers" href="/p/1">« Previous</a></body></html>',
        # a headline that merely starts with "Next..." as part of a word
        '<html><body><a href="/nextgen-phones-review">Nextgen phones reviewed</a></body></html>',
        # rel=next without href
        '<html><head><link rel="next"></head><body></body></html>',
        "",
    ],
)
def test_no_next_page(html: str) -> None:
    assert next_page_url(html, BASE) is None


# --- feed_links ------------------------------------------------------------------------------

WP_HEAD = """<!DOCTYPE html><html lang="en-US"><head>
<meta charset="UTF-8">
<link rel="alternate" type="application/rss+xml" title="Example &raquo; Feed" href="https://example.com/feed/" />
<link rel="alternate" type="application/rss+xml" title="Example &raquo; Comments Feed" href="https://example.com/comments/feed/" />
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">
<link rel="alternate" type="application/feed+json" title="JSON Feed" href="feed.json">
<link rel="alternate" type="application/rdf+xml" href="/index.rdf">
<link rel="Alternate" type="Application/RSS+XML" href="/rss?utm_source=head">
<link rel="alternate" type="application/rss+xml" href="https://example.com/feed/">
<link rel="alternate" type="application/rss+xml">
<link rel="alternate" type="text/html" hreflang="ru" href="https://example.com/ru/">
<link rel="stylesheet" type="text/css" href="/style.css">
<link rel="https://api.w.org/" href="https://example.com/wp-json/" />
</head><body><a href="/feed/">RSS</a></body></html>"""


def test_feed_links_finds_rss_atom_json_and_rdf() -> None:
    assert feed_links(WP_HEAD, "https://example.com/news/") == [
        "https://example.com/feed/",  # once, though announced twice
        "https://example.com/atom.xml",
        "https://example.com/news/feed.json",  # relative to the page
        "https://example.com/index.rdf",
        "https://example.com/rss",  # rel/type compared case-insensitively; utm dropped
    ]


def test_feed_links_skips_wordpress_comment_feed() -> None:
    found = feed_links(WP_HEAD, "https://example.com/")
    assert "https://example.com/comments/feed/" not in found
    assert all("/comments/" not in url for url in found)


def test_feed_links_skips_wordpress_rest_api_alternate() -> None:
    """WordPress (5.5+) announces the REST resource of the page as
    rel=alternate type=application/json; it is an API document, not a JSON Feed."""
    html = """<html><head>
    <link rel="https://api.w.org/" href="https://example.com/wp-json/" />
    <link rel="alternate" title="JSON" type="application/json" href="https://example.com/wp-json/wp/v2/pages/42" />
    <link rel="alternate" type="application/rss+xml" title="Example &raquo; Feed" href="https://example.com/feed/" />
    </head><body></body></html>"""
    assert feed_links(html, "https://example.com/") == ["https://example.com/feed/"]


def test_feed_links_none() -> None:
    html = '<html><head><link rel="stylesheet" href="/s.css"></head><body></body></html>'
    assert feed_links(html, "https://example.com/") == []
    assert feed_links("", "https://example.com/") == []


def test_listing_page_with_an_xml_declaration_yields_its_links() -> None:
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<body><a href="/news/2026/a-long-article-slug-here">A story</a></body></html>'
    )
    urls = [e.url for e in harvest_links(xhtml, "https://ex.org/")]
    assert urls == ["https://ex.org/news/2026/a-long-article-slug-here"]
