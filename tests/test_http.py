"""PoliteClient against real loopback sites: robots.txt, retries, limits, decoding, pacing.

pytest-asyncio is not installed: each test drives its coroutine with asyncio.run().
Timing assertions use generous margins and, where possible, server-side request times.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import httpx
import pytest

from extractors.http import FEED_TYPES, ClientSettings, PoliteClient
from extractors.records import FailureKind, FetchRecord, Outlet, Page, Validators
from extractors.urls import origin
from tests.support.server import Response, Site, SiteServer

FAST = ClientSettings(
    connect_timeout_s=1.0,
    read_timeout_s=1.0,
    retries=2,
    backoff_base_s=0.01,
    max_retry_after_s=5.0,
)
NO_ROBOTS = ClientSettings(
    connect_timeout_s=1.0,
    read_timeout_s=1.0,
    retries=2,
    backoff_base_s=0.01,
    respect_robots=False,
)
HTML = b"<html><head><title>Story</title></head><body><p>Text of the story.</p></body></html>"


@pytest.fixture(scope="module")
def _running() -> Iterator[list[SiteServer]]:
    servers: list[SiteServer] = []
    yield servers
    # Each server takes up to its 0.5 s poll interval to stop: stop them all at once.
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        list(pool.map(SiteServer.stop, servers))


@pytest.fixture
def serve(_running: list[SiteServer]) -> Callable[..., SiteServer]:
    """Like conftest's `serve` (fresh sites for every test, on 127.0.0.1), but the servers
    are stopped together at the end of the module rather than one by one after each test,
    which would add half a second per test."""

    def start(*sites: Site) -> SiteServer:
        server = SiteServer(list(sites))
        server.start()
        _running.append(server)
        return server

    return start


def allow(client: PoliteClient, url: str, *outlet_ids: str) -> None:
    """Register outlets whose configured homepage is `url`'s loopback origin: the address policy
    lets an outlet reach a private address only when its own configuration names it."""
    for outlet_id in outlet_ids or ("o",):
        client.add_outlet(Outlet(outlet_id, outlet_id, origin(url) + "/", "en", min_delay_s=0))


def settings(base: ClientSettings = FAST, **changes: object) -> ClientSettings:
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def page_route(body: bytes = HTML, content_type: str = "text/html; charset=utf-8") -> Response:
    return Response(body, content_type)


def robots(text: str) -> Response:
    return Response(text.encode(), "text/plain")


def flaky(failures: int, status: int, then: Response, headers: dict[str, str] | None = None):
    """A route that answers `status` the first `failures` times, then `then`."""
    calls = {"n": 0}

    def route() -> Response:
        calls["n"] += 1
        if calls["n"] <= failures:
            return Response(b"busy", "text/plain", status=status, headers=dict(headers or {}))
        return then

    return route


def timed(response: Response, times: list[float]) -> Callable[[], Response]:
    """A route that notes (server side) when each request arrived."""

    def route() -> Response:
        times.append(time.monotonic())
        return response

    return route


def starts(log: list[FetchRecord], path: str = "") -> list[float]:
    """When the client began each request (after its pacing wait), from its own log: server-side
    arrival times would bunch up whenever a busy machine runs the server's threads late."""
    return [r.fetched_at.timestamp() for r in log if r.kind != "robots" and r.url.endswith(path)]


def gaps(times: list[float]) -> list[float]:
    ordered = sorted(times)
    return [b - a for a, b in zip(ordered, ordered[1:], strict=False)]


def run_fetches(
    client_settings: ClientSettings,
    urls: list[str],
    *,
    outlet_id: str = "outlet",
    kind: str = "article",
    concurrent: bool = False,
    setup: Callable[[PoliteClient], None] | None = None,
) -> tuple[list[Page], list[FetchRecord]]:
    async def main() -> tuple[list[Page], list[FetchRecord]]:
        async with PoliteClient(client_settings) as client:
            allow(client, urls[0], outlet_id)
            if setup is not None:
                setup(client)
            if concurrent:
                pages = list(
                    await asyncio.gather(*(client.fetch(u, outlet_id, kind) for u in urls))
                )
            else:
                pages = [await client.fetch(u, outlet_id, kind) for u in urls]
            return pages, list(client.log)

    return asyncio.run(main())


