"""`newsmon import-warc FILE... -o OUTLET`: articles from WARC files fetched elsewhere (a CC-NEWS
extract, another crawler's archive, newsmon's own archive of another store).

Responses on the outlet's site whose URL fits its article pattern go through the normal
extraction and the normal write (deduplication, stories, aliases); they are copied into this
store's archive so that re-extraction works on them too. Imported articles are history: quiet.
"""

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from extractors.records import Article, Outlet, Route
from extractors.urls import canonicalize, is_article_url, same_site
from flows.config import Config
from flows.extraction import Extractor
from flows.history import extract_all, job_for, open_archive, write_quiet
from storage.db import Store
from storage.warc import ArchiveError, Exchange, read_responses

BATCH = 100  # responses extracted, then written, at a time


@dataclass
class ImportSummary:
    responses: int = 0
    articles: int = 0  # responses on the outlet's site that fit its article pattern
    known: int = 0  # already stored
    stored: int = 0
    failed: int = 0  # no article text
    errors: list[str] | None = None


def is_article(exchange: Exchange, outlet: Outlet, pattern: re.Pattern | None) -> bool:
    content_type = (exchange.content_type or "text/html").split(";")[0].strip().lower()
    if exchange.status != 200 or content_type not in ("text/html", "application/xhtml+xml"):
        return False
    url = canonicalize(exchange.url)
    return bool(url and same_site(url, outlet.homepage) and is_article_url(url, pattern))


async def import_warc(config: Config, db: Path, outlet: Outlet, files: list[Path]) -> ImportSummary:
    store = Store(db, lake=config.lake)
    archive = open_archive(config, db)
    extractor = Extractor(config.settings.workers, config.rules)
    pattern = re.compile(outlet.article_pattern) if outlet.article_pattern else None
    run_id = datetime.now(UTC).strftime("import-%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    summary = ImportSummary(errors=[])
    pending: list[Exchange] = []

    async def flush() -> None:
        chunk = list(pending)
        pending.clear()
        urls = [canonicalize(e.url) or e.url for e in chunk]
        new = set(await asyncio.to_thread(store.unseen, urls))
        fresh = [(u, e) for u, e in zip(urls, chunk, strict=True) if u in new]
        summary.known += len(chunk) - len(fresh)
        refs = [await asyncio.to_thread(archive.write, e) if archive else None for _, e in fresh]
        jobs = [job_for(e, outlet, u, Route.ARCHIVE) for u, e in fresh]
        articles: list[Article] = []
        for ref, outcome in zip(refs, await extract_all(extractor, jobs), strict=True):
            if isinstance(outcome, Article):
                outcome.archived = ref
                articles.append(outcome)
            else:
                summary.failed += 1
        result = await asyncio.to_thread(write_quiet, store, run_id, outlet, articles)
        summary.stored += result.stored

    try:
        for path in files:
            try:
                for exchange in read_responses(path, config.settings.client.max_bytes):
                    summary.responses += 1
                    if not is_article(exchange, outlet, pattern):
                        continue
                    summary.articles += 1
                    pending.append(exchange)
                    if len(pending) >= BATCH:
                        await flush()
            except ArchiveError as exc:
                summary.errors.append(str(exc))
            except OSError as exc:
                summary.errors.append(f"{path}: {exc.strerror or exc}")
        if pending:
            await flush()
    finally:
        if archive is not None:
            archive.close()
    return summary
