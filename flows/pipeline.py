"""One outlet's pass: discover → drop known URLs → fetch politely → extract → store.

Plain async code over typed records; flows/ingest.py wraps it in Prefect. Nothing here raises
for an outlet's own trouble (dead host, bad feed, 500s): that ends up in the OutletReport.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future, InvalidStateError
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from extractors.article import ExtractJob, article_id
from extractors.chrome import WINDOW as CHROME_WINDOW
from extractors.chrome import Chrome, learn
from extractors.http import HTML_TYPES, PoliteClient
from extractors.records import (
    Article,
    Batch,
    Candidate,
    Failure,
    FailureKind,
    FetchPurpose,
    Outlet,
    OutletReport,
    PollState,
    RunStatus,
    UrlAlias,
    UrlFailure,
)
from extractors.topics import Rule
from extractors.workers import make_pool, process
from flows.discovery import discover
from flows.polling import RATE_WINDOW, Schedule, next_poll
from flows.revisits import RevisitPolicy
from storage.archive import Archive
from storage.db import Store, StoreError

_EPOCH = datetime.min.replace(tzinfo=UTC)
IN_FLIGHT = 16  # pages fetched but not yet extracted, per outlet
FLUSH_EVERY = 250  # articles per intermediate write of a big outlet's pass


class Progress(Protocol):
    def outlet_started(self, outlet: Outlet) -> None: ...
    def articles_planned(self, outlet: Outlet, count: int) -> None: ...
    def article_done(self, outlet: Outlet) -> None: ...
    def outlet_finished(self, report: OutletReport) -> None: ...


class NoProgress:
    def outlet_started(self, outlet: Outlet) -> None:
        pass

    def articles_planned(self, outlet: Outlet, count: int) -> None:
        pass

    def article_done(self, outlet: Outlet) -> None:
        pass

    def outlet_finished(self, report: OutletReport) -> None:
        pass


def schedule_as_batch() -> bool:
    """Tell Linux that this process's threads, and those it starts later (the extraction pool,
    its fork server and workers inherit it), are batch work: SCHED_BATCH.

    A pass wakes the ingest process for every response, every finished extraction and every
    write. A normal thread that wakes preempts an extraction worker at once, and on two cores
    each switch costs the worker CPU (caches refilled); a batch thread waits for the next
    scheduler tick, a few milliseconds, so its work comes in fewer, longer slices. Nothing here
    needs lower latency than that. Returns False where the platform has no such policy or
    refuses it; the pass runs the same, only with more switches.
    """
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                os.sched_setscheduler(int(tid), policy, os.sched_param(0))
    except OSError:
        return False
    return True


class Extractor:
    """Extraction in worker processes, started on first use and shared by all outlets.

    The pool outlives the run: starting workers costs seconds (each imports trafilatura), and a
    process that runs the flow again (tests, notebooks, an in-process scheduler) reuses it. One
    pool is kept, for the latest worker count and rules.
    """

    def __init__(self, workers: int = 0, rules: tuple[Rule, ...] = ()) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.rules = rules
        self._key = (self.workers, tuple(rule.signature() for rule in rules))
        self._starting: Future[None] | None = None

    def start(self) -> None:
        """Start the workers in a thread and return at once. Forking the first worker waits
        for the fork server to import trafilatura (two seconds); that overlaps discovery
        instead of holding up the event loop."""
        self._starting = Future()
        threading.Thread(
            target=self._start_workers, args=(self._starting,), name="newsmon-pool-start"
        ).start()

    def _start_workers(self, done: Future[None]) -> None:
        try:
            pool = _shared_pool(self._key, self.workers, self.rules)
            for _ in range(self.workers):  # the pool forks a worker per submit while none is idle
                pool.submit(int)
        except BrokenProcessPool:
            release_pool()  # the first extraction starts a fresh one
        except BaseException as exc:  # noqa: BLE001 - handed to the first extraction to raise
            with contextlib.suppress(InvalidStateError):  # the run was stopped meanwhile
                done.set_exception(exc)
            return
        with contextlib.suppress(InvalidStateError):
            done.set_result(None)

    async def __call__(self, job: ExtractJob) -> Article | UrlFailure:
        starting = self._starting
        if starting is not None:
            # Submitting while the pool is still forking would block the loop on the fork server.
            try:
                await asyncio.wrap_future(starting)
            finally:
                self._starting = None  # a failed start is raised once; later calls start afresh
        pool = _shared_pool(self._key, self.workers, self.rules)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, process, job)
        except BrokenProcessPool:
            release_pool()  # a worker died (out of memory, killed): the next call starts afresh
            raise


_POOL: tuple[tuple[object, ...], Executor] | None = None
_POOL_LOCK = threading.RLock()  # the starting thread and the event loop both reach for the pool


def _shared_pool(key: tuple[object, ...], workers: int, rules: tuple[Rule, ...]) -> Executor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != key:
            release_pool()
            _POOL = (key, make_pool(workers, rules))
        return _POOL[1]


@atexit.register
def release_pool() -> None:
    """Stop the extraction workers (a long-lived process that is done extracting for now)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL[1].shutdown(wait=True, cancel_futures=True)
            _POOL = None


