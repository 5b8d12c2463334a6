"""Discovery against loopback outlets: what probing finds is remembered, probes are no errors,
heavy parsing leaves the event loop free, and health says why it did not notify."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import flows.discovery
from extractors.discover import MAX_LISTING_LINKS
from extractors.http import ClientSettings, PoliteClient
from extractors.records import (
    Batch,
    Failure,
    FailureKind,
    FetchPurpose,
    FetchRecord,
    Outlet,
    OutletReport,
    RunStatus,
    Section,
    SourceState,
)
from flows.config import parse
from flows.discovery import Discovery, discover
from flows.health import check_health
from storage.db import Store
from tests.support.hostile import HostileServer, page, robots_txt
from tests.support.pages import rss

SETTINGS = ClientSettings(connect_timeout_s=2, read_timeout_s=5, retries=0, backoff_base_s=0.01)
HOME = b"""<html><body><a href="/news/first-story-of-the-day">First</a>
<a href="/news/second-story-of-the-day">Second</a><a href="/about">About</a></body></html>"""


def outlet(server: HostileServer, **kw: object) -> Outlet:
    return Outlet("o", "O", server.url + "/", "en", min_delay_s=0, **kw)  # type: ignore[arg-type]


def run_discover(o: Outlet, remembered: list[SourceState]) -> Discovery:
    async def main() -> Discovery:
        async with PoliteClient(SETTINGS) as client:
            client.add_outlet(o)
            return await discover(o, client, remembered)

    return asyncio.run(main())


def test_a_homepage_without_feeds_is_probed_once_then_read_as_a_listing() -> None:
    routes = {"/": page(HOME), "/robots.txt": robots_txt("User-agent: *\nAllow: /\n")}
    with HostileServer(routes) as site:
        o = outlet(site)
        first = run_discover(o, [])
        probed = list(site.requests)
        site.requests.clear()
        second = run_discover(o, first.sources)
    # The first pass tried the usual feed and sitemap paths (all 404)...
    assert len(probed) == 13 and probed[:2] == ["/robots.txt", "/"]
    assert {c.url.removeprefix(site.url) for c in first.candidates} == {
        "/news/first-story-of-the-day",
        "/news/second-story-of-the-day",
    }
    # ...and remembered that there is nothing to find: the next pass reads the homepage alone.
    assert site.requests == ["/robots.txt", "/"]
    assert {c.url for c in second.candidates} == {c.url for c in first.candidates}
    assert second.errors == [] and second.usable_sources == 1


def announcing(feed_path: str):  # noqa: ANN201
    return page(
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed_path}">'
        "</head><body></body></html>".encode()
    )


def test_a_remembered_feed_that_fails_is_looked_for_again() -> None:
    story = ["/news/first-story-of-the-day"]
    with HostileServer({}) as site:
        feed = page(rss(site.url, story), content_type="application/rss+xml")
        site.routes.update({"/": announcing("/feed.xml"), "/feed.xml": feed})
        o = outlet(site)
        first = run_discover(o, [])
        site.requests.clear()
        second = run_discover(o, first.sources)
        remembered = list(site.requests)
        # The site moves its feed: the remembered one answers 404 from now on.
        site.routes.update({"/": announcing("/feed2.xml"), "/feed2.xml": feed})
        del site.routes["/feed.xml"]
        third = run_discover(o, second.sources)
        site.requests.clear()
        fourth = run_discover(o, third.sources)
    assert remembered == ["/robots.txt", "/feed.xml"]  # no probing
    assert [s.last_error for s in third.sources] == ["HTTP 404"]
    # The failing source sends the next pass back to the homepage, which names the new feed.
    assert site.requests[:2] == ["/robots.txt", "/"] and site.requests[-1] == "/feed2.xml"
    assert "/feed.xml" not in site.requests
    assert [c.url.removeprefix(site.url) for c in fourth.candidates] == story


def test_discovery_probes_answering_404_are_not_errors(tmp_path: Path) -> None:
    now = datetime.now(UTC)

    def fetch(kind: FetchPurpose, status: int) -> FetchRecord:
        failure = Failure(FailureKind.HTTP_STATUS, f"HTTP {status}") if status >= 400 else None
        return FetchRecord("o", kind, "http://x/", "http://x/", status, 0, 0.1, now, failure)

    fetches = [fetch(FetchPurpose.PROBE, 200)] + [fetch(FetchPurpose.PROBE, 404)] * 11
    fetches += [fetch(FetchPurpose.ARTICLE, 200), fetch(FetchPurpose.ARTICLE, 500)]
    report = OutletReport("r1", "o", "O", now, now, fetched=1, status=RunStatus.PARTIAL)
    store = Store(tmp_path / "h.duckdb")
    store.write(Batch("r1", fetches=fetches, reports=[report]))
    (run,) = store.health_history(now + timedelta(seconds=1), timedelta(days=1))["o"].runs
    assert (run.requests, run.errors) == (14, 1)  # the 500, not the probes' 404s


def test_a_huge_listing_is_parsed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence without a clock: the listing is parsed on a thread that is not the event
    loop's, and the loop runs on meanwhile (it answers a wake-up while the parse waits)."""
    links = "".join(f'<a href="/n/{i}">{i}</a>' for i in range(2 * MAX_LISTING_LINKS))
    events: list[str] = []
    parsing, ticked = threading.Event(), threading.Event()
    real = flows.discovery.harvest_links
    loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread

    def harvest(html, base: str):  # noqa: ANN001, ANN202
        if threading.get_ident() == loop_thread:
            events.append("on the event loop")  # waiting here would stop the loop for good
        else:
            parsing.set()
            ticked.wait()  # set by the loop: it went on while this parse waited
            events.append("ticked")
        return real(html, base)

    monkeypatch.setattr(flows.discovery, "harvest_links", harvest)
    with HostileServer({"/news/": page(f"<html><body>{links}</body></html>".encode())}) as site:
        o = outlet(site, sections=(Section(site.url + "/news/"),), article_pattern=r"^/n/\d+$")

        async def main() -> Discovery:
            async with PoliteClient(SETTINGS) as client:
                client.add_outlet(o)
                work = asyncio.ensure_future(discover(o, client, []))
                while not work.done():
                    if parsing.is_set():
                        ticked.set()
                    await asyncio.sleep(0)
                return work.result()

        found = asyncio.run(main())
    assert events == ["ticked"]
    assert len(found.candidates) == MAX_LISTING_LINKS
    (seen,) = [s for s in found.seen if s.kind == "listing page"]
    assert seen.note == f"only its first {MAX_LISTING_LINKS} links read"


def test_health_events_say_why_they_were_not_notified(tmp_path: Path) -> None:
    config = parse({"outlet": [{"id": "o", "name": "O", "homepage": "http://x/",
                                "language": "en"}]}, tmp_path / "c.toml")  # fmt: skip
    store = Store(tmp_path / "h.duckdb")
    now = datetime.now(UTC)
    for i in range(2):
        at = now - timedelta(minutes=10 - i)
        store.write(Batch(f"r{i}", reports=[OutletReport(
            f"r{i}", "o", "O", at, at, status=RunStatus.FAILED, error="cannot connect")]))  # fmt: skip
    result = check_health(config, store)
    assert [(e.outlet_id, e.new_state) for e in result.changes] == [("o", "failing")]
    (event,) = store.health_events(5)
    notified_at, error = event[5], event[6]
    assert notified_at is None and error == "no channel configured"
