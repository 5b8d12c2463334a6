"""One outlet's pass without Prefect (flows/pipeline.py): three opens of the store, and the
store as the one owner of URL deduplication and of the count of what was stored; topic scores
only from extraction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from extractors.article import ExtractJob, extract
from extractors.http import ClientSettings, PoliteClient
from extractors.records import Article, Outlet, OutletReport, UrlFailure
from extractors.topics import Rule, Term
from extractors.workers import Scorer
from flows.pipeline import RunContext, ingest_outlet
from storage.db import Store
from tests.support.pages import article, rss
from tests.support.server import Response, Site

PATHS = ["/news/one-story-here", "/news/two-story-here", "/news/print/one-story-here",
         "/news/missing-story-here"]  # fmt: skip
RULE = Rule(
    "corridor", "Corridor", "corridor", {"corridor": (Term.parse("corridor"),)}, min_mentions=1
)


def news_site() -> Site:
    """Two stories, the print version of the first (its rel=canonical names the story), and a
    page that is gone."""
    site = Site("https://pass.example")
    now = datetime.now(UTC)
    one, two = article(1, now, "pass"), article(2, now, "pass")
    canonical = b"<link rel='canonical' href='https://pass.example/news/one-story-here'>"
    site.routes.update(
        {
            PATHS[0]: Response(one),
            PATHS[1]: Response(two),
            PATHS[2]: Response(one.replace(b"</head>", canonical + b"</head>")),
            PATHS[3]: Response(b"gone", status=404),
            "/rss": Response(rss(site.real_origin, PATHS), "application/rss+xml"),
        }
    )
    return site


class Opens:
    """Counts the store's opens (read-only or read-write)."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        self._open = store.db._open
        store.db._open = self  # type: ignore[method-assign]

    def __call__(self, read_only: bool, wait_s: float | None) -> Iterator:
        self.count += 1
        return self._open(read_only, wait_s)


def one_pass(store: Store, outlet: Outlet, run_id: str) -> OutletReport:
    scorer = Scorer([RULE])

    async def extract_here(job: ExtractJob) -> Article | UrlFailure:
        # What an extraction worker does (extractors.workers.process), in this process.
        outcome = extract(job)
        if isinstance(outcome, Article):
            outcome.topics = scorer.scores(outcome.title, outcome.text)
        return outcome

    async def run() -> OutletReport:
        async with PoliteClient(ClientSettings(retries=1, backoff_base_s=0.05)) as client:
            return await ingest_outlet(outlet, RunContext(run_id, client, store, extract_here))

    return asyncio.run(run())


def test_a_pass_opens_the_store_three_times_and_the_store_dedups_and_counts(
    tmp_path: Path, serve
) -> None:  # noqa: ANN001
    site = news_site()
    serve(site)
    outlet = Outlet("pass", "Pass", site.url + "/", "en", feeds=(site.url + "/rss",), min_delay_s=0)
    Store(tmp_path / "p.duckdb").initialise()
    store = Store(tmp_path / "p.duckdb")
    store.outlet_state("pass", datetime.now(UTC))  # the first read of an open checks the schema
    opens = Opens(store)

    first = one_pass(store, outlet, "r1")
    assert opens.count == 3  # what the store knows of the outlet, what is new, the write
    # Three pages arrived and held an article, but the print version is the first story under
    # another URL: the store stored two, and counted them itself.
    assert (first.fetched, first.extracted, first.stored, first.failed) == (3, 3, 2, 1), first
    urls = store.query("SELECT url FROM articles ORDER BY url").rows
    assert [u.rsplit("/", 1)[1] for (u,) in urls] == ["one-story-here", "two-story-here"]
    scores = store.query("SELECT rule_id, matched, rule_signature FROM article_topics").rows
    assert scores == [("corridor", True, RULE.signature())] * 2

    paths = [*PATHS, "/news/three-story-here"]
    site.routes[paths[-1]] = Response(article(3, datetime.now(UTC), "pass"))
    site.routes["/rss"] = Response(rss(site.real_origin, paths), "application/rss+xml")
    site.requests.clear()
    opens.count = 0
    second = one_pass(store, outlet, "r2")
    assert opens.count == 3
    # Only the new story is fetched: not the stories, the print URL (an alias now) or the
    # missing page (failed lately: it waits for its retry time).
    assert (second.skipped, second.fetched, second.stored) == (4, 1, 1), second
    assert [p for p in site.requests if p.startswith("/news/")] == [paths[-1]]