@dataclass
class RunContext:
    run_id: str
    client: PoliteClient
    store: Store
    extract: Callable[[ExtractJob], Awaitable[Article | UrlFailure]]
    progress: Progress = field(default_factory=NoProgress)
    rules: tuple[Rule, ...] = ()
    schedule: Schedule = field(default_factory=Schedule)
    polls: dict[str, PollState] = field(default_factory=dict)  # as they were when the run began
    archive: Archive | None = None  # the raw archive the client records into, for revisits
    revisits: RevisitPolicy = field(default_factory=RevisitPolicy)


async def ingest_outlet(outlet: Outlet, ctx: RunContext) -> OutletReport:
    report = OutletReport(ctx.run_id, outlet.id, outlet.name, started_at=datetime.now(UTC))
    ctx.progress.outlet_started(outlet)
    ctx.client.add_outlet(outlet)  # its pacing, and the hosts its configuration names
    remembered = await asyncio.to_thread(ctx.store.sources, outlet.id)
    # What the outlet repeats on its articles, learned from its latest ones (extractors/chrome).
    chrome = learn(await asyncio.to_thread(ctx.store.paragraph_keys, outlet.id, CHROME_WINDOW))
    found = await discover(outlet, ctx.client, remembered)
    report.discovered = len(found.candidates)
    errors: list[Failure] = list(found.errors)

    # Stored pages are skipped; so are pages that yielded nothing lately, until their retry time.
    urls = [c.url for c in found.candidates]
    known = await asyncio.to_thread(ctx.store.known_urls, urls, report.started_at)
    fresh = [c for c in found.candidates if c.url not in known]
    report.skipped = len(found.candidates) - len(fresh)
    # Newest first, so a capped pass takes what matters now; the rest waits for the next pass.
    fresh.sort(key=lambda c: c.published_at or c.modified_at or _EPOCH, reverse=True)
    fresh = fresh[: outlet.max_articles]
    ctx.progress.articles_planned(outlet, len(fresh))

    sink = _Sink(outlet, ctx)
    try:
        failures = await _fetch_and_extract(outlet, fresh, ctx, sink.add, chrome)
    except asyncio.CancelledError:  # the run is stopped (Ctrl-C, SIGTERM): keep what is done
        await sink.flush()
        raise
    # robots.txt saying no is the site's wish, not a failure.
    blocked = [f for f in failures if f.failure.kind == FailureKind.ROBOTS]
    failures = [f for f in failures if f.failure.kind != FailureKind.ROBOTS]
    articles, aliases = await sink.remainder()
    report.skipped += len(blocked) + sink.aliased
    report.fetched = sink.extracted + sum(1 for f in failures if f.fetched)
    report.failed = len(failures)
    errors += [Failure(f.failure.kind, f"{f.url}: {f.failure.message}") for f in failures]
    report.extracted, report.dated = sink.extracted, sink.dated

    if found.usable_sources == 0 and found.errors:
        report.status, report.error = RunStatus.FAILED, found.errors[0].message
        report.error_kind = found.errors[0].kind
    elif fresh and not sink.kept and not sink.aliased and failures:
        report.status, report.error = RunStatus.FAILED, errors[0].message
        report.error_kind = errors[0].kind
    elif errors:
        first = f"{len(errors)} problem(s); first: {errors[0].message}"
        report.status, report.error, report.error_kind = RunStatus.PARTIAL, first, errors[0].kind
    report.finished_at = datetime.now(UTC)

    report.stored = sink.stored  # the store adds what this last write brings
    await _revisit(outlet, ctx)  # before the log is drained: its requests are the outlet's too
    batch = Batch(
        run_id=ctx.run_id,
        outlets=[outlet],
        articles=articles,
        aliases=aliases,
        fetches=ctx.client.drain_log(outlet.id),
        reports=[report],
        sources=found.sources,
        polls=[await _next_poll(outlet, report, articles, ctx)],
        failures=[UrlFailure(f.url, outlet.id, f.failure, report.finished_at) for f in failures],
    )
    result = await asyncio.to_thread(ctx.store.write, batch)
    report.stored = sink.stored + result.stored
    report.spooled = sink.spooled or result.spooled
    ctx.progress.outlet_finished(report)
    return report


async def _revisit(outlet: Outlet, ctx: RunContext) -> None:
    from flows.revisit_pass import revisit_outlet  # it builds on this module

    with contextlib.suppress(StoreError):  # the file is held: the revisits wait for next pass
        await revisit_outlet(outlet, ctx)


