"""The Prefect flow end to end over real loopback sites and a real DuckDB file."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from extractors.records import Outlet
from flows.config import load
from flows.demo.server import demo_config, load_manifest
from flows.ingest import RunSummary, run_pass
from flows.pipeline import NoProgress
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import GrowingOutlet, demo_page, rss, sitemap
from tests.support.processes import held_by_other_process
from tests.support.runs import run_once
from tests.support.server import Response, Site, SiteServer, recorded_sites
from tests.support.store import rows


def run(config: Path, db: Path) -> RunSummary:
    return run_once(config, db)


def by_outlet(summary: RunSummary) -> dict:
    return {r.outlet_id: r for r in summary.reports}


def test_demo_outlets_end_to_end_and_idempotent(tmp_path: Path) -> None:
    manifest = load_manifest()
    db = tmp_path / "demo.duckdb"
    with SiteServer(recorded_sites()) as server:
        config = write_config(tmp_path / "demo.toml", demo_config(server.urls(), manifest))
        first = run(config, db)
        assert {r.outlet_id: (r.status, r.stored) for r in first.reports} == {
            "aze-media": ("ok", 3), "eurasianet": ("ok", 3), "commonspace": ("ok", 3),
        }  # fmt: skip
        stored = rows(db, "SELECT title, authors, published_at, text FROM articles")
        assert len(stored) == 9
        expected_authors = {a["title"]: a["authors"] for o in manifest for a in o.articles}
        for title, authors, published_at, text in stored:
            assert title and published_at is not None
            assert authors == expected_authors[title]  # [] where only the site is named
            for chrome in ("Welcome Back!", "You Might Also Like", "Most popular", "Leave a Reply"):
                assert chrome not in text
        expected_titles = {a["title"] for o in manifest for a in o.articles}
        assert {s[0] for s in stored} == expected_titles

        requests_before = [len(s.requests) for s in server.sites]
        second = run(config, db)
        assert all(r.stored == 0 and r.fetched == 0 and r.status == "ok" for r in second.reports)
        assert sum(r.skipped for r in second.reports) == 9
        assert rows(db, "SELECT count(*) FROM articles") == [(9,)]
        # Unchanged feeds and sitemaps answer 304 to conditional requests.
        statuses = rows(
            db,
            f"""SELECT kind, status, count(*) FROM fetches WHERE run_id = '{second.run_id}'
                GROUP BY ALL ORDER BY ALL""",
        )
        assert all(kind != "article" for kind, _, _ in statuses)
        assert {(kind, status) for kind, status, _ in statuses if kind in ("feed", "sitemap")} == {
            ("feed", 304), ("sitemap", 304),
        }  # fmt: skip
        second_requests = [
            p for s, n in zip(server.sites, requests_before, strict=True) for p in s.requests[n:]
        ]
        assert second_requests
        article_paths = {a["path"] for o in manifest for a in o.articles}
        assert [p for p in second_requests if p in article_paths] == []


def faulty_site() -> Site:
    site = Site("https://faulty.example")
    good = demo_page("aze-media", 1)
    paths = {
        "/news/good-article-one": Response(good),
        "/news/missing-article-here": Response(b"gone", status=404),
        "/news/server-error-article": Response(b"boom", status=500),
        "/news/slow-article-times-out": Response(good, delay_s=5),
        "/news/reset-connection-article": Response(reset=True),
        "/news/pdf-instead-of-html": Response(b"%PDF-1.4 binary", content_type="application/pdf"),
        "/news/huge-article-page-here": Response(b"<html>" + b"x" * 2_000_000 + b"</html>"),
        "/news/binary-served-as-html": Response(bytes(range(256)) * 100),
        "/news/private-article-robots": Response(good),
    }
    site.routes.update(paths)
    site.routes["/robots.txt"] = Response(
        b"User-agent: *\nDisallow: /news/private-\n", "text/plain"
    )
    site.routes["/rss"] = Response(rss(site.real_origin, list(paths)), "application/rss+xml")
    return site


def test_failures_are_recorded_and_the_rest_is_stored(tmp_path: Path, serve) -> None:  # noqa: ANN001
    faulty = faulty_site()
    broken = Site(
        "https://broken.example", {"/rss": Response(b"<html><body>Not a feed at all</body></html>")}
    )
    serve(faulty, broken)
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            outlet_toml("faulty", faulty, feeds=["/rss"], article_pattern="^/news/"),
            outlet_toml("broken", broken, feeds=["/rss"]),
            outlet_toml("dead", "http://dead-outlet.invalid/", feeds=["/rss"]),
            settings="max_bytes = 1000000\n",
        ),
    )
    db = tmp_path / "f.duckdb"
    summary = run(config, db)
    reports = by_outlet(summary)
    assert (reports["faulty"].status, reports["faulty"].stored) == ("partial", 1)
    assert reports["faulty"].failed == 7
    assert reports["broken"].status == "failed" and "not a feed" in reports["broken"].error
    assert reports["dead"].status == "failed" and "cannot connect" in reports["dead"].error
    assert not summary.all_failed
    assert "/news/private-article-robots" not in faulty.requests
    errors = dict(
        rows(
            db,
            "SELECT regexp_extract(url, '/news/(.*)', 1), error FROM fetches WHERE kind = 'article'",
        )
    )
    assert errors["good-article-one"] is None
    assert errors["missing-article-here"] == "HTTP 404"
    assert errors["server-error-article"] == "HTTP 500"
    assert "timeout" in errors["slow-article-times-out"]
    assert errors["reset-connection-article"] in (
        "connection reset by the server",
        "connection closed by the server without a complete response",
    )
    assert errors["pdf-instead-of-html"] == "unsupported content type application/pdf"
    assert "exceeds limit" in errors["huge-article-page-here"]
    assert errors["binary-served-as-html"] == "binary content"
    assert errors["private-article-robots"] == "blocked by robots.txt"
    assert all("\n" not in (e or "") for e in errors.values())
    run_rows = rows(
        db, f"SELECT outlet_id, status FROM runs WHERE run_id = '{summary.run_id}' ORDER BY 1"
    )
    assert run_rows == [("broken", "failed"), ("dead", "failed"), ("faulty", "partial")]


@pytest.mark.slow
def test_run_while_another_process_holds_the_database(tmp_path: Path, serve) -> None:  # noqa: ANN001
    site = Site("https://held.example")
    site.routes.update(
        {f"/news/story-number-{i}": Response(demo_page("eurasianet", i)) for i in range(3)}
    )
    site.routes["/sitemap.xml"] = Response(
        sitemap(site.real_origin, [f"/news/story-number-{i}" for i in range(3)]), "application/xml"
    )
    serve(site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("held", site, sitemaps=["/sitemap.xml"]))
    )
    db = tmp_path / "h.duckdb"
    with held_by_other_process(db):
        summary = run(config, db)
        (report,) = summary.reports
        assert report.status == "ok" and report.spooled
    # The next run merges the spool first (including the sitemap's validators: it answers 304)
    # and fetches no article again.
    site.requests.clear()
    again = run(config, db)
    assert again.merged_spool == 1
    assert again.reports[0].fetched == 0
    assert not [p for p in site.requests if p.startswith("/news/")]
    assert rows(db, "SELECT count(*) FROM articles") == [(3,)]
    assert rows(db, f"SELECT stored FROM runs WHERE run_id = '{summary.run_id}'") == [(3,)]


def test_a_stopped_run_keeps_the_articles_it_had_extracted(tmp_path: Path, serve) -> None:  # noqa: ANN001
    """Ctrl-C or SIGTERM cancel the run: an outlet still waiting for one page writes the three
    it had extracted before the cancellation ends the run."""
    site = Site("https://stopped.example")
    paths = [f"/news/story-number-{i}" for i in range(4)]
    for i, path in enumerate(paths[:3]):
        site.routes[path] = Response(demo_page("eurasianet", i))
    site.routes[paths[3]] = Response(demo_page("aze-media", 0), delay_s=60)  # never in time
    site.routes["/rss"] = Response(rss(site.real_origin, paths), "application/rss+xml")
    serve(site)
    config = write_config(
        tmp_path / "c.toml",
        "[settings]\nretries = 0\nread_timeout_s = 120\nworkers = 2\n"
        + outlet_toml("stopped", site, feeds=["/rss"]),
    )
    db = tmp_path / "s.duckdb"

    class Watch(NoProgress):
        def __init__(self) -> None:
            self.done = 0
            self.three = asyncio.Event()

        def article_done(self, outlet: Outlet) -> None:
            self.done += 1
            if self.done == 3:
                self.three.set()

    async def stop_after_three() -> None:
        watch = Watch()
        run = asyncio.create_task(run_pass(load(config), db, progress=watch))
        await watch.three.wait()  # the third is in the pass's sink too: nothing awaits between
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(stop_after_three())
    assert sorted(rows(db, "SELECT url FROM articles")) == sorted(
        (f"{site.url}{path}",) for path in paths[:3]
    )


def test_homepage_only_outlet_discovers_and_remembers_sources(tmp_path: Path, serve) -> None:  # noqa: ANN001
    site = Site("https://homeonly.example")
    paths = [f"/2025/07/0{i + 1}/azerbaijan-russia-story-{i}" for i in range(2)]
    site.routes.update({p: Response(demo_page("aze-media", i)) for i, p in enumerate(paths)})
    site.routes["/"] = Response(
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/feeds/main.xml">'
        b'<link rel="alternate" type="application/rss+xml" href="/comments/feed/"></head>'
        b"<body><a href='/about'>About</a></body></html>"
    )
    site.routes["/feeds/main.xml"] = Response(
        rss(site.real_origin, paths[:1]), "application/rss+xml"
    )
    site.routes["/robots.txt"] = Response(
        f"User-agent: *\nSitemap: {site.real_origin}/maps/all.xml\n".encode(), "text/plain"
    )
    site.routes["/maps/all.xml"] = Response(sitemap(site.real_origin, paths), "application/xml")
    serve(site)
    config = write_config(tmp_path / "c.toml", config_text(outlet_toml("homeonly", site)))
    db = tmp_path / "d.duckdb"
    summary = run(config, db)
    assert summary.reports[0].stored == 2
    sources = rows(
        db, "SELECT kind, origin, regexp_extract(url, '//[^/]+(/.*)', 1) FROM sources ORDER BY 1"
    )
    assert sources == [
        ("feed", "discovered", "/feeds/main.xml"),
        ("sitemap", "discovered", "/maps/all.xml"),
    ]
    site.requests.clear()
    run(config, db)
    assert "/" not in site.requests  # remembered: no second discovery
    assert {"/feeds/main.xml", "/maps/all.xml"} <= set(site.requests)


def test_feed_items_with_short_slugs_are_fetched(tmp_path: Path, serve) -> None:  # noqa: ANN001
    """Without an article_pattern, a feed's items are taken as articles whatever their URL looks
    like; the same short links found only in the sitemap are not."""
    site = Site("https://shortslugs.example")
    in_feed = ["/news/report-0", "/news/12"]
    only_in_sitemap = "/news/report-1"
    for i, path in enumerate([*in_feed, only_in_sitemap]):
        site.routes[path] = Response(demo_page("eurasianet", i))
    site.routes["/rss"] = Response(rss(site.real_origin, in_feed), "application/rss+xml")
    site.routes["/sitemap.xml"] = Response(
        sitemap(site.real_origin, [*in_feed, only_in_sitemap]), "application/xml"
    )
    serve(site)
    outlet = outlet_toml("shortslugs", site, feeds=["/rss"], sitemaps=["/sitemap.xml"])
    config = write_config(tmp_path / "c.toml", config_text(outlet))
    db = tmp_path / "d.duckdb"
    summary = run(config, db)
    assert summary.reports[0].stored == 2, summary.reports[0]
    stored = rows(db, "SELECT regexp_extract(url, '//[^/]+(/.*)', 1) FROM articles ORDER BY 1")
    assert stored == [("/news/12",), ("/news/report-0",)]
    assert only_in_sitemap not in site.requests


def test_section_pages_with_pagination_and_canonical_variants(tmp_path: Path, serve) -> None:  # noqa: ANN001
    site = Site("https://sections.example")
    site.routes["/news/moscow-baku-talks"] = Response(demo_page("commonspace", 0))
    site.routes["/news/second-page-story"] = Response(demo_page("commonspace", 1))
    site.routes["/list"] = Response(
        b"<html><body><a href='/news/moscow-baku-talks?utm_source=x'>One</a>"
        b"<a href='/news/moscow-baku-talks#comments'>One again</a><a href='/about'>About</a>"
        b"<a rel='next' href='/list?page=1'>Next</a></body></html>"
    )
    site.routes["/list?page=1"] = Response(
        b"<html><body><a href='/news/second-page-story'>Two</a></body></html>"
    )
    serve(site)
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            outlet_toml("sections", site, article_pattern="^/news/")
            + 'sections = [{ url = "/list", pages = 2 }]\n'
        ),
    )
    db = tmp_path / "s.duckdb"
    summary = run(config, db)
    assert (summary.reports[0].discovered, summary.reports[0].stored) == (2, 2)
    urls = {u for (u,) in rows(db, "SELECT regexp_extract(url, '//[^/]+(/.*)', 1) FROM articles")}
    assert urls == {"/news/moscow-baku-talks", "/news/second-page-story"}


def test_a_big_pass_is_written_in_chunks_and_counted_whole(
    tmp_path: Path, serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays bounded on a big outlet: articles go to the store every FLUSH_EVERY, and
    the runs row still counts all of them."""
    import flows.pipeline

    monkeypatch.setattr(flows.pipeline, "FLUSH_EVERY", 3)
    outlet = GrowingOutlet("https://big.example")
    outlet.publish(7)
    serve(outlet.site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("big", outlet.site, feeds=["/rss"]))
    )
    db = tmp_path / "big.duckdb"
    summary = run_once(config, db)
    assert [(r.stored, r.extracted, r.status) for r in summary.reports] == [(7, 7, "ok")]
    store = Store(db)
    assert store.query("SELECT stored FROM runs").rows == [(7,)]
    assert store.query("SELECT count(DISTINCT run_id), count(*) FROM articles").rows == [(1, 7)]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="a Linux scheduler policy")
