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
from typing import Annotated

import typer

from extractors.article import EXTRACTOR_VERSION
from extractors.records import Article, Outlet
from flows.cli_common import ConfigOpt, DbOpt, db_path, fail, load_config, say
from flows.config import DEFAULT_CONFIG, Config
from flows.extraction import Extractor
from flows.history import extract_all, job_for
from storage.archive import Archive, ArchiveError, archive_dir
from storage.db import Store
from storage.history import History, StoredArticle

OutletOpt = Annotated[
    list[str] | None, typer.Option("--outlet", "-o", help="Only articles of these outlets.")
]
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
    extractor = Extractor(config.settings.workers, config.rules)
    started = time.perf_counter()
    done = 0
    for offset in range(0, len(rows), CHUNK):
        chunk = rows[offset : offset + CHUNK]
        articles = await _extract_chunk(chunk, outlets, archive, extractor, summary)
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
        jobs.append(job_for(exchange, outlet, row.url, via, row.fetched_at, row.title))
        stored.append(row)
    articles = []
    for row, outcome in zip(stored, await extract_all(extractor, jobs), strict=True):
        if not isinstance(outcome, Article):
            summary.failed += 1
            continue
        # Same id, whatever canonical URL the page names now: the row is updated, not added.
        articles.append(dataclasses.replace(outcome, id=row.id, archived=row.archived))
    return articles


def register(app: typer.Typer) -> None:
    @app.command("reextract")
    def reextract_command(
        config: ConfigOpt = DEFAULT_CONFIG,
        db: DbOpt = None,
        outlet: OutletOpt = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only articles from this day on (YYYY-MM-DD).")
        ] = None,
    ) -> None:
        """Extract stored articles again from the raw archive (rows of an older extractor)."""
        cfg = load_config(config)
        assert cfg is not None
        try:
            day = date.fromisoformat(since) if since else None
        except ValueError:
            raise fail(f"--since: not a date (YYYY-MM-DD): {since}") from None
        path = db_path(db, cfg)
        if cfg.lake is None and not path.exists():  # a lake's catalog says for itself
            raise fail(f"no database at {path}")
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("re-extracting", total=None)
            summary = asyncio.run(
                reextract(cfg, path, outlet, day,
                          lambda done, total: bar.update(task, completed=done, total=total))
            )  # fmt: skip
        say(
            f"re-extracted {summary.rewritten} of {summary.candidates} article(s) made by an "
            f"older extractor in {summary.seconds:.1f} s ({summary.rate:.1f} per second); "
            f"{summary.failed} yield no article now (kept as they were), "
            f"{summary.missing} record(s) no longer archived, "
            f"{summary.unchanged_version} stored before the archive"
        )
