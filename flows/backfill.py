"""`newsmon backfill OUTLET --since DATE [--until DATE]`: an outlet's articles of a past range.

Discovery walks back through the outlet's sitemaps (children chosen by their dates, numbered
series searched), its sections and its feeds (paginated), as extractors/backfill.py plans, then
the queue of candidate URLs is kept in the store and worked off in batches at a gentle rate of
its own. An interrupted backfill (Ctrl-C, a crash) resumes from the queue when run again; each
article is stored once. Stored articles are history: quiet, they never alert.
"""

import asyncio
import dataclasses
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from extractors.backfill import (
    EMPTY,
    UNDATED,
    Order,
    Span,
    Window,
    choose_children,
    in_window,
    infer_order,
    named_span,
    next_page,
    pager,
    span_of,
)
from extractors.discover import (
    DiscoveryError,
    Entry,
    harvest_links,
    next_page_url,
    parse_feed,
    parse_html,
    parse_sitemap,
)
from extractors.http import FEED_TYPES, HTML_TYPES, PoliteClient
from extractors.records import Article, Candidate, ExtractJob, FetchPurpose, Outlet, Route
from extractors.urls import is_article_url, same_site
from flows.config import Config
from flows.extraction import Extractor
from flows.history import open_archive, write_quiet
from storage.db import Store
from storage.history import History

MAX_PAGES = 2000  # pages of one series or listing read at most (a loop, a endless pager)
MAX_DEPTH = 2  # sitemap indexes nested this deep are followed


@dataclass
class BackfillSummary:
    discovered: int = 0  # candidate URLs in the range (this run's discovery, or the queue's)
    pages_read: int = 0  # sitemaps, listing and feed pages read for discovery
    stored: int = 0
    known: int = 0  # already in the store
    outside: int = 0  # the article's own date falls outside the range
    failed: int = 0
    resumed: bool = False
    errors: list[str] = field(default_factory=list)


Fetch = Callable[[str, FetchPurpose], Awaitable[bytes | None]]


class _Discovery:
    """Walks an outlet's sources back to a window, collecting the entries within it."""

    def __init__(self, outlet: Outlet, window: Window, fetch: Fetch, summary: BackfillSummary):
        self.outlet, self.window, self.fetch, self.summary = outlet, window, fetch, summary
        self.pattern = re.compile(outlet.article_pattern) if outlet.article_pattern else None
        self.found: dict[str, Candidate] = {}

    def keep(self, entries: list[Entry], via: Route, source: str) -> None:
        for e in entries:
            if not same_site(e.url, self.outlet.homepage) or not in_window(e, self.window):
                continue
            if not is_article_url(e.url, self.pattern, feed_item=via == Route.FEED):
                continue
            title = e.title if via != Route.SECTION else None
            self.found.setdefault(
                e.url, Candidate(e.url, self.outlet.id, via, source, title, e.published_at)
            )

    async def sitemap(self, url: str, depth: int = 0) -> Span | None:
        """Read a sitemap (following an index's children that cover the window); returns the
        dates its entries span (EMPTY when it is missing)."""
        body = await self.fetch(url, FetchPurpose.SITEMAP)
        if body is None:
            return EMPTY
        try:
            content = parse_sitemap(body, url)
        except DiscoveryError as exc:
            self.summary.errors.append(f"sitemap {url}: {exc}")
            return EMPTY
        self.keep(content.entries, Route.SITEMAP, url)
        if content.children and depth < MAX_DEPTH:
            children = [c for c in content.children if same_site(c.url, self.outlet.homepage)]
            plan = choose_children(children, self.window)
            for child in plan.chosen:
                await self.sitemap(child.url, depth + 1)
            for series in plan.series:
                urls = [c.url for c in series]
                await self.walk(lambda k, u=urls: self.sitemap(u[k - 1], depth + 1), len(urls))
        if not content.entries:
            return UNDATED if content.children else EMPTY
        return span_of(content.entries) or UNDATED

    async def listing(self, url: str, feed: bool) -> None:
        """A section or a feed, page by page back to the window."""
        first = await self.fetch(url, FetchPurpose.FEED if feed else FetchPurpose.SECTION)
        if first is None:
            return
        second = None if feed else next_page_url(first.decode("utf-8", "replace"), url)
        paging = pager(url, second) if second or not feed else pager(url, url + "?paged=2")
        pages = {1: first}

        async def read(k: int) -> Span | None:
            body = pages.pop(k, None)
            if body is None:
                body = await self.fetch(
                    paging.url(k), FetchPurpose.FEED if feed else FetchPurpose.SECTION
                )
            if body is None:
                return EMPTY
            entries = self._entries(body, paging.url(k), feed)
            if not entries:
                return EMPTY
            before = len(self.found)
            self.keep(entries, Route.FEED if feed else Route.SECTION, url)
            span = span_of(entries)
            if span is None and len(self.found) == before and k > 1:
                return EMPTY  # a pager that serves the same page again
            return span or UNDATED

        await self.walk(read, None, Order.NEWEST_FIRST)

    def _entries(self, body: bytes, url: str, feed: bool) -> list[Entry]:
        if feed:
            try:
                return parse_feed(body, url)
            except DiscoveryError:
                return []
        html = parse_html(body.decode("utf-8", "replace"))
        if html is None:
            return []
        entries = harvest_links(html, url)
        for e in entries:  # a listing gives no dates; many article URLs hold theirs
            span = named_span(e.url)
            if span is not None and span.newest - span.oldest < _A_MONTH:
                e.published_at = span.oldest
        return entries

    async def walk(
        self,
        read: Callable[[int], Awaitable[Span | None]],
        last: int | None,
        order: Order = Order.OLDEST_FIRST,
    ) -> None:
        seen: dict[int, Span | None] = {}
        while len(seen) < MAX_PAGES:
            if last is not None:
                order = infer_order(seen, order)
            k = next_page(seen, self.window, order, last)
            if k is None:
                return
            seen[k] = await read(k)