def fetch_one(client_settings: ClientSettings, url: str, **kw: object) -> tuple[Page, list]:
    pages, log = run_fetches(client_settings, [url], **kw)  # type: ignore[arg-type]
    return pages[0], log


# --- robots.txt ------------------------------------------------------------------------------


def test_robots_disallow_is_respected(serve) -> None:
    site = Site(
        "https://robots.example",
        {
            "/robots.txt": robots("User-agent: *\nDisallow: /private/\n"),
            "/private/secret": page_route(),
            "/public/story": page_route(),
        },
    )
    serve(site)
    (blocked, allowed), log = run_fetches(
        FAST, [site.url + "/private/secret", site.url + "/public/story"]
    )
    assert blocked.failure is not None and blocked.failure.kind == FailureKind.ROBOTS
    assert not blocked.ok and blocked.status is None and blocked.body == b""
    assert allowed.ok and allowed.status == 200 and b"Text of the story" in allowed.body
    # The disallowed path never reached the server; robots.txt was read once.
    assert site.requests == ["/robots.txt", "/public/story"]
    assert [(r.kind, r.status, r.error) for r in log] == [
        ("robots", 200, None),
        ("article", None, blocked.error),
        ("article", 200, None),
    ]


def test_robots_group_for_our_user_agent(serve) -> None:
    rules = "User-agent: *\nDisallow:\n\nUser-agent: newsmon\nDisallow: /drafts/\n"
    site = Site("https://ua.example", {"/robots.txt": robots(rules), "/drafts/x": page_route()})
    serve(site)
    page, _ = fetch_one(FAST, site.url + "/drafts/x")
    assert page.error is not None and "robots" in page.error
    assert "/drafts/x" not in site.requests
    # Another crawler name falls under "*" and may fetch it.
    other, _ = fetch_one(settings(user_agent="otherbot/2.0"), site.url + "/drafts/x")
    assert other.ok
    assert site.requests.count("/drafts/x") == 1


def test_respect_robots_false_skips_robots_txt(serve) -> None:
    site = Site(
        "https://ignore.example",
        {"/robots.txt": robots("User-agent: *\nDisallow: /\n"), "/a": page_route()},
    )
    serve(site)
    page, log = fetch_one(NO_ROBOTS, site.url + "/a")
    assert page.ok
    assert site.requests == ["/a"]
    assert [r.kind for r in log] == ["article"]


def test_robots_404_allows_everything(serve) -> None:
    # No /robots.txt route: the loopback server answers 404.
    site = Site("https://norobots.example", {"/a": page_route(), "/b/c": page_route()})
    serve(site)
    pages, log = run_fetches(FAST, [site.url + "/a", site.url + "/b/c"])
    assert all(p.ok for p in pages)
    assert site.requests == ["/robots.txt", "/a", "/b/c"]
    assert log[0].kind == "robots" and log[0].status == 404 and log[0].error == "HTTP 404"


@pytest.mark.parametrize("status", [401, 403, 410])
def test_robots_other_4xx_allows_everything(serve, status: int) -> None:
    """RFC 9309 2.3.1.3: an "unavailable" robots.txt (4xx) puts no restriction."""
    site = Site(
        "https://forbidden-robots.example",
        {"/robots.txt": Response(b"no", "text/html", status=status), "/a": page_route()},
    )
    serve(site)
    page, _ = fetch_one(FAST, site.url + "/a")
    assert page.ok
    assert site.requests == ["/robots.txt", "/a"]  # 4xx is final: not retried


def test_robots_5xx_blocks_the_host(serve) -> None:
    """RFC 9309: an unreachable robots.txt (5xx) means the site is off limits for now."""
    site = Site(
        "https://down.example",
        {"/robots.txt": Response(b"oops", "text/plain", status=503), "/a": page_route()},
    )
    serve(site)
    page, log = fetch_one(settings(retries=1), site.url + "/a")
    assert page.error is not None and "robots" in page.error
    assert site.requests == ["/robots.txt", "/robots.txt"]  # retried, then given up
    assert [(r.kind, r.status) for r in log] == [
        ("robots", 503),
        ("robots", 503),
        ("article", None),
    ]


