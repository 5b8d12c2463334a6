"""Re-extraction from the archive against live extraction, on the same pages.

A loopback outlet with three years of monthly sitemaps (tests/support/history_site.py) is
ingested whole by one live pass (discover, fetch, extract, write, archive), then every row is
marked as made by an older extractor and `reextract` extracts them all again from the archive
(read, extract, update in place). Prints each trial's rates and the medians of both.

    python -m benchmarks.reextract_bench [--per-month N] [--workers N] [--trials N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from extractors.http import PoliteClient
from flows.config import Config, load
from flows.history import open_archive
from flows.pipeline import Extractor, RunContext, ingest_outlet
from flows.reextract import reextract
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.history_site import MONTHS, HistoricOutlet
from tests.support.server import SiteServer


async def live_pass(config: Config, db: Path) -> int:
    archive = open_archive(config, db)
    assert archive is not None
    outlet = config.outlets[0]
    try:
        async with PoliteClient(config.settings.client, recorder=archive.record) as client:
            client.add_outlet(outlet)
            extractor = Extractor(config.settings.workers, config.rules)
            report = await ingest_outlet(outlet, RunContext("bench", client, Store(db), extractor))
    finally:
        archive.close()
    return report.stored


def trial(outlet: HistoricOutlet, workers: int, tmp: Path) -> tuple[float, float]:
    text = config_text(
        outlet_toml("history", outlet.site, article_pattern="^/20", max_articles=100_000,
                    sitemaps=[outlet.flat_sitemap()]),
    ).replace("workers = 2", f"workers = {workers}")  # fmt: skip
    config = load(write_config(tmp / "c.toml", text))
    db = tmp / "b.duckdb"
    started = time.perf_counter()
    stored = asyncio.run(live_pass(config, db))
    live_s = time.perf_counter() - started
    con = duckdb.connect(str(db))
    con.execute("UPDATE articles SET extractor_version = 'bench-old'")
    con.close()
    again = asyncio.run(reextract(config, db))
    assert again.rewritten == stored, (again, stored)
    print(
        f"  {stored} articles: live pass {live_s:.1f} s ({stored / live_s:.1f}/s), "
        f"reextract {again.seconds:.1f} s ({again.rate:.1f}/s)",
        flush=True,
    )
    return stored / live_s, again.rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-month", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    outlet = HistoricOutlet(per_month=args.per_month)
    print(f"{args.per_month * MONTHS} pages, {args.workers} extraction workers")
    results = []
    with SiteServer([outlet.site]):
        for _ in range(args.trials):
            with tempfile.TemporaryDirectory() as tmp:
                results.append(trial(outlet, args.workers, Path(tmp)))
    live = statistics.median(r[0] for r in results)
    again = statistics.median(r[1] for r in results)
    print(f"median of {args.trials}: live pass {live:.1f} articles/s "
          f"(discover, fetch, extract, write, archive); reextract {again:.1f} articles/s "
          f"(archive read, extract, update in place); {again / live:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