_A_MONTH = datetime(2000, 2, 1) - datetime(2000, 1, 1)


async def backfill(
    config: Config,
    db: Path,
    outlet: Outlet,
    window: Window,
    on_progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    store = Store(db, lake=config.lake)
    history = History(store)
    summary = BackfillSummary()
    gentle = config.history.backfill
    archive = open_archive(config, db)
    client_settings = dataclasses.replace(config.settings.client, connections_per_host=1)
    recorder = archive.record if archive is not None else None
    run_id = datetime.now(UTC).strftime("backfill-%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    discovered_at = await asyncio.to_thread(
        history.backfill_started, outlet.id, window.since, window.until
    )
    try:
        async with PoliteClient(client_settings, recorder=recorder) as client:
            client.add_outlet(outlet)
            client.set_min_delay(outlet.homepage, max(outlet.min_delay_s, gentle.min_delay_s))

            async def fetch(url: str, purpose: FetchPurpose) -> bytes | None:
                summary.pages_read += 1
                page = await client.fetch(url, outlet.id, purpose, FEED_TYPES)
                return page.body if page.ok and page.body else None

            if discovered_at is None:
                found = _Discovery(outlet, window, fetch, summary)
                for url in outlet.sitemaps:
                    await found.sitemap(url)
                for section in outlet.sections:
                    await found.listing(section.url, feed=False)
                for url in outlet.feeds:
                    await found.listing(url, feed=True)
                await asyncio.to_thread(
                    history.enqueue,
                    outlet.id,
                    window.since,
                    window.until,
                    list(found.found.values()),
                )
            else:
                summary.resumed = True
            queue = await asyncio.to_thread(history.pending, outlet.id, window.start, window.end)
            summary.discovered = len(queue)
            extractor = Extractor(config.settings.workers, config.rules)
            done = 0
            for start in range(0, len(queue), gentle.batch):
                chunk = queue[start : start + gentle.batch]
                articles = await _fetch_chunk(
                    outlet, chunk, client, extractor, store, window, summary
                )
                result = await asyncio.to_thread(write_quiet, store, run_id, outlet, articles)
                summary.stored += result.stored
                await asyncio.to_thread(history.done, outlet.id, [c.url for c in chunk])
                done += len(chunk)
                if on_progress:
                    on_progress(done, len(queue))
            await asyncio.to_thread(
                history.backfill_finished, outlet.id, window.since, window.until
            )
    finally:
        if archive is not None:
            archive.close()
    return summary


async def _fetch_chunk(
    outlet: Outlet,
    chunk: list[Candidate],
    client: PoliteClient,
    extractor: Extractor,
    store: Store,
    window: Window,
    summary: BackfillSummary,
) -> list[Article]:
    fresh = set(await asyncio.to_thread(store.unseen, [c.url for c in chunk]))
    summary.known += len(chunk) - len(fresh)

    async def one(candidate: Candidate) -> Article | None:
        page = await client.fetch(candidate.url, outlet.id, FetchPurpose.ARTICLE, HTML_TYPES)
        if not page.ok:
            summary.failed += 1
            return None
        outcome = await extractor(
            ExtractJob(
                html=page.text or "", url=candidate.url, final_url=page.final_url,
                outlet_id=outlet.id, homepage=outlet.homepage, fetched_at=page.fetched_at,
                via=candidate.via, default_language=outlet.language,
                hint_title=candidate.title, hint_published=candidate.published_at,
            )
        )  # fmt: skip
        if not isinstance(outcome, Article):
            summary.failed += 1
            return None
        if outcome.published_at is None or not window.holds(outcome.published_at):
            summary.outside += 1  # undated, or its own date says another time
            return None
        outcome.archived = page.archived
        return outcome

    results = await asyncio.gather(*(one(c) for c in chunk if c.url in fresh))
    return [a for a in results if a is not None]
