"""Turn feeds, sitemaps and listing pages into candidate article URLs.

Parsing only: the flow fetches, these functions read what was fetched.
"""

from __future__ import annotations

import email.utils
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.etree
import lxml.html

from extractors.decoding import BadEncoding, TooLarge, gunzip
from extractors.urls import canonicalize

FEED_LINK_TYPES = {
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/json",
}  # fmt: skip
# Where sites usually keep feeds and sitemaps, tried in order when nothing else says.
USUAL_FEED_PATHS = (
    "/feed/",
    "/rss",
    "/rss.xml",
    "/feed",
    "/feeds/all.xml",
    "/atom.xml",
    "/index.xml",
)
USUAL_SITEMAP_PATHS = (
    "/sitemap.xml",
    "/sitemap_index.xml",
    "/news-sitemap.xml",
    "/sitemap-news.xml",
)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # decompressed: the protocol's own limit for one sitemap
# Links read from one listing page. Real listings hold hundreds; a page with 200,000 would cost
# seconds of canonicalisation for links that are mostly not articles.
MAX_LISTING_LINKS = 5000
_NEXT_TEXT = re.compile(
    r"^\s*(next|next page|older|older posts|›|»|→|далее|следующая|növbəti|sonrakı)\b", re.I
)  # noqa: E501


class DiscoveryError(Exception):
    """A feed or sitemap that cannot be read (one-line message)."""


@dataclass
class Entry:
    url: str
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None  # a sitemap's lastmod: good for ordering, not a date
    author: str | None = None


@dataclass
class SitemapContent:
    entries: list[Entry] = field(default_factory=list)
    children: list[Entry] = field(default_factory=list)  # sitemaps listed by a sitemap index


