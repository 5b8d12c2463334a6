"""One outlet's pass, top-down, one function per stage an article meets:

    discover → store.unseen → fetch → extract → store.write(pass)

The pass counts what it meets on the way (discovered, skipped, fetched, failed, extracted,
dated) and judges the outlet's status. The store owns the rest: which URLs and canonical URLs
are stored already (asked before fetching, and settled again at the write), stories, and what
was stored, which it counts and hands back in the pass's report. Topic scores come with each
article from its extraction worker. A pass opens the store three times: what it knows of the
outlet, which candidates are new, and the write (a big pass writes chunks of FLUSH_EVERY
articles before that, so it holds at most that many in memory).

Plain async code over typed records; flows/ingest.py runs it for every outlet of a run.
Nothing here raises for an outlet's own trouble (dead host, bad feed, 500s): that ends up in
the report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from extractors.chrome import WINDOW as CHROME_WINDOW
from extractors.chrome import learn
from extractors.http import HTML_TYPES, PoliteClient
from extractors.records import (
    Article,
    Batch,
    Candidate,
    Chrome,
    ExtractJob,
    Failure,
    FailureKind,
    FetchPurpose,
    Outlet,
    OutletReport,
    Page,
    PollState,
    RunStatus,
    UrlFailure,
)
from flows.discovery import Discovery, discover
from flows.polling import RATE_WINDOW, Schedule, next_poll
from flows.revisit_pass import revisit
from flows.revisits import RevisitPolicy
from storage.archive import Archive
from storage.db import Store

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


@dataclass
class RunContext:
    run_id: str
    client: PoliteClient
    store: Store
    extract: Callable[[ExtractJob], Awaitable[Article | UrlFailure]]
    progress: Progress = field(default_factory=NoProgress)
    schedule: Schedule = field(default_factory=Schedule)
    polls: dict[str, PollState] = field(default_factory=dict)  # as they were when the run began
    archive: Archive | None = None  # the raw archive the client records into, for revisits
    revisits: RevisitPolicy = field(default_factory=RevisitPolicy)
    outlet_deadline_s: float = 1800.0  # fetching one outlet's articles; the rest waits a pass


async def ingest_outlet(outlet: Outlet, ctx: RunContext) -> OutletReport:
    started = datetime.now(UTC)
    ctx.progress.outlet_started(outlet)
    ctx.client.add_outlet(outlet)  # its pacing, and the hosts its configuration names
    to_revisit = started - ctx.revisits.fresh_for if ctx.revisits.enabled else None
    known = await asyncio.to_thread(
        ctx.store.outlet_state, outlet.id, started - RATE_WINDOW, to_revisit, CHROME_WINDOW
    )
    found = await discover(outlet, ctx.client, known.sources)
    fresh = await unseen(outlet, found, ctx, started)
    ctx.progress.articles_planned(outlet, len(fresh))
    # What the outlet repeats on its articles, learned from its latest ones (extractors/chrome).
    chrome = learn(known.paragraph_keys)
    met = await fetch_and_extract(outlet, fresh, chrome, ctx)
    report = judge(outlet, ctx.run_id, started, found, len(fresh), met)
    # Before the log is drained: the revisits' requests are the outlet's too.
    revisits, versions = await revisit(outlet, ctx, known.fresh, chrome)
    published = None if known.published is None else known.published + met.recent
    batch = Batch(
        run_id=ctx.run_id,
        outlets=[outlet],
        articles=met.pending,
        fetches=ctx.client.drain_log(outlet.id),
        reports=[report],
        sources=found.sources,
        polls=[next_poll_state(outlet, report, published, ctx)],
        failures=met.failures,
        revisits=revisits,
        versions=versions,
    )
    report = (await asyncio.to_thread(ctx.store.write, batch)).reports[0]
    ctx.progress.outlet_finished(report)
    return report


async def unseen(
    outlet: Outlet, found: Discovery, ctx: RunContext, now: datetime
) -> list[Candidate]:
    """The candidates the store has not stored under any of their URLs, and that did not fail
    lately (each failed URL waits for its retry time); newest first, as many as the outlet
    takes a pass. The rest waits for the next pass."""
    urls = await asyncio.to_thread(ctx.store.unseen, [c.url for c in found.candidates], now)
    wanted = set(urls)
    fresh = [c for c in found.candidates if c.url in wanted]
    fresh.sort(key=lambda c: c.published_at or c.modified_at or _EPOCH, reverse=True)
    return fresh[: outlet.max_articles]


@dataclass
class Met:
    """What fetching and extracting met; `pending` are the articles no chunk wrote yet."""

    pending: list[Article] = field(default_factory=list)
    failures: list[UrlFailure] = field(default_factory=list)
    blocked: int = 0  # robots.txt said no: the site's wish, not a failure
    fetched: int = 0  # pages that arrived
    extracted: int = 0  # of those, with article-length text
    dated: int = 0  # of those, with a publication date
    recent: int = 0  # of those, published within the polling's RATE_WINDOW
    left: int = 0  # candidates still in flight when the outlet's deadline came: the next pass's


async def fetch_and_extract(
    outlet: Outlet, candidates: list[Candidate], chrome: Chrome, ctx: RunContext
) -> Met:
    """Every candidate through fetch and extract, IN_FLIGHT at a time: pages fetched faster
    than they can be extracted would pile up in memory. What is still in flight when the
    outlet's deadline comes is left for the next pass; what was extracted by then is kept."""
    met = Met()
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    writing = asyncio.Lock()  # chunks land in the order they were taken
    since = datetime.now(UTC) - RATE_WINDOW
    handed_over: set[asyncio.Task[None]] = set()  # past extraction: never cut short

    async def one(candidate: Candidate) -> None:
        async with in_flight:
            try:
                outcome = await fetch_and_extract_one(outlet, candidate, chrome, ctx, met)
            finally:
                ctx.progress.article_done(outlet)
        handed_over.add(asyncio.current_task())  # type: ignore[arg-type]
        if isinstance(outcome, UrlFailure):
            if outcome.failure.kind == FailureKind.ROBOTS:
                met.blocked += 1
            else:
                met.failures.append(outcome)
            return
        met.extracted += 1
        met.dated += outcome.published_at is not None
        met.recent += min(outcome.published_at or outcome.fetched_at, outcome.fetched_at) >= since
        met.pending.append(outcome)
        if len(met.pending) >= FLUSH_EVERY:  # outside the semaphore: fetching goes on
            async with writing:
                await write_chunk(outlet, met, ctx)

    tasks = [asyncio.ensure_future(one(c)) for c in candidates]
    try:
        _, pending = await asyncio.wait(tasks, timeout=ctx.outlet_deadline_s) if tasks else ((), ())
    except asyncio.CancelledError:  # the run is stopped (Ctrl-C, SIGTERM): keep what is done
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with writing:
            await write_chunk(outlet, met, ctx)
        raise
    cut = [task for task in pending if task not in handed_over]
    for task in cut:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task not in cut:
            task.result()  # a bug of ours still ends the outlet's branch
    met.left = len(cut)
    return met


