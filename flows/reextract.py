"""`newsmon reextract`: extract stored articles again from their archived responses.

For rows made by another extractor version (after extraction improved). Rows are updated in
place (same id, story and alerts) and become quiet: a new reading of an old page starts no
alert. Extraction runs on the same process pool as a live pass; nothing is fetched.
"""

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path

from extractors.chrome import WINDOW as CHROME_WINDOW
from extractors.chrome import learn
from extractors.records import Article, Chrome, Outlet
from flows.config import Config
from flows.extraction import Extractor
from flows.history import extract_all, job_for
from storage.archive import Archive, ArchiveError, archive_dir
from storage.db import Store
from storage.history import History, StoredArticle

CHUNK = 200  # rows extracted, then written, at a time: a stop loses at most this much work


@dataclass
class ReextractSummary:
    candidates: int = 0
    rewritten: int = 0
    unchanged_version: int = 0  # rows with no record in the archive (stored before it)
    missing: int = 0  # records pruned from the archive, or unreadable
    failed: int = 0  # the page yields no article now: the row is kept as it was
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        done = self.rewritten + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0


async def reextract(
    config: Config,
    db: Path,
    outlet_ids: list[str] | None = None,
    since: date | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReextractSummary:
    from extractors.article import EXTRACTOR_VERSION  # trafilatura: not for every command

    store = Store(db, lake=config.lake)
    history = History(store)
    archive = Archive(archive_dir(db), config.history.archive)  # read even if turned off
    outlets = {o.id: o for o in config.outlets}
    start = datetime.combine(since, day_time.min, UTC) if since else None
    summary = ReextractSummary()
    rows = await asyncio.to_thread(history.stale, EXTRACTOR_VERSION, outlet_ids or (), start)
    summary.unchanged_version = await asyncio.to_thread(
        history.unarchived, EXTRACTOR_VERSION, outlet_ids or ()
    )
    summary.candidates = len(rows)
    # Each outlet's chrome as its stored articles teach it now, left out as a pass leaves it.
    chromes: dict[str, Chrome] = {}
    for outlet_id in {row.outlet_id for row in rows}:
        known = await asyncio.to_thread(
            store.outlet_state, outlet_id, datetime.now(UTC), None, CHROME_WINDOW
        )
        chromes[outlet_id] = learn(known.paragraph_keys)
    extractor = Extractor(config.settings.workers, config.rules)
    started = time.perf_counter()
    done = 0
    for offset in range(0, len(rows), CHUNK):
        chunk = rows[offset : offset + CHUNK]
        articles = await _extract_chunk(chunk, outlets, archive, extractor, summary, chromes)
        summary.rewritten += await asyncio.to_thread(history.rewrite, articles)
        done += len(chunk)
        if on_progress:
            on_progress(done, len(rows))
    summary.seconds = time.perf_counter() - started
    return summary


async def _extract_chunk(
    chunk: list[StoredArticle],
    outlets: dict[str, Outlet],
    archive: Archive,
    extractor: Extractor,
    summary: ReextractSummary,
    chromes: dict[str, Chrome],
) -> list[Article]:
    jobs, stored = [], []
    for row in chunk:
        outlet = outlets.get(row.outlet_id) or Outlet(row.outlet_id, row.outlet_id, row.url, "")
        assert row.archived is not None
        try:
            exchange = await asyncio.to_thread(archive.read, row.archived)
        except ArchiveError:
            summary.missing += 1
            continue
        via = row.discovered_via or ""
        chrome = chromes.get(row.outlet_id)
        jobs.append(
            job_for(exchange, outlet, row.url, via, row.fetched_at, row.title, None, chrome)
        )
        stored.append(row)
    articles = []
    for row, outcome in zip(stored, await extract_all(extractor, jobs), strict=True):
        if not isinstance(outcome, Article):
            summary.failed += 1
            continue
        # Same id, whatever canonical URL the page names now: the row is updated, not added.
        articles.append(dataclasses.replace(outcome, id=row.id, archived=row.archived))
    return articles
