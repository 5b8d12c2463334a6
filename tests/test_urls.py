"""URL canonicalisation, site membership and the article-URL heuristic."""

from __future__ import annotations

import re

import pytest

from extractors.urls import canonicalize, is_article_url, looks_like_article, same_site

# --- canonicalize ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Tracking parameters go, the article's own id stays.
        (
            "https://example.com/news/a-b-c?utm_source=rss&utm_medium=feed&utm_campaign=x",
            "https://example.com/news/a-b-c",
        ),
        ("https://example.com/news/a-b-c?fbclid=IwAR0abc123", "https://example.com/news/a-b-c"),
        (
            "https://example.com/news/view?id=12345&utm_source=tg&fbclid=zz",
            "https://example.com/news/view?id=12345",
        ),
        ("https://example.com/news/a-b-c?gclid=Cj0KCQ", "https://example.com/news/a-b-c"),
        # Fragments never name a different article.
        ("https://example.com/news/a-b-c#comments", "https://example.com/news/a-b-c"),
        ("https://example.com/news/a-b-c/#respond", "https://example.com/news/a-b-c/"),
        # Case of scheme and host, default ports, surrounding whitespace.
        ("HTTPS://Example.COM/News/Story", "https://example.com/News/Story"),
        ("HTTP://WWW.EXAMPLE.COM:80/a", "http://www.example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("  https://example.com/a \n", "https://example.com/a"),
        # A bare origin gets a path.
        ("https://example.com", "https://example.com/"),
        # Loopback mirrors keep their port.
        ("http://127.0.0.1:8123/a?utm_campaign=z", "http://127.0.0.1:8123/a"),
    ],
)
def test_canonicalize_drops_tracking_and_fragment(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_canonicalize_is_idempotent() -> None:
    once = canonicalize("HTTPS://Example.com:443/news/a-b-c?utm_source=x&id=7#top")
    assert once == "https://example.com/news/a-b-c?id=7"
    assert canonicalize(once) == once


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("/news/x-y-z", "https://example.com/section/", "https://example.com/news/x-y-z"),
        ("x-y-z", "https://example.com/section/", "https://example.com/section/x-y-z"),
        ("x-y-z", "https://example.com/section/list", "https://example.com/section/x-y-z"),
        ("../a-b-c", "https://example.com/one/two/", "https://example.com/one/a-b-c"),
        ("?page=2", "https://example.com/region/az?page=1", "https://example.com/region/az?page=2"),
        ("//cdn.example.com/a", "https://example.com/", "https://cdn.example.com/a"),
        ("/a?utm_medium=m#f", "https://example.com/", "https://example.com/a"),
        # An absolute URL ignores the base.
        ("https://other.example.org/p", "https://example.com/", "https://other.example.org/p"),
    ],
)
def test_canonicalize_resolves_relative_urls(href: str, base: str, expected: str) -> None:
    assert canonicalize(href, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mailto:editor@example.com",
        "javascript:void(0)",
        "tel:+994120000000",
        "ftp://example.com/file.txt",
        "data:text/html,hello",
        "",
        "https://",
        "/news/relative-without-base",
    ],
)
def test_canonicalize_rejects_non_http(url: str) -> None:
    assert canonicalize(url) is None


def test_canonicalize_rejects_non_http_even_with_base() -> None:
    assert canonicalize("mailto:a@example.com", "https://example.com/") is None
    assert canonicalize("javascript:alert(1)", "https://example.com/") is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # A PHP news script: the id parameter *is* the article.
        ("https://example.com/news.php?newsid=1001", "https://example.com/news.php?newsid=1002"),
        # 1C-Bitrix (common on Russian-language sites): pagination and element ids.
        ("https://example.ru/news/?PAGEN_1=2", "https://example.ru/news/?PAGEN_1=3"),
        (
            "https://example.ru/detail.php?ELEMENT_ID=77",
            "https://example.ru/detail.php?ELEMENT_ID=78",
        ),
        # Joomla-style listing offsets.
        ("https://example.com/news?start=20", "https://example.com/news?start=40"),
    ],
)
def test_canonicalize_keeps_parameters_that_identify_the_page(first: str, second: str) -> None:
    """Only tracking parameters may be dropped: two different articles (or listing pages)
    must not collapse into one URL."""
    a, b = canonicalize(first), canonicalize(second)
    assert a is not None and b is not None
    assert a != b


# --- same_site ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "homepage"),
    [
        ("https://www.example.com/news/x", "https://example.com/"),
        ("https://example.com/news/x", "https://www.example.com/"),
        ("https://m.example.com/news/x", "https://www.example.com/"),
        ("http://example.com/news/x", "https://example.com/"),  # scheme does not matter
        ("https://news.example.co.uk/a", "https://www.example.co.uk/"),  # public suffix
        ("https://WWW.Example.COM/a", "https://example.com/"),
        ("http://127.0.0.1:8001/news/x", "http://127.0.0.1:8001/"),
        ("http://localhost:8001/news/x", "http://localhost:8001/"),
    ],
)
def test_same_site_true(url: str, homepage: str) -> None:
    assert same_site(url, homepage)