async def fetch_and_extract_one(
    outlet: Outlet, candidate: Candidate, chrome: Chrome, ctx: RunContext, met: Met
) -> Article | UrlFailure:
    page = await fetch(outlet, candidate, ctx)
    if page.failure is not None:
        return UrlFailure(candidate.url, outlet.id, page.failure, page.fetched_at)
    met.fetched += 1
    return await extract(outlet, candidate, page, chrome, ctx)


async def fetch(outlet: Outlet, candidate: Candidate, ctx: RunContext) -> Page:
    """Politely: robots.txt, the host's pace, retries (extractors/http.py)."""
    return await ctx.client.fetch(candidate.url, outlet.id, FetchPurpose.ARTICLE, HTML_TYPES)


async def extract(
    outlet: Outlet, candidate: Candidate, page: Page, chrome: Chrome, ctx: RunContext
) -> Article | UrlFailure:
    """In an extraction worker: the article with its fingerprint and topic scores, or why the
    page held none. The feed's hints fill what the page lacks; the outlet's chrome is left
    out of the text."""
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
    if isinstance(outcome, Article):
        outcome.archived = page.archived
    return outcome


async def write_chunk(outlet: Outlet, met: Met, ctx: RunContext) -> None:
    chunk, met.pending = met.pending, []
    if chunk:
        await asyncio.to_thread(ctx.store.write, Batch(ctx.run_id, [outlet], chunk))


def judge(
    outlet: Outlet, run_id: str, started: datetime, found: Discovery, fresh: int, met: Met
) -> OutletReport:
    """The pass's report, all but what the store counts: FAILED when nothing usable came back,
    PARTIAL when something failed on the way."""
    errors: list[Failure] = [
        *found.errors,
        *(Failure(f.failure.kind, f"{f.url}: {f.failure.message}") for f in met.failures),
    ]
    if met.left:
        message = f"outlet_deadline_s reached: {met.left} article(s) left for the next pass"
        errors.append(Failure(FailureKind.DEADLINE, message))
    report = OutletReport(
        run_id, outlet.id, outlet.name, started, finished_at=datetime.now(UTC),
        discovered=len(found.candidates), skipped=len(found.candidates) - fresh + met.blocked,
        fetched=met.fetched, failed=len(met.failures), extracted=met.extracted, dated=met.dated,
    )  # fmt: skip
    if found.usable_sources == 0 and found.errors:
        worst = found.errors[0]
        report.status, report.error, report.error_kind = RunStatus.FAILED, worst.message, worst.kind
    elif fresh and not met.extracted and met.failures:
        worst = errors[0]
        report.status, report.error, report.error_kind = RunStatus.FAILED, worst.message, worst.kind
    elif errors:
        first = f"{len(errors)} problem(s); first: {errors[0].message}"
        report.status, report.error, report.error_kind = RunStatus.PARTIAL, first, errors[0].kind
    return report


def next_poll_state(
    outlet: Outlet, report: OutletReport, published: int | None, ctx: RunContext
) -> PollState:
    """When to poll the outlet next (flows/polling.py): `published` counts its articles of the
    last RATE_WINDOW, this pass's included (None: the store could not say)."""
    return next_poll(
        ctx.schedule.policy(outlet.id), ctx.polls.get(outlet.id), report, published,
        ctx.client.hold_until(outlet.homepage), datetime.now(UTC),
    )  # fmt: skip