def test_a_pass_extracts_in_workers_scheduled_as_batch(tmp_path: Path, serve) -> None:  # noqa: ANN001
    """In a fresh process (the fork server is made once per process, and its workers take
    its policy): after a pass, the fork server that made its workers is batch work. (The
    workers end with the pass; extractors/tuning's tests show that they inherit it.)"""
    outlet = GrowingOutlet("https://batch.example")
    outlet.publish(1)
    serve(outlet.site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("batch", outlet.site, feeds=["/rss"]))
    )
    script = f"""
import os
from tests.support.runs import run_once
from tests.support.processes import descendants
(report,) = run_once({str(config)!r}, {str(tmp_path / "b.duckdb")!r}).reports
assert report.stored == 1, report
def forkserver(pid):
    with open(f"/proc/{{pid}}/cmdline", "rb") as f:
        return b"forkserver" in f.read()
servers = [pid for pid in descendants(os.getpid()) if forkserver(pid)]
assert len(servers) == 1, servers
print(os.sched_getscheduler(servers[0]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(os.SCHED_BATCH)]


def test_starting_the_workers_does_not_hold_up_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first worker forks only once the fork server has imported trafilatura (seconds);
    the run's discovery goes on meanwhile, and extraction waits for the pool."""
    from datetime import UTC, datetime

    import extractors.workers
    import flows.extraction
    from extractors.article import ExtractJob
    from extractors.records import Article
    from extractors.workers import make_pool

    ready = threading.Event()
    made: list[bool] = []

    def slow_pool(workers: int, rules: tuple = ()) -> object:
        ready.wait()  # a fork server still importing (set by the test, and in its finally)
        made.append(True)
        return make_pool(workers, rules)

    monkeypatch.setattr(extractors.workers, "make_pool", slow_pool)
    extractor = flows.extraction.Extractor(1)
    body = " ".join(
        f"Baku and Moscow discussed transit and trade, sentence {i}." for i in range(20)
    )
    html = f"<html><head><title>Talks</title></head><body><article><p>{body}</p></article></body></html>"  # fmt: skip
    url = "https://example.org/news/talks"
    job = ExtractJob(html, url, url, "o", "https://example.org/", datetime.now(UTC), "feed")

    async def main() -> object:
        extractor.start()
        started_without_pool = not made
        extraction = asyncio.create_task(extractor(job))
        await asyncio.sleep(0.1)
        waited = not extraction.done()
        ready.set()
        return started_without_pool, waited, await extraction

    try:
        started_without_pool, waited, article = asyncio.run(main())
    finally:
        ready.set()
        extractor.close()
    assert started_without_pool and waited
    assert isinstance(article, Article) and article.title == "Talks"
