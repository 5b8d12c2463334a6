"""What re-extraction, backfills, imports and revisits share: the archive of a store, and
extraction jobs made from archived responses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.decoding import decode
from extractors.records import (
    Article,
    Batch,
    Chrome,
    ExtractJob,
    Outlet,
    Route,
    UrlFailure,
    WriteResult,
)
from flows.cli_common import fail, load_config
from flows.config import Config
from storage.archive import Archive, Exchange, archive_dir
from storage.db import Store

# The CLI imports this module to register its command; extraction (trafilatura) is imported
# only when the command runs: `newsmon sql` and the desk start without it.
if TYPE_CHECKING:
    from extractors.article import ExtractJob
    from flows.extraction import Extractor


def open_archive(config: Config, db_path: Path) -> Archive | None:
    """The store's archive, or None where the config turned it off."""
    settings = config.history.archive
    return Archive(archive_dir(db_path), settings) if settings.enabled else None


def config_and_outlet(path: Path, outlet_id: str) -> tuple[Config, Outlet]:
    """For a command about one outlet: the config and that outlet (exit 2 when it has none)."""
    config = load_config(path)
    assert config is not None
    outlet = next((o for o in config.outlets if o.id == outlet_id), None)
    if outlet is None:
        raise fail(f"no outlet '{outlet_id}' in {config.path}")
    return config, outlet


def charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def job_for(
    exchange: Exchange,
    outlet: Outlet,
    url: str,
    via: Route | str,
    fetched_at: datetime | None = None,
    hint_title: str | None = None,
    hint_published: datetime | None = None,
    chrome: Chrome | None = None,
) -> ExtractJob:
    """The extraction job an archived response makes, as the live pass would have made it
    (`chrome`: the outlet's, learned from its stored articles)."""
    from extractors.article import ExtractJob

    return ExtractJob(
        html=decode(exchange.body, charset_of(exchange.content_type)),
        url=url,
        final_url=exchange.url,
        outlet_id=outlet.id,
        homepage=outlet.homepage,
        fetched_at=fetched_at or exchange.fetched_at,
        via=via,
        default_language=outlet.language,
        hint_title=hint_title,
        hint_published=hint_published,
        chrome=chrome or Chrome(),
    )


async def extract_all(
    extractor: Extractor, jobs: Sequence[ExtractJob]
) -> list[Article | UrlFailure]:
    return list(await asyncio.gather(*(extractor(job) for job in jobs)))


def write_quiet(store: Store, run_id: str, outlet: Outlet, articles: list[Article]) -> WriteResult:
    """History goes in through the normal write (dedup, stories, aliases, the topic scores the
    workers made), quiet."""
    return store.write(Batch(run_id=run_id, outlets=[outlet], articles=articles, quiet=True))
