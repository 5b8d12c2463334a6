"""Finding an outlet's candidate articles: its feeds, sitemaps and section pages.

Fetches through the polite client and parses with extractors.discover. Feeds and sitemaps are
fetched conditionally so an unchanged source costs one small request. Parsing runs in a
thread, off the event loop: a sitemap of 50,000 URLs or a listing with 200,000 links must not
stall the other outlets' requests.

An outlet given only a homepage is probed once (its <link rel="alternate">, robots.txt
`Sitemap:` lines, the usual paths); what that finds is remembered, a homepage with neither
feed nor sitemap as a listing page, and the probes run again only when what was found fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from extractors.discover import (
    MAX_LISTING_LINKS,
    USUAL_FEED_PATHS,
    USUAL_SITEMAP_PATHS,
    DiscoveryError,
    Entry,
    feed_format,
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
    Failure,
    FailureKind,
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
_FOUND = (SourceKind.FEED, SourceKind.SITEMAP, SourceKind.LISTING)


@dataclass
class SourceSeen:
    """What one source gave this pass, for people (`newsmon check`)."""

    url: str
    kind: str  # "RSS feed", "sitemap index", "listing page", ...
    entries: int = 0  # items, URLs or links it listed
    articles: int = 0  # of those, article URLs of the outlet (its pattern, its site)
    failure: Failure | None = None
    status: int | None = None  # the HTTP status of its answer
    note: str = ""  # "unchanged since last time", "only the first N links read", ...
    depth: int = 0  # 1 for a sitemap listed by a sitemap index, 2 for one listed by that
    parent: str | None = None  # the sitemap index that listed it


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    sources: list[SourceState] = field(default_factory=list)  # state to remember
    errors: list[Failure] = field(default_factory=list)  # each message names its source
    usable_sources: int = 0  # sources that answered (changed or not)
    unchanged_sources: int = 0
    seen: list[SourceSeen] = field(default_factory=list)
    probed: list[SourceState] = field(default_factory=list)  # what probing the homepage found


async def discover(
    outlet: Outlet, client: PoliteClient, remembered: list[SourceState]
) -> Discovery:
    result = Discovery()
    known = {s.url: s for s in remembered}
    feeds = _sources(outlet.feeds, SourceKind.FEED, outlet.id, known)
    sitemaps = _sources(outlet.sitemaps, SourceKind.SITEMAP, outlet.id, known)
    sections = [(sec.url, sec.pages) for sec in outlet.sections]
    found = [s for s in remembered if s.origin == SourceOrigin.DISCOVERED and s.kind in _FOUND]
    entries: list[tuple[Entry, Route, str]] = []  # (entry, via, source url)
    listings: list[SourceState] = []
    home: Page | None = None  # the homepage, when probing just fetched it

    if not feeds and not sitemaps:
        if not found or all(s.last_error for s in found):
            found, home = await _autodiscover(outlet, client, result, known)
            result.probed = found
            result.sources += [s for s in found if s.kind == SourceKind.LISTING]
        for state in found:
            target = {SourceKind.FEED: feeds, SourceKind.SITEMAP: sitemaps}.get(state.kind)
            if target is not None:
                target.setdefault(state.url, state)
        # The homepage is read for links only when nothing better exists; a remembered listing
        # of an outlet with sections just says that probing found nothing.
        if not feeds and not sitemaps and not sections:
            # (A listing with an error is a homepage that failed a moment ago.)
            listings = [s for s in found if s.kind == SourceKind.LISTING and not s.last_error]

    jobs = [_read_feed(s, outlet, client, result) for s in feeds.values()]
    jobs += [_read_sitemap(s, outlet, client, result, known) for s in sitemaps.values()]
    jobs += [_read_section(url, pages, outlet, client, result) for url, pages in sections]
    jobs += [_read_listing(state, outlet, client, result, home) for state in listings]
    for found_entries in await asyncio.gather(*jobs):
        entries += found_entries
    result.candidates = _candidates(outlet, entries)
    return result


def _sources(
    urls: tuple[str, ...], kind: SourceKind, outlet_id: str, known: dict[str, SourceState]
) -> dict[str, SourceState]:
    out = {}
    for url in urls:
        state = known.get(url) or SourceState(url, outlet_id, kind, SourceOrigin.CONFIG)
        state.origin = SourceOrigin.CONFIG
        out[url] = state
    return out


async def _autodiscover(
    outlet: Outlet, client: PoliteClient, result: Discovery, known: dict[str, SourceState]
) -> tuple[list[SourceState], Page | None]:
    """Feeds from <link rel=alternate>, sitemaps from robots.txt, then the usual paths; with
    neither, the homepage itself as a listing page. Also returns the homepage as fetched."""
    home = await client.fetch(outlet.homepage, outlet.id, FetchPurpose.PROBE, HTML_TYPES)
    if not home.ok:
        _fail(result, f"homepage {outlet.homepage}", home.failure)
        seen = SourceSeen(outlet.homepage, "homepage", failure=home.failure, status=home.status)
        result.seen.append(seen)
        listing = _discovered(outlet.homepage, SourceKind.LISTING, outlet.id, known)
        listing.last_error = home.error  # probe again next time
        return [listing], None
    links = await asyncio.to_thread(_feed_links, home.text or "", home.final_url)
    feeds = [u for u in links if same_site(u, outlet.homepage)]
    robots = await client.robots(outlet.homepage, outlet.id)
    sitemaps = [u for u in (robots.sitemaps if robots else []) if same_site(u, outlet.homepage)]
    base = origin(home.final_url)
    if not feeds:
        feeds = await _probe(base, USUAL_FEED_PATHS, outlet, client, _is_feed)
    if not sitemaps:
        sitemaps = await _probe(base, USUAL_SITEMAP_PATHS, outlet, client, _is_sitemap)
    kinds = [(u, SourceKind.FEED) for u in feeds] + [(u, SourceKind.SITEMAP) for u in sitemaps]
    if not kinds:
        kinds = [(outlet.homepage, SourceKind.LISTING)]
    return [_discovered(url, kind, outlet.id, known) for url, kind in kinds], home


def _discovered(
    url: str, kind: SourceKind, outlet_id: str, known: dict[str, SourceState]
) -> SourceState:
    state = known.get(url) or SourceState(url, outlet_id, kind, SourceOrigin.DISCOVERED)
    state.kind, state.last_error = kind, None
    return state


def _feed_links(text: str, base: str) -> list[str]:
    return feed_links(parse_html(text), base) if text else []


async def _probe(
    base: str,
    paths: tuple[str, ...],
    outlet: Outlet,
    client: PoliteClient,
    check: Callable[[Page], bool],
) -> list[str]:
    for path in paths:
        url = base + path
        page = await client.fetch(url, outlet.id, FetchPurpose.PROBE, FEED_TYPES)
        if client.host_failure(url):
            return []
        if page.ok and await asyncio.to_thread(check, page):
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


def _fail(result: Discovery, where: str, failure: Failure | None) -> None:
    if failure is not None:
        result.errors.append(Failure(failure.kind, f"{where}: {failure.message}"))


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
    seen: SourceSeen,
    top: bool = True,
) -> tuple[T, Page] | None:
    """Fetch a feed or sitemap conditionally and parse it: None when it failed or is unchanged.
    Only top-level sources count as usable or unchanged (a sitemap's children do not)."""
    result.seen.append(seen)  # in the order the sources were taken up
    page = await client.fetch(state.url, outlet.id, kind, FEED_TYPES, state.validators)
    result.sources.append(_update_state(state, page))
    seen.status = page.status
    if not page.ok:
        seen.failure = page.failure
        _fail(result, f"{kind} {state.url}", page.failure)
        return None
    if page.not_modified:
        seen.note = "unchanged since it was last read"
        result.usable_sources += top
        result.unchanged_sources += top
        return None
    try:
        content = await asyncio.to_thread(parse, page.body, page.final_url)
    except DiscoveryError as exc:
        state.last_error = str(exc)
        state.body_hash = None  # read it again next time
        seen.failure = Failure(FailureKind.BAD_SOURCE, str(exc))
        _fail(result, f"{kind} {state.url}", seen.failure)
        return None
    result.usable_sources += top
    return content, page


async def _read_feed(
    state: SourceState, outlet: Outlet, client: PoliteClient, result: Discovery
) -> list[tuple[Entry, Route, str]]:
    seen = SourceSeen(state.url, "feed")
    read = await _read_source(state, FetchPurpose.FEED, parse_feed, outlet, client, result, seen)
    if read is None:
        return []
    entries, page = read
    found = [(e, Route.FEED, state.url) for e in entries]
    seen.kind = feed_format(page.body)
    seen.entries, seen.articles = len(found), len(_candidates(outlet, found))
    return found


async def _read_sitemap(
    state: SourceState,
    outlet: Outlet,
    client: PoliteClient,
    result: Discovery,
    known: dict[str, SourceState],
    depth: int = 0,
    parent: str | None = None,
) -> list[tuple[Entry, Route, str]]:
    seen = SourceSeen(state.url, "sitemap", depth=depth, parent=parent)
    read = await _read_source(
        state, FetchPurpose.SITEMAP, parse_sitemap, outlet, client, result, seen, depth == 0
    )
    if read is None:
        return []
    content, _ = read
    found = [(e, Route.SITEMAP, state.url) for e in content.entries]
    seen.entries, seen.articles = len(found), len(_candidates(outlet, found))
    if content.children:
        seen.kind, seen.entries = "sitemap index", len(content.children)
    if any(e.published_at for e in content.entries):
        seen.kind = "news sitemap"
    if content.children and depth < 2:
        newest = sorted(
            (c for c in content.children if same_site(c.url, outlet.homepage)),
            key=lambda c: c.modified_at or c.published_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )[:MAX_CHILD_SITEMAPS]
        seen.note = f"the newest {len(newest)} of its {len(content.children)} sitemaps read"
        children = [
            known.get(c.url)
            or SourceState(c.url, outlet.id, SourceKind.SITEMAP_CHILD, SourceOrigin.DISCOVERED)
            for c in newest
        ]
        for nested in await asyncio.gather(
            *(
                _read_sitemap(c, outlet, client, result, known, depth + 1, state.url)
                for c in children
            )  # fmt: skip
        ):
            found += nested
    return found


async def _read_listing(
    state: SourceState,
    outlet: Outlet,
    client: PoliteClient,
    result: Discovery,
    home: Page | None,
) -> list[tuple[Entry, Route, str]]:
    """A remembered listing page (a homepage without feed or sitemap): one page of links."""
    found = await _read_section(state.url, 1, outlet, client, result, home)
    failure = next((s.failure for s in result.seen if s.url == state.url), None)
    state.last_checked = datetime.now(UTC)
    state.last_error = failure.message if failure else None
    if state not in result.sources:
        result.sources.append(state)
    return found


async def _read_section(
    url: str,
    pages: int,
    outlet: Outlet,
    client: PoliteClient,
    result: Discovery,
    first: Page | None = None,
) -> list[tuple[Entry, Route, str]]:
    found: list[tuple[Entry, Route, str]] = []
    visited: set[str] = set()
    current: str | None = url
    for _ in range(pages):
        if current is None or current in visited:
            break
        visited.add(current)
        seen = SourceSeen(current, "listing page")
        result.seen.append(seen)
        if first is not None and current == url:
            page = first  # fetched a moment ago
        else:
            page = await client.fetch(current, outlet.id, FetchPurpose.SECTION, HTML_TYPES)
        seen.failure, seen.status = page.failure, page.status
        if not page.ok:
            _fail(result, f"section {current}", page.failure)
            break
        if current == url:
            result.usable_sources += 1
        links, current = await asyncio.to_thread(_listing, page.text or "", page.final_url)
        here = [(e, Route.SECTION, url) for e in links]
        seen.entries, seen.articles = len(here), len(_candidates(outlet, here))
        if len(links) >= MAX_LISTING_LINKS:
            seen.note = f"only its first {MAX_LISTING_LINKS} links read"
        found += here
    return found


def _listing(text: str, base: str) -> tuple[list[Entry], str | None]:
    """A listing page's links and its next page (in a thread: a page may hold 200,000 links)."""
    html = parse_html(text)
    if html is None:
        return [], None
    return harvest_links(html, base), next_page_url(html, base)


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
