"""Revisits within a pass: the outlet's fresh articles that are due are fetched again
(conditionally), and a changed headline or text becomes a new version of the same article.

The article keeps its id, story and alerts; its row takes the latest version and
article_versions keeps each one with what changed. Topics are scored again (a correction can
make a story match), but a story that already alerted never alerts again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from extractors.chrome import WINDOW as CHROME_WINDOW
from extractors.chrome import learn, strip
from extractors.http import HTML_TYPES
from extractors.records import (
    Article,
    Chrome,
    ExtractJob,
    FetchPurpose,
    Outlet,
    RevisitState,
    StoredArticle,
    Validators,
    Version,
)
from extractors.versions import diff
from flows.revisits import due_now, next_revisit
from storage.archive import ArchiveError
from storage.history import History

if TYPE_CHECKING:
    from flows.pipeline import RunContext


async def revisit_outlet(outlet: Outlet, ctx: RunContext, now: datetime | None = None) -> int:
    """Revisit what is due now and record it; returns how many new versions were stored. (A
    pass does the same within its own read and write: flows/pipeline.py.)"""
    policy = ctx.revisits
    if not policy.enabled:
        return 0
    now = now or datetime.now(UTC)
    history = History(ctx.store)
    fresh = await asyncio.to_thread(history.fresh, outlet.id, now - policy.fresh_for)
    known = await asyncio.to_thread(ctx.store.outlet_state, outlet.id, now, None, CHROME_WINDOW)
    states, versions = await revisit(outlet, ctx, fresh, learn(known.paragraph_keys), now)
    if not states:
        return 0
    return await asyncio.to_thread(history.record_revisits, states, versions)


async def revisit(
    outlet: Outlet,
    ctx: RunContext,
    fresh: Sequence[tuple[StoredArticle, RevisitState | None]],
    chrome: Chrome,
    now: datetime | None = None,
) -> tuple[list[RevisitState], list[Version]]:
    """Fetch again those of the outlet's fresh articles that are due: each one's new revisit
    state, and the versions that changed. `chrome`: the outlet's, left out of the new text as
    a pass leaves it out, so that chrome coming or going makes no version."""
    policy = ctx.revisits
    now = now or datetime.now(UTC)
    due = []
    for stored, state in fresh:
        count = state.revisits if state else 0
        last = state.last_visit if state else stored.fetched_at
        if due_now(next_revisit(policy, stored.published_at, stored.fetched_at, count, last), now):
            due.append((stored, state))
    results = await asyncio.gather(*(_revisit(outlet, ctx, s, st, now, chrome) for s, st in due))
    return [state for state, _ in results], [v for _, v in results if v is not None]


async def _revisit(
    outlet: Outlet,
    ctx: RunContext,
    stored: StoredArticle,
    state: RevisitState | None,
    now: datetime,
    chrome: Chrome,
) -> tuple[RevisitState, Version | None]:
    validators = await asyncio.to_thread(_validators, ctx, stored, state)
    page = await ctx.client.fetch(
        stored.url, outlet.id, FetchPurpose.ARTICLE, HTML_TYPES, validators
    )
    count = (state.revisits if state else 0) + 1
    etag = page.etag or (state.etag if state else None)
    modified = page.last_modified or (state.last_modified if state else None)
    new_state = RevisitState(stored.id, count, now, etag, modified)
    if not page.ok or page.not_modified:
        return new_state, None
    job = ExtractJob(
        html=page.text or "", url=stored.url, final_url=page.final_url, outlet_id=outlet.id,
        homepage=outlet.homepage, fetched_at=page.fetched_at,
        via=stored.discovered_via or "", default_language=outlet.language, chrome=chrome,
    )  # fmt: skip
    outcome = await ctx.extract(job)
    if not isinstance(outcome, Article):
        return new_state, None  # a page that lost its text is no version of the article
    # Stored before the chrome was learned, the text may still hold it: not a change either.
    change = diff(stored.title, strip(stored.text, chrome)[0], outcome.title, outcome.text)
    if change is None:
        return new_state, None
    article = dataclasses.replace(outcome, id=stored.id, archived=page.archived)
    return new_state, Version(article, change)


def _validators(
    ctx: RunContext, stored: StoredArticle, state: RevisitState | None
) -> Validators | None:
    """The last revisit's validators, else those of the archived first response, and the
    archived body's hash: a server that ignores conditional requests still costs no extraction."""
    etag, modified, body_hash = (
        (state.etag, state.last_modified, None) if state else (None, None, None)
    )
    if ctx.archive is not None and stored.archived is not None:
        try:
            exchange = ctx.archive.read(stored.archived)
        except ArchiveError:
            exchange = None
        if exchange is not None:
            headers = {k.lower(): v for k, v in exchange.headers}
            etag = etag or headers.get("etag")
            modified = modified or headers.get("last-modified")
            if state is None:
                body_hash = hashlib.sha256(exchange.body).hexdigest()
    if not (etag or modified or body_hash):
        return None
    return Validators(etag, modified, body_hash)
