"""Finding an outlet's candidate articles: its feeds, sitemaps and section pages.

Fetches through the polite client and parses with extractors.discover. Feeds and sitemaps are
fetched conditionally so an unchanged source costs one small request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from extractors.discover import (
    USUAL_FEED_PATHS,
    USUAL_SITEMAP_PATHS,
    DiscoveryError,
    Entry,
    feed_links,
    harvest_links,
    next_page_url,
    parse_feed,
    parse_html,
    parse_sitemap,
)
from extractors.http import FEED_TYPES, HTML_TYPES, PoliteClient
from extractors.records import (
    Candidate,
    FetchPurpose,
    Outlet,
    Page,
    Route,
    SourceKind,
    SourceOrigin,
    SourceState,
)
from extractors.urls import canonicalize, is_article_url, origin, same_site, url_key

T = TypeVar("T")
MAX_CHILD_SITEMAPS = 5  # newest children of a sitemap index read per run
_VIA_RANK = {Route.FEED: 0, Route.SITEMAP: 1, Route.SECTION: 2}


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    sources: list[SourceState] = field(default_factory=list)  # state to remember
    errors: list[str] = field(default_factory=list)
    usable_sources: int = 0  # sources that answered (changed or not)
    unchanged_sources: int = 0


async def discover(
    outlet: Outlet, client: PoliteClient, remembered: list[SourceState]
) -> Discovery:
    result = Discovery()
    known = {s.url: s for s in remembered}
    feeds = _sources(outlet.feeds, SourceKind.FEED, outlet.id, known)
    sitemaps = _sources(outlet.sitemaps, SourceKind.SITEMAP, outlet.id, known)
    for state in remembered:
        if state.origin == SourceOrigin.DISCOVERED and state.kind in (
            SourceKind.FEED,
            SourceKind.SITEMAP,
        ):
            (feeds if state.kind == SourceKind.FEED else sitemaps).setdefault(state.url, state)
    sections = list(outlet.sections)
    entries: list[tuple[Entry, Route, str]] = []  # (entry, via, source url)

    if not feeds and not sitemaps:
        found_feeds, found_sitemaps, homepage_links = await _autodiscover(outlet, client, result)
        for url in found_feeds:
            feeds[url] = SourceState(url, outlet.id, SourceKind.FEED, SourceOrigin.DISCOVERED)
        for url in found_sitemaps:
            sitemaps[url] = SourceState(url, outlet.id, SourceKind.SITEMAP, SourceOrigin.DISCOVERED)
        if not feeds and not sitemaps and not sections:
            entries += [(e, Route.SECTION, outlet.homepage) for e in homepage_links]
            if homepage_links:
                result.usable_sources += 1

    jobs = [_read_feed(s, outlet, client, result) for s in feeds.values()]
    jobs += [_read_sitemap(s, outlet, client, result, known) for s in sitemaps.values()]
    jobs += [_read_section(sec.url, sec.pages, outlet, client, result) for sec in sections]
    for found in await asyncio.gather(*jobs):
        entries += found
    result.candidates = _candidates(outlet, entries)
    return result


def _sources(
    urls: tuple[str, ...], kind: str, outlet_id: str, known: dict[str, SourceState]
) -> dict[str, SourceState]:
    out = {}
    for url in urls:
        state = known.get(url) or SourceState(url, outlet_id, kind, SourceOrigin.CONFIG)
        state.origin = SourceOrigin.CONFIG
        out[url] = state
    return out


async def _autodiscover(
    outlet: Outlet, client: PoliteClient, result: Discovery
) -> tuple[list[str], list[str], list[Entry]]:
    """Feeds from <link rel=alternate>, sitemaps from robots.txt, then the usual paths."""
    home = await client.fetch(outlet.homepage, outlet.id, FetchPurpose.PROBE, HTML_TYPES)
    if not home.ok:
        result.errors.append(f"homepage {outlet.homepage}: {home.error}")
        return [], [], []
    html = parse_html(home.text or "")
    feeds = [u for u in feed_links(html, home.final_url) if same_site(u, outlet.homepage)]
    robots = await client.robots(outlet.homepage, outlet.id)
    sitemaps = [u for u in (robots.sitemaps if robots else []) if same_site(u, outlet.homepage)]
    base = origin(home.final_url)
    if not feeds:
        feeds = await _probe(base, USUAL_FEED_PATHS, outlet, client, _is_feed)
    if not sitemaps:
        sitemaps = await _probe(base, USUAL_SITEMAP_PATHS, outlet, client, _is_sitemap)
    return feeds, sitemaps, harvest_links(html, home.final_url) if html is not None else []


async def _probe(
    base: str, paths: tuple[str, ...], outlet: Outlet, client: PoliteClient, check
) -> list[str]:  # noqa: ANN001
    for path in paths:
        url = base + path
        page = await client.fetch(url, outlet.id, FetchPurpose.PROBE, FEED_TYPES)
        if client.host_failure(url):
            return []
        if page.ok and check(page):
            return [canonicalize(page.final_url) or url]
    return []


def _is_feed(page: Page) -> bool:
    try:
        return bool(parse_feed(page.body, page.final_url))
    except DiscoveryError:
        return False


def _is_sitemap(page: Page) -> bool:
    try:
        content = parse_sitemap(page.body, page.final_url)
    except DiscoveryError:
        return False
    return bool(content.entries or content.children)


def _update_state(state: SourceState, page: Page) -> SourceState:
    now = datetime.now(UTC)
    state.last_checked = now
    state.last_status = page.status
    state.last_error = page.error
    if page.ok and not page.not_modified:
        state.etag = page.etag
        state.last_modified = page.last_modified
        state.body_hash = page.body_hash
        state.last_changed = now
    return state


async def _read_source(
    state: SourceState,
    kind: FetchPurpose,
    parse: Callable[[bytes, str], T],
    outlet: Outlet,
    client: PoliteClient,
    result: Discovery,
    top: bool = True,
) -> T | None:
    """Fetch a feed or sitemap conditionally and parse it: None when it failed or is unchanged.
    Only top-level sources count as usable or unchanged (a sitemap's children do not)."""
    page = await client.fetch(state.url, outlet.id, kind, FEED_TYPES, state.validators)
    result.sources.append(_update_state(state, page))
    if not page.ok:
        result.errors.append(f"{kind} {state.url}: {page.error}")
        return None
    if page.not_modified:
        result.usable_sources += top
        result.unchanged_sources += top
        return None
    try:
        content = parse(page.body, page.final_url)
    except DiscoveryError as exc:
        state.last_error = str(exc)
        state.body_hash = None  # read it again next time
        result.errors.append(f"{kind} {state.url}: {exc}")
        return None
    result.usable_sources += top
    return content


async def _read_feed(
    state: SourceState, outlet: Outlet, client: PoliteClient, result: Discovery
) -> list[tuple[Entry, Route, str]]:
    entries = await _read_source(state, FetchPurpose.FEED, parse_feed, outlet, client, result)
    return [(e, Route.FEED, state.url) for e in entries or []]


async def _read_sitemap(
    state: SourceState,
    outlet: Outlet,
    client: PoliteClient,
    result: Discovery,
    known: dict[str, SourceState],
    depth: int = 0,
) -> list[tuple[Entry, Route, str]]:
    content = await _read_source(
        state, FetchPurpose.SITEMAP, parse_sitemap, outlet, client, result, depth == 0
    )
    if content is None:
        return []
    found = [(e, Route.SITEMAP, state.url) for e in content.entries]
    if content.children and depth < 2:
        newest = sorted(
            (c for c in content.children if same_site(c.url, outlet.homepage)),
            key=lambda c: c.modified_at or c.published_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )[:MAX_CHILD_SITEMAPS]
        children = [
            known.get(c.url)
            or SourceState(c.url, outlet.id, SourceKind.SITEMAP_CHILD, SourceOrigin.DISCOVERED)
            for c in newest
        ]
        for nested in await asyncio.gather(
            *(_read_sitemap(c, outlet, client, result, known, depth + 1) for c in children)
        ):
            found += nested
    return found


async def _read_section(
    url: str, pages: int, outlet: Outlet, client: PoliteClient, result: Discovery
) -> list[tuple[Entry, Route, str]]:
    found: list[tuple[Entry, Route, str]] = []
    seen: set[str] = set()
    current: str | None = url
    for _ in range(pages):
        if current is None or current in seen:
            break
        seen.add(current)
        page = await client.fetch(current, outlet.id, FetchPurpose.SECTION, HTML_TYPES)
        if not page.ok:
            result.errors.append(f"section {current}: {page.error}")
            break
        if current == url:
            result.usable_sources += 1
        html = parse_html(page.text or "")
        if html is None:
            break
        found += [(e, Route.SECTION, url) for e in harvest_links(html, page.final_url)]
        current = next_page_url(html, page.final_url)
    return found


def _candidates(outlet: Outlet, entries: list[tuple[Entry, Route, str]]) -> list[Candidate]:
    """On-site article URLs, one per URL, with the best hints any source gave."""
    pattern = re.compile(outlet.article_pattern) if outlet.article_pattern else None
    by_url: dict[str, Candidate] = {}
    for entry, via, source in entries:
        if not same_site(entry.url, outlet.homepage) or not is_article_url(
            entry.url, pattern, feed_item=via == Route.FEED
        ):
            continue
        key = url_key(entry.url)  # www./m./AMP variants of one page are one candidate
        current = by_url.get(key)
        if current is None:
            title = entry.title if via != Route.SECTION else None  # anchor text is no headline
            by_url[key] = Candidate(
                entry.url,
                outlet.id,
                via,
                source,
                title,
                entry.published_at,
                entry.modified_at,
                entry.author,
            )
            continue
        if _VIA_RANK[via] < _VIA_RANK[current.via]:
            current.via, current.source_url = via, source
        if via != Route.SECTION and entry.title and not current.title:
            current.title = entry.title
        if entry.published_at and (not current.published_at or via == Route.FEED):
            current.published_at = entry.published_at
        current.modified_at = current.modified_at or entry.modified_at
        current.author = current.author or entry.author
    return list(by_url.values())