def test_robots_read_once_for_concurrent_fetches(serve) -> None:
    site = Site("https://once.example", {"/robots.txt": robots("User-agent: *\nAllow: /\n")})
    for i in range(4):
        site.routes[f"/s{i}"] = page_route()
    serve(site)
    pages, log = run_fetches(FAST, [f"{site.url}/s{i}" for i in range(4)], concurrent=True)
    assert all(p.ok for p in pages)
    assert site.requests.count("/robots.txt") == 1
    assert sorted(site.requests) == ["/robots.txt", "/s0", "/s1", "/s2", "/s3"]
    assert sum(r.kind == "robots" for r in log) == 1


def test_crawl_delay_paces_requests(serve) -> None:
    times: list[float] = []
    site = Site(
        "https://slowly.example",
        {
            "/robots.txt": robots("User-agent: *\nCrawl-delay: 0.4\nDisallow: /x/\n"),
            "/a": timed(page_route(), times),
            "/b": timed(page_route(), times),
            "/c": timed(page_route(), times),
        },
    )
    serve(site)

    async def main() -> tuple[float | None, list[Page], list[FetchRecord]]:
        async with PoliteClient(FAST) as client:
            allow(client, site.url)
            parsed = await client.robots(site.url + "/", "o")
            delay = parsed.crawl_delay(FAST.user_agent) if parsed else None
            pages = [await client.fetch(f"{site.url}/{p}", "o", "article") for p in "abc"]
            return delay, pages, client.log

    delay, pages, log = asyncio.run(main())
    assert delay == pytest.approx(0.4)
    assert all(p.ok for p in pages)
    assert len(times) == 3
    assert all(g >= 0.35 for g in gaps(starts(log))), gaps(starts(log))


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 502])
def test_retries_then_success(serve, status: int) -> None:
    site = Site("https://flaky.example", {"/p": flaky(2, status, page_route())})
    serve(site)
    page, log = fetch_one(settings(NO_ROBOTS, retries=3), site.url + "/p")
    assert page.ok and page.status == 200 and b"Text of the story" in page.body
    assert site.requests == ["/p", "/p", "/p"]
    assert [(r.status, r.error) for r in log] == [
        (status, f"HTTP {status}"),
        (status, f"HTTP {status}"),
        (200, None),
    ]


def test_retry_after_is_honoured(serve) -> None:
    times: list[float] = []
    inner = flaky(1, 503, page_route(), headers={"Retry-After": "1"})

    def route() -> Response:
        times.append(time.monotonic())
        return inner()

    site = Site("https://later.example", {"/p": route})
    serve(site)
    started = time.monotonic()
    page, log = fetch_one(settings(NO_ROBOTS, retries=2), site.url + "/p")
    elapsed = time.monotonic() - started
    assert page.ok and page.status == 200
    assert site.requests == ["/p", "/p"]
    assert [r.status for r in log] == [503, 200]
    # backoff_base_s is 0.01: only the Retry-After header can explain a one-second wait.
    assert gaps(starts(log))[0] >= 0.9
    assert elapsed >= 0.9 and len(times) == 2


def test_retry_after_beyond_the_limit_gives_up_at_once(serve, monkeypatch) -> None:
    site = Site(
        "https://never.example",
        {"/p": Response(b"", "text/plain", status=503, headers={"Retry-After": "3600"})},
    )
    serve(site)
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: object = None) -> object:
        slept.append(delay)
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    page, _ = fetch_one(settings(NO_ROBOTS, max_retry_after_s=5.0), site.url + "/p")
    assert [s for s in slept if s >= 1] == []  # it did not wait (up to the limit) first
    assert site.requests == ["/p"]
    assert page.status == 503
    assert page.error is not None and page.error.startswith("HTTP 503")
    assert "Retry-After" in page.error


