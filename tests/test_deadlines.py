"""An outlet's pass with one page that trickles a byte at a time among good ones: the pass ends
within its deadlines and the good pages are stored (real loopback server, real DuckDB file,
real extraction in a thread; no Prefect)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.article import ExtractJob
from extractors.http import ClientSettings, PoliteClient
from extractors.records import Article, FailureKind, Outlet, OutletReport, RunStatus, UrlFailure
from extractors.workers import process
from flows.pipeline import RunContext, ingest_outlet
from storage.db import Store
from tests.support.hostile import HostileServer, page, trickle
from tests.support.pages import article, rss

SETTINGS = ClientSettings(connect_timeout_s=2, read_timeout_s=30, retries=0, respect_robots=False)
GOOD = [f"/news/good-story-number-{i}" for i in range(3)]
SLOW = "/news/slow-story-that-trickles"
PUBLISHED = datetime(2025, 7, 8, 12, 0, tzinfo=UTC)


async def in_a_thread(job: ExtractJob) -> Article | UrlFailure:
    return await asyncio.to_thread(process, job)


def outlet_pass(
    tmp_path: Path, page_deadline_s: float, outlet_deadline_s: float
) -> tuple[OutletReport, Store, HostileServer]:
    with HostileServer({}) as site:
        site.routes["/rss"] = page(rss(site.url, [SLOW, *GOOD]), content_type="application/rss+xml")
        for i, path in enumerate(GOOD):
            site.routes[path] = page(article(i, PUBLISHED))
        # 200 bytes, one every 0.2 s: 40 s unless something cuts it short.
        site.routes[SLOW] = trickle(site, article(9, PUBLISHED)[:200], 0.2)
        o = Outlet("o", "O", site.url + "/", "en", feeds=(site.url + "/rss",), min_delay_s=0)
        settings = dataclasses.replace(SETTINGS, page_deadline_s=page_deadline_s)
        store = Store(tmp_path / "d.duckdb")
        # First-time costs (the store's migrations, the extractor's lazy loading) are paid
        # before the pass, so that the outlet deadline is spent on the pages.
        store.initialise()
        warm = ExtractJob(article(8, PUBLISHED).decode(), site.url + "/w", site.url + "/w", "o",
                          site.url + "/", PUBLISHED, "feed")  # fmt: skip
        assert isinstance(process(warm), Article)

        async def main() -> OutletReport:
            async with PoliteClient(settings) as client:
                ctx = RunContext("run-1", client, store, in_a_thread)
                ctx.outlet_deadline_s = outlet_deadline_s
                return await ingest_outlet(o, ctx)

        report = asyncio.run(main())
        for _ in range(100):  # the route notices the hang-up on its next write
            if site.events:
                break
            time.sleep(0.05)
        return report, store, site


def stored_paths(store: Store, site: HostileServer) -> set[str]:
    return {url.removeprefix(site.url) for (url,) in store.query("SELECT url FROM articles").rows}


def test_a_trickling_page_fails_at_its_deadline_and_the_good_pages_are_stored(
    tmp_path: Path,
) -> None:
    report, store, site = outlet_pass(tmp_path, page_deadline_s=1, outlet_deadline_s=600)
    assert stored_paths(store, site) == set(GOOD)
    assert (report.status, report.stored, report.failed) == (RunStatus.PARTIAL, 3, 1)
    assert report.error_kind == FailureKind.DEADLINE
    assert report.error is not None and SLOW in report.error
    assert site.events[0].startswith("hung up after ")  # cut mid-body, not sent in full
    rows = store.query("SELECT url, kind FROM url_failures").rows
    assert [(url.removeprefix(site.url), kind) for url, kind in rows] == [(SLOW, "deadline")]


@pytest.mark.slow  # waits out a ten-second outlet deadline
def test_the_outlet_deadline_ends_the_pass_and_keeps_what_was_extracted(tmp_path: Path) -> None:
    report, store, site = outlet_pass(tmp_path, page_deadline_s=600, outlet_deadline_s=10)
    assert stored_paths(store, site) == set(GOOD)
    assert report.status == RunStatus.PARTIAL and report.error_kind == FailureKind.DEADLINE
    assert report.error == (
        "1 problem(s); first: outlet_deadline_s reached: 1 article(s) left for the next pass"
    )
    assert site.events[0].startswith("hung up after ")
    # Left for the next pass, not failed: the page is not put on the failing URLs' wait.
    assert store.query("SELECT count(*) FROM url_failures").rows == [(0,)]
    assert report.failed == 0