def parse_feed(body: bytes | str, base_url: str) -> list[Entry]:
    """RSS 0.9x/1.0/2.0, Atom and JSON Feed entries; raises DiscoveryError if not a feed."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if raw.lstrip()[:1] in (b"{", b"["):
        return _parse_json_feed(raw, base_url)
    if not raw.strip():
        raise DiscoveryError("not a feed: empty document")
    parsed = feedparser.parse(raw, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and (not parsed.get("version") or parsed.get("bozo")):
        # A truncated download parses as a feed version with no entries: that is no empty feed.
        reason = parsed.get("bozo_exception")
        detail = f": {' '.join(str(reason).split())[:120]}" if reason else ""
        kind = "malformed feed" if parsed.get("version") else "not a feed"
        raise DiscoveryError(f"{kind}{detail}")
    entries = []
    for item in parsed.entries:
        link = item.get("link") or _first_alternate(item)
        if not link and str(item.get("id", "")).startswith("http"):
            link = item["id"]
        url = canonicalize(link, base_url) if link else None
        if url is None:
            continue
        raw_date = item.get("published") or item.get("updated") or item.get("created")
        parsed_date = item.get("published_parsed") or item.get("updated_parsed")
        date = _feed_date(raw_date, parsed_date)
        entries.append(
            Entry(url, _clean(item.get("title")), date, author=_clean(item.get("author")))
        )
    return entries


_FEED_ROOTS = ((b"<rss", "RSS feed"), (b"<rdf:rdf", "RSS 1.0 (RDF) feed"), (b"<feed", "Atom feed"))


def feed_format(body: bytes) -> str:
    """What kind of feed a document is, from its first element (for people)."""
    head = body[:4096].lstrip().lower()
    if head[:1] in (b"{", b"["):
        return "JSON Feed"
    found = [(head.find(tag), name) for tag, name in _FEED_ROOTS if tag in head]
    return min(found)[1] if found else "feed"


def _first_alternate(item: feedparser.FeedParserDict) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _parse_json_feed(raw: bytes, base_url: str) -> list[Entry]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DiscoveryError(f"malformed JSON feed: {exc}") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise DiscoveryError("not a feed: JSON without a JSON Feed version")
    entries = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        url = canonicalize(str(link), base_url) if link else None
        if url:
            date = parse_datetime(
                str(item.get("date_published") or item.get("date_modified") or "")
            )
            authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
            names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
            entries.append(
                Entry(url, _clean(item.get("title")), date, author="; ".join(names) or None)
            )
    return entries


def _feed_date(raw: str | None, parsed: object) -> datetime | None:
    """Keep the feed's own offset when the string parses; else feedparser's UTC reading."""
    if raw:
        date = parse_datetime(raw)
        if date is not None:
            return date
    if parsed:
        try:
            return datetime(*parsed[:6], tzinfo=UTC)  # type: ignore[index]
        except (TypeError, ValueError):
            return None
    return None


def parse_datetime(value: str) -> datetime | None:
    """ISO 8601 or RFC 822 to an aware datetime (naive readings are taken as UTC)."""
    value = value.strip()
    if not value:
        return None
    try:
        date = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            date = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if date is None:
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def parse_sitemap(body: bytes, base_url: str) -> SitemapContent:
    """A urlset (incl. Google News) or a sitemap index; gzip is undone here."""
    raw = _gunzip(body) if body[:2] == b"\x1f\x8b" else body
    stripped = raw.lstrip()
    if not stripped.startswith(b"<"):
        # Plain-text sitemaps: one URL a line.
        lines = raw.decode("utf-8", "replace").split()
        urls = [u for u in (canonicalize(x, base_url) for x in lines if x.startswith("http")) if u]
        if not urls:
            raise DiscoveryError("not a sitemap")
        return SitemapContent(entries=[Entry(u) for u in urls])
    parser = lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        root = lxml.etree.fromstring(raw, parser=parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"malformed sitemap: {exc}") from None
    if root is None:
        raise DiscoveryError("malformed sitemap: empty document")
    kind = lxml.etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap: root element <{kind}>")
    content = SitemapContent()
    target = content.children if kind == "sitemapindex" else content.entries
    for node in root:
        if not isinstance(node.tag, str):
            continue
        values = _child_texts(node)
        loc = values.get("loc")
        url = canonicalize(loc, base_url) if loc else None
        if url is None:
            continue
        published = parse_datetime(values.get("publication_date", ""))
        modified = parse_datetime(values.get("lastmod", ""))
        target.append(Entry(url, _clean(values.get("title")), published, modified))
    return content


_NEWS_ONLY = {"title", "publication_date"}  # image:title and video:* must not leak in


def _child_texts(node: lxml.etree._Element) -> dict[str, str]:
    """Local-name → text for a <url>/<sitemap> element, descending into news:news."""
    values: dict[str, str] = {}
    for child in node.iter():
        if child is node or not isinstance(child.tag, str):
            continue
        qname = lxml.etree.QName(child)
        name = qname.localname
        if name in _NEWS_ONLY and "sitemap-news" not in (qname.namespace or ""):
            continue
        if child.text and child.text.strip() and name not in values:
            values[name] = child.text.strip()
    return values


def _gunzip(body: bytes) -> bytes:
    try:
        return gunzip(body, MAX_SITEMAP_BYTES)
    except BadEncoding as exc:
        raise DiscoveryError(f"corrupt gzip: {exc}") from None
    except TooLarge:
        raise DiscoveryError(
            f"sitemap larger than {MAX_SITEMAP_BYTES} bytes uncompressed"
        ) from None


Html = str | lxml.html.HtmlElement  # the listing functions take a page parsed once, or its text


# XHTML pages often open with an XML declaration naming their encoding. lxml refuses that on
# text that is already decoded, and the declaration says nothing the decoder did not use.
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")


def parse_html(html: Html) -> lxml.html.HtmlElement | None:
    if not isinstance(html, str):
        return html
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (lxml.etree.ParserError, ValueError):
        return None


def harvest_links(html: Html, base_url: str) -> list[Entry]:
    """Every http(s) link on a listing page, canonicalised, with its anchor text."""
    doc = parse_html(html)
    if doc is None:
        return []
    base = _document_base(doc, base_url)
    seen: dict[str, Entry] = {}
    for anchor in doc.iter("a"):
        href = anchor.get("href")
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        if len(seen) >= MAX_LISTING_LINKS:
            break
        url = canonicalize(href, base)
        if url is None:
            continue
        title = _clean(anchor.text_content())
        known = seen.get(url)
        if known is None:
            seen[url] = Entry(url, title)
        elif title and (not known.title or len(title) > len(known.title)):
            known.title = title
    return list(seen.values())


def next_page_url(html: Html, base_url: str) -> str | None:
    """The listing's next page, from rel=next or a pager link."""
    doc = parse_html(html)
    if doc is None:
        return None
    base = _document_base(doc, base_url)
    for element in doc.iter("link", "a"):
        rel = (element.get("rel") or "").lower().split()
        if "next" in rel and element.get("href"):
            return canonicalize(element.get("href"), base)
    for anchor in doc.iter("a"):
        classes = (anchor.get("class") or "") + " " + (anchor.getparent().get("class") or "")
        if anchor.get("href") and (
            _NEXT_TEXT.match(anchor.text_content() or "") or "pager-next" in classes
            or "pager__item--next" in classes or "next page-numbers" in classes
        ):  # fmt: skip
            return canonicalize(anchor.get("href"), base)
    return None


def feed_links(html: Html, base_url: str) -> list[str]:
    """Feeds a page announces with <link rel="alternate" type="application/rss+xml">."""
    doc = parse_html(html)
    if doc is None:
        return []
    base = _document_base(doc, base_url)
    found = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().strip()
        if "alternate" in rel and kind in FEED_LINK_TYPES and link.get("href"):
            url = canonicalize(link.get("href"), base)
            title = (link.get("title") or "").lower()
            # WordPress announces comment feeds (they list comments, not articles) and its REST
            # API as application/json (not a JSON Feed).
            if not url or url in found or "/comments/" in url or "comments" in title:
                continue
            if "/wp-json/" in url or "/oembed" in url:
                continue
            found.append(url)
    return found


def _document_base(doc: lxml.html.HtmlElement, base_url: str) -> str:
    for base in doc.iter("base"):
        if base.get("href"):
            return urljoin(base_url, base.get("href"))
    return base_url


def _clean(value: object) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split())
    return text or None