def test_gives_up_after_retries(serve) -> None:
    site = Site("https://broken.example", {"/p": Response(b"err", "text/plain", status=500)})
    serve(site)
    page, log = fetch_one(settings(NO_ROBOTS, retries=2), site.url + "/p")
    assert page.error == "HTTP 500"
    assert page.failure is not None and page.failure.kind == FailureKind.HTTP_STATUS
    assert page.status == 500
    assert not page.ok
    assert site.requests == ["/p"] * 3  # the first try and two retries
    assert [(r.status, r.error) for r in log] == [(500, "HTTP 500")] * 3


@pytest.mark.parametrize("status", [404, 403, 410])
def test_client_errors_are_not_retried(serve, status: int) -> None:
    site = Site("https://gone.example", {"/p": Response(b"no", "text/html", status=status)})
    serve(site)
    page, log = fetch_one(settings(NO_ROBOTS, retries=3), site.url + "/p")
    assert page.error == f"HTTP {status}"
    assert page.status == status
    assert site.requests == ["/p"]
    assert len(log) == 1


# --- network failures ------------------------------------------------------------------------


def test_read_timeout(serve) -> None:
    site = Site("https://sleepy.example", {"/p": Response(HTML, delay_s=2.0)})
    serve(site)
    page, log = fetch_one(settings(NO_ROBOTS, read_timeout_s=0.3, retries=1), site.url + "/p")
    # A timeout, not the page: the client did not wait for the server's answer.
    assert page.error is not None and "timeout" in page.error.lower()
    assert page.failure is not None and page.failure.kind == FailureKind.TIMEOUT
    assert page.status is None and page.body == b""
    assert site.requests == ["/p", "/p"]  # a timeout is worth one more try
    assert all(r.error == page.error for r in log)


def test_connection_reset_is_an_error_not_an_exception(serve) -> None:
    site = Site("https://reset.example", {"/p": Response(reset=True), "/ok": page_route()})
    serve(site)

    async def main() -> tuple[Page, Page, str | None]:
        async with PoliteClient(settings(NO_ROBOTS, retries=1)) as client:
            allow(client, site.url)
            reset = await client.fetch(site.url + "/p", "o", "article")
            failure = client.host_failure(site.url + "/p")
            after = await client.fetch(site.url + "/ok", "o", "article")
            return reset, after, failure

    reset, after, failure = asyncio.run(main())
    assert reset.error and reset.status is None and not reset.ok
    assert reset.failure is not None and reset.failure.kind == FailureKind.CONNECTION_LOST
    assert "\n" not in reset.error
    assert site.requests[:2] == ["/p", "/p"]
    # A reset is not a dead host: the next page of the site is still fetched.
    assert failure is None
    assert after.ok