@pytest.mark.parametrize(
    ("url", "homepage"),
    [
        ("https://example.org/news/x", "https://example.com/"),
        ("https://evil-example.com/x", "https://example.com/"),
        ("https://example.com.evil.net/x", "https://example.com/"),
        ("https://other.co.uk/a", "https://example.co.uk/"),
        # Loopback mirrors: each port is a different site.
        ("http://127.0.0.1:8002/news/x", "http://127.0.0.1:8001/"),
        ("http://localhost:8002/news/x", "http://localhost:8001/"),
        ("http://127.0.0.2:8001/news/x", "http://127.0.0.1:8001/"),
    ],
)
def test_same_site_false(url: str, homepage: str) -> None:
    assert not same_site(url, homepage)


# --- is_article_url / looks_like_article -----------------------------------------------------


def test_is_article_url_applies_pattern_with_search_to_path_and_query() -> None:
    pattern = re.compile(r"^/news/\d+")
    assert is_article_url("https://example.com/news/123?x=1", pattern)
    assert is_article_url("http://127.0.0.1:9000/news/123", pattern)  # a mirror matches too
    assert not is_article_url("https://example.com/blog/news/123", pattern)  # anchored to path
    # The pattern overrides the heuristic both ways.
    assert not is_article_url("https://example.com/politics/a-long-article-slug", pattern)
    assert looks_like_article("https://example.com/politics/a-long-article-slug")
    assert is_article_url("https://example.com/news/12", re.compile(r"^/news/\d+$"))
    assert not looks_like_article("https://example.com/news/12")


def test_is_article_url_pattern_sees_the_query() -> None:
    pattern = re.compile(r"[?&]id=\d+")
    assert is_article_url("https://example.com/view.php?id=77", pattern)
    assert not is_article_url("https://example.com/view.php", pattern)
    # search, not match: an unanchored pattern may match in the middle.
    assert is_article_url("https://example.com/a/b/view.php?lang=az&id=5", pattern)


def test_is_article_url_pattern_from_config() -> None:
    # The eurasianet pattern shipped in newsmon.toml.
    pattern = re.compile(
        r"^/(?!(?:region|topic|author|node|user|search|about|donate)(?:/|$))[a-z0-9-]{16,}$"
    )
    assert is_article_url("https://eurasianet.org/azerbaijan-and-russia-sign-deal", pattern)
    assert not is_article_url("https://eurasianet.org/region/azerbaijan", pattern)
    assert not is_article_url("https://eurasianet.org/about", pattern)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/news/azerbaijan-and-russia-sign-deal",
        "https://example.com/azerbaijan-and-russia-sign-deal/",
        "https://example.com/az/news/politika-xeberleri-bu-gun",
        "https://example.com/ru/новости-дня-сегодня",
        "https://example.com/news/123456",
        "https://example.com/world/1012345",
        "https://example.com/politics/12345-moscow-talks",
        "https://example.com/2024/05/17/some-slug",
        "https://example.com/news/20240517-report",
    ],
)
def test_looks_like_article_true(url: str) -> None:
    assert looks_like_article(url)
    assert is_article_url(url, None)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://example.com",
        "https://example.com/category/politics/",
        # Listing segments win even over slug-like names.
        "https://example.com/category/politics-and-society-news/",
        "https://example.com/tag/russia-azerbaijan-relations",
        "https://example.com/region/south-caucasus-news",
        "https://example.com/section/world-news-today",
        "https://example.com/search/baku-moscow-talks",
        "https://example.com/category/politics/page/2/",
        "https://example.com/tag/russia",
        "https://example.com/tags/big-news-day",
        "https://example.com/author/jane",
        "https://example.com/author/jane-doe-smith",
        "https://example.com/page/2",
        "https://example.com/about",
        "https://example.com/contact",
        "https://example.com/feed/",
        "https://example.com/search?q=baku-moscow-talks",
        "https://example.com/news/",
        "https://example.com/news/politics",
        "https://example.com/news/two-words",
        "https://example.com/news/123",
        "https://example.com/images/big-red-photo.jpg",
        "https://example.com/wp-content/uploads/2024/05/big-red-photo.png",
        "https://example.com/files/annual-report-2023-final.pdf",
        "https://example.com/static/app-bundle-main.js",
    ],
)
def test_looks_like_article_false(url: str) -> None:
    assert not looks_like_article(url)
    assert not is_article_url(url, None)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/2024/",
        "https://example.com/2024/05/",
        "https://example.com/2024/05/17/",
    ],
)
def test_date_archives_are_not_articles(url: str) -> None:
    """WordPress date archives are listings; a year is not an article id."""
    assert not looks_like_article(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/news/azerbaijan-and-russia-sign-deal.html",
        "https://example.com/politics/baku-talks-resume-today.htm",
        "https://example.com/news/caspian-transit-grows-fast.shtml",
    ],
)
def test_slug_with_page_extension_is_an_article(url: str) -> None:
    """A slug of three or more words is still a slug when the CMS appends .html."""
    assert looks_like_article(url)


def test_feed_items_are_articles_on_the_outlets_word() -> None:
    """A feed lists the outlet's items: a short slug is still an article there, though the same
    link met in a sitemap or on a listing page is not taken on its looks."""
    short = "https://example.com/news/report-0"
    assert not is_article_url(short, None)
    assert is_article_url(short, None, feed_item=True)
    assert is_article_url("https://example.com/news/12", None, feed_item=True)
    assert not is_article_url("https://example.com/", None, feed_item=True)  # the homepage
    assert not is_article_url("https://example.com/podcast/ep-3.mp3", None, feed_item=True)
    # An explicit article_pattern still decides, for feed items too.
    assert not is_article_url(short, re.compile(r"^/story/"), feed_item=True)
