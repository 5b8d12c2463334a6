"""URL canonicalisation and the rules that decide whether a URL is an outlet's article."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan

# Path segments that mark listings and utility pages rather than articles.
_NON_ARTICLE_SEGMENTS = {
    "tag", "tags", "category", "categories", "author", "authors", "page", "search", "feed",
    "rss", "login", "user", "users", "account", "wp-admin", "wp-login.php", "about", "contact",
    "privacy-policy", "terms", "cookies", "subscribe", "newsletter", "donate", "region", "topic",
    "topics", "section", "archive", "archives", "video", "photo", "gallery",
}  # fmt: skip
_ASSET = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|css|js|pdf|zip|mp[34]|xml|json|txt|ico)$", re.I)
_SLUG = re.compile(r"[\w%]+(?:-[\w%]+){2,}")
_PAGE_EXTENSION = re.compile(r"\.(?:html?|shtml|php|aspx?)$", re.I)
_DATE_SEGMENT = re.compile(r"^(?:19|20)\d\d$|^[01]?\d$|^[0-3]?\d$")


def canonicalize(url: str, base: str | None = None) -> str | None:
    """The URL an article is known by: absolute, tracking parameters and fragment dropped.

    Returns None for what is not an http(s) URL.
    """
    if base:
        url = urljoin(base, url.strip())
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    try:
        # Non-strict: drop trackers (utm_*, fbclid, ...) but keep parameters that name the page
        # (?newsid=, ?ELEMENT_ID=, ?start=): strict mode would merge distinct articles.
        normalized = courlan.normalize_url(url, strict=False)
    except (ValueError, AttributeError):
        return None
    parts = urlsplit(normalized)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _is_ip_or_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def site_key(url: str) -> str:
    """What two URLs must share to belong to one outlet: the registered domain, or for
    loopback/IP hosts (mirrors, tests) the exact host and port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _is_ip_or_local(host):
        return parts.netloc.lower()
    return courlan.extract_domain(url) or host


def same_site(url: str, homepage: str) -> bool:
    return site_key(url) == site_key(homepage)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def looks_like_article(url: str) -> bool:
    """Heuristic for outlets without an `article_pattern`: a slug or numeric id, not a listing."""
    parts = urlsplit(url)
    path = parts.path
    segments = [s for s in path.split("/") if s]
    if not segments or _ASSET.search(path):
        return False
    if any(s.lower() in _NON_ARTICLE_SEGMENTS for s in segments):
        return False
    if courlan.is_navigation_page(url) or courlan.is_not_crawlable(url):
        return False
    last = _PAGE_EXTENSION.sub("", segments[-1])
    if all(_DATE_SEGMENT.match(s) for s in segments):
        return False  # /2024/05/17/ is a date archive
    dated = any(re.fullmatch(r"(?:19|20)\d\d", s) for s in segments[:-1])
    if dated and re.search(r"[^\W\d]", last):
        return True  # /2024/05/17/some-slug: a dated permalink
    return bool(_SLUG.fullmatch(last) or _has_numeric_id(segments) or len(last) >= 40)


def _has_numeric_id(segments: list[str]) -> bool:
    """An id of 5+ digits, or 4+ digits inside a slug-like segment (not a bare year)."""
    for segment in segments:
        stem = _PAGE_EXTENSION.sub("", segment)
        if re.fullmatch(r"\d{5,}", stem):
            return True
        if re.search(r"\d{4,}", stem) and re.search(r"[^\d]", stem):
            return True
    return False


def is_article_url(url: str, pattern: re.Pattern[str] | None, feed_item: bool = False) -> bool:
    """The outlet's `article_pattern` decides when it has one. Otherwise a feed item is an
    article on the outlet's own word (short slugs like /news/report-0 included), unless it is a
    file or the homepage; links from sitemaps and listings need to look like an article."""
    if pattern is not None:
        return pattern.search(path_and_query(url)) is not None
    if feed_item:
        path = urlsplit(url).path
        return path.strip("/") != "" and not _ASSET.search(path)
    return looks_like_article(url)


_AMP_QUERY = re.compile(r"^(?:amp|outputtype|output|format)=(?:1|amp|true)?$", re.I)
_HOST_PREFIX = re.compile(r"^(?:www\d?|m|mobile|amp)\.")


def url_key(url: str) -> str:
    """The identity of a page across its URL variants: scheme, `www.`/`m.`/`amp.` hosts,
    AMP paths and parameters, trailing slashes, tracking parameters and fragments all fold.

    Two URLs with the same key are the same article; the key is not meant to be fetched.
    """
    canonical = canonicalize(url) or url
    parts = urlsplit(canonical)
    host = (parts.hostname or "").lower()
    if not _is_ip_or_local(host):
        host = _HOST_PREFIX.sub("", host)
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1].lower() == "amp":
        segments = segments[:-1]
    elif segments and segments[0].lower() == "amp":
        segments = segments[1:]
    path = "/" + "/".join(segments)
    if path.lower().endswith((".amp", ".amp.html")):
        path = path[: path.lower().rindex(".amp")] + (
            ".html" if path.lower().endswith(".html") else ""
        )
    query = "&".join(p for p in parts.query.split("&") if p and not _AMP_QUERY.match(p))
    return host + path + (f"?{query}" if query else "")