class CountingTransport(httpx.AsyncHTTPTransport):
    """The real transport, counting the requests that it actually attempted."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request.url.path)
        return await super().handle_async_request(request)


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_host_is_marked_dead() -> None:
    url = f"http://127.0.0.1:{unused_port()}/news/a-b-c"
    transport = CountingTransport()

    async def main() -> tuple[Page, list[str], str | None, Page, list[FetchRecord]]:
        async with PoliteClient(settings(retries=1), transport=transport) as client:
            allow(client, url)
            first = await client.fetch(url, "o", "article")
            attempts = list(transport.attempts)
            failure = client.host_failure(url)
            second = await client.fetch(url.replace("a-b-c", "d-e-f"), "o", "article")
            return first, attempts, failure, second, client.log

    first, attempts, failure, second, log = asyncio.run(main())
    assert first.error is not None and first.error.startswith("cannot connect")
    assert first.failure is not None and first.failure.kind == FailureKind.CANNOT_CONNECT
    assert first.status is None
    # robots.txt was tried (and retried); that marked the host dead, so the page itself
    # was not attempted.
    assert attempts == ["/robots.txt", "/robots.txt"]
    assert failure is not None and failure.kind == FailureKind.CANNOT_CONNECT
    # The second fetch fails fast without a new connection attempt.
    assert second.error is not None and second.error.startswith("cannot connect")
    assert transport.attempts == attempts
    assert [r.kind for r in log] == ["robots", "robots", "article", "article"]
    assert all(r.error and r.error.startswith("cannot connect") for r in log)


def test_unreachable_host_without_robots() -> None:
    url = f"http://127.0.0.1:{unused_port()}/"
    transport = CountingTransport()

    async def main() -> tuple[Page, Page]:
        async with PoliteClient(settings(NO_ROBOTS, retries=2), transport=transport) as client:
            allow(client, url)
            return (
                await client.fetch(url, "o", "article"),
                await client.fetch(url + "other", "o", "article"),
            )

    first, second = asyncio.run(main())
    assert transport.attempts == ["/", "/", "/"]
    assert first.error and first.error.startswith("cannot connect")
    assert second.error and second.error.startswith("cannot connect")


# --- size, type and content checks ------------------------------------------------------------


def test_declared_length_over_the_limit(serve) -> None:
    body = b"<html><body>" + b"x" * 4974 + b"</body></html>"
    assert len(body) == 5000
    site = Site("https://big.example", {"/big": page_route(body)})
    serve(site)
    page, log = fetch_one(settings(NO_ROBOTS, max_bytes=1000), site.url + "/big")
    assert page.error == "body of 5000 bytes exceeds limit of 1000"
    assert page.failure is not None and page.failure.kind == FailureKind.TOO_LARGE
    assert page.body == b"" and page.text is None
    assert site.requests == ["/big"]  # not retried
    assert log[0].bytes == 0 and log[0].status == 200


def test_streamed_body_over_the_limit(serve) -> None:
    """The declared length is checked first; the running count catches what it misses.

    The loopback server always sends Content-Length, so the streaming check is exercised
    with a gzip-encoded body: its declared (compressed) length is small, but the decoded
    stream is far larger than max_bytes.
    """
    decoded = b"<html><body>" + b"a" * 50_000 + b"</body></html>"
    packed = gzip.compress(decoded)
    assert len(packed) < 1000
    site = Site(
        "https://bomb.example",
        {"/gz": Response(packed, "text/html", headers={"Content-Encoding": "gzip"}, rewrite=False)},
    )
    serve(site)
    page, _ = fetch_one(settings(NO_ROBOTS, max_bytes=5000), site.url + "/gz")
    assert page.error == "body exceeds limit of 5000 bytes once decompressed"
    assert page.body == b""
    # The same page under a larger cap is decoded transparently.
    ok, _ = fetch_one(settings(NO_ROBOTS, max_bytes=100_000), site.url + "/gz")
    assert ok.ok and ok.body == decoded


def test_body_exactly_at_the_limit_is_fine(serve) -> None:
    body = b"<html>" + b"y" * 987 + b"</html>"
    assert len(body) == 1000
    site = Site("https://edge.example", {"/p": page_route(body)})
    serve(site)
    page, _ = fetch_one(settings(NO_ROBOTS, max_bytes=len(body)), site.url + "/p")
    assert page.ok and page.body == body


def test_unsupported_content_type(serve) -> None:
    site = Site(
        "https://pdf.example",
        {"/report.pdf": Response(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf")},
    )
    serve(site)
    page, _ = fetch_one(NO_ROBOTS, site.url + "/report.pdf")
    assert page.error == "unsupported content type application/pdf"
    assert page.failure is not None and page.failure.kind == FailureKind.UNSUPPORTED_TYPE
    assert page.content_type == "application/pdf"
    assert page.status == 200 and page.body == b""
    assert site.requests == ["/report.pdf"]


def test_accept_decides_the_content_types(serve) -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>'
    site = Site("https://feeds.example", {"/feed": Response(rss, "application/rss+xml")})
    serve(site)

    async def main() -> tuple[Page, Page]:
        async with PoliteClient(NO_ROBOTS) as client:
            allow(client, site.url)
            as_article = await client.fetch(site.url + "/feed", "o", "article")
            as_feed = await client.fetch(site.url + "/feed", "o", "feed", FEED_TYPES)
            return as_article, as_feed

    as_article, as_feed = asyncio.run(main())
    assert as_article.error == "unsupported content type application/rss+xml"
    assert as_feed.ok and as_feed.body == rss and as_feed.text == rss.decode()


def test_binary_body_served_as_html(serve) -> None:
    body = b"<html>\x00\x01\x02\x00\x00\xff\xfe\x00binary\x00" * 20
    site = Site("https://bin.example", {"/p": Response(body, "text/html")})
    serve(site)
    page, _ = fetch_one(NO_ROBOTS, site.url + "/p")
    assert page.error == "binary content"
    assert page.failure is not None and page.failure.kind == FailureKind.BINARY
    assert page.status == 200


def test_no_content_type_needs_markup(serve) -> None:
    site = Site(
        "https://untyped.example",
        {
            "/img": Response(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type=None),
            "/html": Response(HTML, content_type=None),
        },
    )
    serve(site)
    (img, html), _ = run_fetches(NO_ROBOTS, [site.url + "/img", site.url + "/html"])
    assert img.error == "unsupported content: not HTML or XML"
    assert html.ok and html.content_type is None and html.text == HTML.decode()


# --- charsets --------------------------------------------------------------------------------

RUSSIAN = "Переговоры в Баку: Россия и Азербайджан обсудили транзит"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1251">',
        "<meta charset=windows-1251>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
    ],
)
def test_windows_1251_declared_only_in_meta(serve, meta: str) -> None:
    html = f"<html><head>{meta}<title>Новости</title></head><body><p>{RUSSIAN}</p></body></html>"
    body = html.encode("cp1251")
    site = Site("https://ru.example", {"/p": Response(body, "text/html")})
    serve(site)
    page, _ = fetch_one(NO_ROBOTS, site.url + "/p")
    assert page.ok
    assert page.text is not None and RUSSIAN in page.text and "Новости" in page.text


def test_charset_from_the_header(serve) -> None:
    body = f"<html><body><p>{RUSSIAN}</p></body></html>".encode("cp1251")
    site = Site("https://ru2.example", {"/p": Response(body, "text/html; charset=windows-1251")})
    serve(site)
    page, _ = fetch_one(NO_ROBOTS, site.url + "/p")
    assert page.text is not None and RUSSIAN in page.text


def test_utf8_without_any_declaration(serve) -> None:
    text = "Bakı və Moskva danışıqları bərpa edir — " + RUSSIAN
    body = f"<html><head><title>x</title></head><body><p>{text}</p></body></html>".encode()
    site = Site("https://az.example", {"/p": Response(body, "text/html")})
    serve(site)
    page, _ = fetch_one(NO_ROBOTS, site.url + "/p")
    assert page.ok
    assert page.text is not None and text in page.text


# --- conditional GET -------------------------------------------------------------------------


def test_conditional_get(serve) -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    site = Site("https://cond.example", {"/feed": Response(rss, "application/rss+xml")})
    serve(site)
    url = site.url + "/feed"

    async def main() -> list[Page]:
        async with PoliteClient(NO_ROBOTS) as client:
            allow(client, url)

            async def get(validators: Validators | None) -> Page:
                return await client.fetch(url, "o", "feed", FEED_TYPES, validators)

            first = await get(None)
            return [
                first,
                await get(Validators(etag=first.etag)),
                await get(Validators(last_modified=first.last_modified)),
                await get(Validators(body_hash=first.body_hash)),
                await get(Validators(etag='"stale"', body_hash="0" * 64)),
            ]

    first, by_etag, by_date, by_hash, changed = asyncio.run(main())
    assert first.status == 200 and not first.not_modified
    assert first.etag and first.last_modified and first.body_hash
    # The server answers 304 to If-None-Match / If-Modified-Since.
    assert by_etag.status == 304 and by_etag.not_modified and by_etag.ok
    assert by_etag.body == b""
    assert by_date.status == 304 and by_date.not_modified
    # Without header validators the body is fetched, and the same hash means unchanged.
    assert by_hash.status == 200 and by_hash.not_modified
    assert by_hash.body == rss and by_hash.body_hash == first.body_hash
    assert changed.status == 200 and not changed.not_modified
    assert site.requests == ["/feed"] * 5


# --- pacing and concurrency ------------------------------------------------------------------


def test_min_delay_paces_one_host(serve) -> None:
    times: list[float] = []
    site = Site("https://paced.example", {"/p": timed(page_route(), times)})
    serve(site)

    def setup(client: PoliteClient) -> None:
        client.set_min_delay(site.url + "/", 0.3)
        client.set_min_delay(site.url + "/", 0.05)  # the politest setting wins

    started = time.monotonic()
    pages, log = run_fetches(NO_ROBOTS, [site.url + "/p"] * 3, concurrent=True, setup=setup)
    elapsed = time.monotonic() - started
    assert all(p.ok for p in pages)
    assert elapsed >= 0.55
    assert len(times) == 3 and all(g >= 0.25 for g in gaps(starts(log))), gaps(starts(log))


def test_a_late_wake_up_does_not_shorten_the_next_delay(serve, monkeypatch) -> None:
    # A busy event loop wakes a pacing sleep late; the request after it must still wait the
    # full delay from when the late one really started.
    times: list[float] = []
    site = Site("https://late.example", {"/p": timed(page_route(), times)})
    serve(site)
    real_sleep = asyncio.sleep
    late = [0.2]

    async def sleep(delay: float, result: object = None) -> object:
        extra = late.pop() if delay > 0.05 and late else 0.0
        return await real_sleep(delay + extra, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)

    def setup(client: PoliteClient) -> None:
        client.set_min_delay(site.url + "/", 0.3)

    pages, log = run_fetches(NO_ROBOTS, [site.url + "/p"] * 3, concurrent=True, setup=setup)
    assert all(p.ok for p in pages) and not late
    assert len(times) == 3 and all(g >= 0.25 for g in gaps(starts(log))), gaps(starts(log))


def test_different_hosts_are_paced_independently(serve) -> None:
    """Both hosts paced at an hour: with one pacer per host, each host's first request goes
    out at once and the second waits; one pacer for all would hold the second host's first
    request for an hour, and the test's timeout would fail it. No clock is read: how soon the
    first requests come back on a busy machine does not matter."""
    a = Site("https://a.example", {"/p": page_route()})
    b = Site("https://b.example", {"/p": page_route()})
    serve(a, b)

    async def main() -> tuple[set[str], int]:
        async with PoliteClient(NO_ROBOTS) as client:
            allow(client, a.url, "a")
            allow(client, b.url, "b")
            client.set_min_delay(a.url, 3600)
            client.set_min_delay(b.url, 3600)
            tasks = {
                f"{name}{n}": asyncio.ensure_future(client.fetch(site.url + "/p", name, "article"))
                for n in (1, 2)
                for name, site in (("a", a), ("b", b))
            }
            firsts = {tasks["a1"], tasks["b1"]}
            done, _ = await asyncio.wait(firsts)
            finished = {name for name, task in tasks.items() if task.done()}
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            return finished, len(done)

    finished, firsts_done = asyncio.run(main())
    assert firsts_done == 2 and finished == {"a1", "b1"}
    assert a.requests == ["/p"] and b.requests == ["/p"]


def overlap_counter(hold_s: float) -> tuple[Callable[[], Response], dict[str, int]]:
    """A route that holds each request for hold_s and records the peak concurrency."""
    lock = threading.Lock()
    state = {"active": 0, "peak": 0, "total": 0}

    def route() -> Response:
        with lock:
            state["active"] += 1
            state["total"] += 1
            state["peak"] = max(state["peak"], state["active"])
        time.sleep(hold_s)
        with lock:
            state["active"] -= 1
        return page_route()

    return route, state


@pytest.mark.parametrize("per_host", [1, 2])
def test_connections_per_host_limit(serve, per_host: int) -> None:
    route, state = overlap_counter(0.15)
    site = Site("https://busy.example", {"/p": route})
    serve(site)
    client_settings = settings(NO_ROBOTS, connections_per_host=per_host)
    pages, _ = run_fetches(client_settings, [site.url + "/p"] * 6, concurrent=True)
    assert all(p.ok for p in pages)
    assert state["total"] == 6
    assert state["peak"] == per_host


def test_connection_limit_is_per_host(serve) -> None:
    route_a, state_a = overlap_counter(0.3)
    route_b, state_b = overlap_counter(0.3)
    lock = threading.Lock()
    both = {"active": 0, "peak": 0}

    def counted(route: Callable[[], Response]) -> Callable[[], Response]:
        def counting() -> Response:
            with lock:
                both["active"] += 1
                both["peak"] = max(both["peak"], both["active"])
            try:
                return route()
            finally:
                with lock:
                    both["active"] -= 1

        return counting

    a = Site("https://la.example", {"/p": counted(route_a)})
    b = Site("https://lb.example", {"/p": counted(route_b)})
    serve(a, b)
    pages, _ = run_fetches(
        settings(NO_ROBOTS, connections_per_host=1),
        [a.url + "/p", b.url + "/p"] * 2,
        concurrent=True,
    )
    assert all(p.ok for p in pages)
    assert state_a["peak"] == 1 and state_b["peak"] == 1
    # One limit for all hosts would never let the two hosts' requests overlap.
    assert both["peak"] == 2


# --- redirects -------------------------------------------------------------------------------


def test_redirects_are_followed_and_capped(serve) -> None:
    site = Site(
        "https://moved.example",
        {
            "/old": Response(b"", None, status=301, headers={"Location": "/new"}),
            "/new": page_route(),
            "/loop": Response(b"", None, status=302, headers={"Location": "/loop"}),
        },
    )
    serve(site)
    (moved, loop), _ = run_fetches(
        settings(NO_ROBOTS, max_redirects=2), [site.url + "/old", site.url + "/loop"]
    )
    assert moved.ok and moved.url == site.url + "/old"
    assert moved.final_url == site.url + "/new"
    assert loop.error == f"more than 2 redirects (the last to {site.url}/loop)"
    assert loop.failure is not None and loop.failure.kind == FailureKind.TOO_MANY_REDIRECTS
    assert site.requests.count("/loop") == 3


# --- the fetch log ---------------------------------------------------------------------------


def test_every_fetch_is_logged_and_drained_per_outlet(serve) -> None:
    site = Site(
        "https://log.example",
        {
            "/robots.txt": robots("User-agent: *\nDisallow: /private/\n"),
            "/story": page_route(),
            "/feed": Response(b"<rss version='2.0'><channel/></rss>", "application/rss+xml"),
        },
    )
    serve(site)

    async def main() -> tuple[list[FetchRecord], list[FetchRecord], list[FetchRecord], list]:
        async with PoliteClient(FAST) as client:
            allow(client, site.url, "alpha", "beta")
            await client.fetch(site.url + "/story", "alpha", "article")
            await client.fetch(site.url + "/feed", "beta", "feed", FEED_TYPES)
            await client.fetch(site.url + "/missing", "alpha", "section")
            await client.fetch(site.url + "/private/x", "beta", "article")
            everything = list(client.log)
            alpha = client.drain_log("alpha")
            remaining = list(client.log)
            again = client.drain_log("alpha")
            return everything, alpha, remaining, again

    everything, alpha, remaining, again = asyncio.run(main())
    assert [(r.outlet_id, r.kind, r.url.removeprefix(site.url)) for r in everything] == [
        ("alpha", "robots", "/robots.txt"),  # robots.txt is charged to whoever needed it
        ("alpha", "article", "/story"),
        ("beta", "feed", "/feed"),
        ("alpha", "section", "/missing"),
        ("beta", "article", "/private/x"),
    ]
    robots_rec, story, feed, missing, blocked = everything
    assert robots_rec.status == 200 and robots_rec.error is None
    assert robots_rec.bytes == len(b"User-agent: *\nDisallow: /private/\n")
    assert story.status == 200 and story.bytes == len(HTML) and story.error is None
    assert story.final_url == site.url + "/story"
    assert story.elapsed_s > 0 and story.fetched_at.tzinfo is not None
    assert story.fetched_at.astimezone(UTC).year >= 2024
    assert feed.status == 200 and feed.bytes > 0
    assert missing.status == 404 and missing.error == "HTTP 404"
    assert blocked.status is None and blocked.bytes == 0
    assert blocked.error is not None and "robots" in blocked.error
    # drain_log hands over one outlet's records and leaves the others.
    assert alpha == [robots_rec, story, missing]
    assert remaining == [feed, blocked]
    assert again == []