async def _next_poll(
    outlet: Outlet, report: OutletReport, articles: list[Article], ctx: RunContext
) -> PollState:
    now = datetime.now(UTC)
    since = now - RATE_WINDOW
    published = await asyncio.to_thread(ctx.store.published_since, outlet.id, since)
    if published is not None:
        published += sum(1 for a in articles if min(a.published_at or now, a.fetched_at) >= since)
    return next_poll(
        ctx.schedule.policy(outlet.id), ctx.polls.get(outlet.id), report, published,
        ctx.client.hold_until(outlet.homepage), now,
    )  # fmt: skip


@dataclass(frozen=True)
class _Failure:
    url: str
    failure: Failure
    fetched: bool  # the page arrived but held no article


class _Sink:
    """Extracted articles go to the store in chunks while the pass goes on: a big outlet's pass
    holds at most FLUSH_EVERY articles in memory, and a crash loses at most that many."""

    def __init__(self, outlet: Outlet, ctx: RunContext) -> None:
        self.outlet, self.ctx = outlet, ctx
        self.pending: list[Article] = []
        self.extracted = self.dated = self.kept = self.aliased = self.stored = 0
        self.spooled = False
        self._writing = asyncio.Lock()  # chunks land in the order they were taken

    async def add(self, article: Article) -> None:
        self.extracted += 1
        self.dated += article.published_at is not None
        self.pending.append(article)
        if len(self.pending) >= FLUSH_EVERY:
            chunk, self.pending = self.pending, []
            async with self._writing:
                await self._write(chunk)

    async def flush(self) -> None:
        """Write what is extracted and not yet written, now."""
        async with self._writing:
            chunk, self.pending = self.pending, []
            if chunk:
                await self._write(chunk)

    async def remainder(self) -> tuple[list[Article], list[UrlAlias]]:
        """What is left for the pass's final write (after earlier chunks have landed)."""
        async with self._writing:
            chunk, self.pending = self.pending, []
            return await self._dedupe(chunk)

    async def _dedupe(self, chunk: list[Article]) -> tuple[list[Article], list[UrlAlias]]:
        articles, aliases = await _drop_known_canonicals(chunk, self.ctx.store)
        self.kept += len(articles)
        self.aliased += len(aliases)
        return articles, aliases

    async def _write(self, chunk: list[Article]) -> None:
        articles, aliases = await self._dedupe(chunk)
        batch = Batch(self.ctx.run_id, [self.outlet], articles, aliases)
        result = await asyncio.to_thread(self.ctx.store.write, batch)
        self.stored += result.stored
        self.spooled |= result.spooled


async def _fetch_and_extract(
    outlet: Outlet,
    candidates: list[Candidate],
    ctx: RunContext,
    on_article: Callable[[Article], Awaitable[None]],
    chrome: Chrome,
) -> list[_Failure]:
    # Pages fetched faster than they can be extracted would pile up in memory: a bounded number
    # in flight keeps the workers busy and the memory flat.
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def one(candidate: Candidate) -> _Failure | None:
        async with in_flight:
            outcome = await fetch_extract(candidate)
        if isinstance(outcome, Article):
            await on_article(outcome)  # outside the semaphore: a write does not stall fetching
            return None
        return outcome

    async def fetch_extract(candidate: Candidate) -> Article | _Failure:
        try:
            page = await ctx.client.fetch(
                candidate.url, outlet.id, FetchPurpose.ARTICLE, HTML_TYPES
            )
            if page.failure is not None:
                return _Failure(candidate.url, page.failure, False)
            job = ExtractJob(
                html=page.text or "",
                url=candidate.url,
                final_url=page.final_url,
                outlet_id=outlet.id,
                homepage=outlet.homepage,
                fetched_at=page.fetched_at,
                via=candidate.via,
                default_language=outlet.language,
                hint_title=candidate.title,
                hint_published=candidate.published_at,
                hint_author=candidate.author,
                chrome=chrome,
            )
            outcome = await ctx.extract(job)
            if isinstance(outcome, UrlFailure):
                return _Failure(outcome.url, outcome.failure, True)
            outcome.archived = page.archived
            return outcome
        finally:
            ctx.progress.article_done(outlet)

    results = await asyncio.gather(*(one(c) for c in candidates))
    return [r for r in results if r is not None]


async def _drop_known_canonicals(
    articles: list[Article], store: Store
) -> tuple[list[Article], list[UrlAlias]]:
    """A page may name as canonical a URL that is already stored (or met twice in this batch):
    keep one article, and remember the other URLs as aliases so they are not fetched again."""
    canonicals = [a.canonical_url for a in articles]
    known = await asyncio.to_thread(store.known_urls, canonicals)
    kept: list[Article] = []
    aliases: list[UrlAlias] = []
    seen: set[str] = set()
    for a in articles:
        if a.canonical_url in known or a.canonical_url in seen:
            target = article_id(a.canonical_url)
            for url in {a.url, a.final_url} - {a.canonical_url}:
                aliases.append(UrlAlias(url, target, a.outlet_id))
            continue
        seen.add(a.canonical_url)
        kept.append(a)
    return kept, aliases
