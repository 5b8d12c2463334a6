"""A polite asynchronous HTTP client: robots.txt, per-host pacing, retries, size caps.

One client serves a whole run so that connections are reused and every host's pacing and
robots.txt are shared by all the outlets on it. Failures never raise: they come back as a
Page with a typed `failure` (kind and one line), and every request is logged as a FetchRecord.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from charset_normalizer import from_bytes
from protego import Protego

from extractors.records import Failure, FailureKind, FetchPurpose, FetchRecord, Page, Validators
from extractors.urls import origin

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
        "text/xml", "application/feed+json", "application/json", "text/html", "text/plain",
        "application/x-gzip", "application/gzip", "application/octet-stream",
    }
)  # fmt: skip
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A host that fails like this is taken for down for the rest of the run.
_HOST_DOWN = frozenset({FailureKind.CANNOT_CONNECT, FailureKind.CANNOT_RESOLVE})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding=["']([\w-]+)""", re.I)


@dataclass(frozen=True)
class ClientSettings:
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    backoff_base_s: float = 1.0
    max_retry_after_s: float = 120.0
    connections_per_host: int = 2
    respect_robots: bool = True


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    pace_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    min_delay_s: float = 0.0
    next_start: float = 0.0
    robots: Protego | None = None
    robots_loaded: bool = False
    robots_blocks_all: bool = False
    dead: Failure | None = None  # why the host is unreachable this run
    hold_until: datetime | None = None  # the host asked us (Retry-After) to stay away until


class PoliteClient:
    def __init__(
        self,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or ClientSettings()
        s = self.settings
        self._client = httpx.AsyncClient(
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(s.read_timeout_s, connect=s.connect_timeout_s),
            follow_redirects=True,
            max_redirects=s.max_redirects,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=transport,
        )
        self._hosts: dict[str, _Host] = {}
        self.log: list[FetchRecord] = []

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _host(self, url: str) -> _Host:
        key = origin(url)
        host = self._hosts.get(key)
        if host is None:
            host = _Host(semaphore=asyncio.Semaphore(self.settings.connections_per_host))
            self._hosts[key] = host
        return host

    def set_min_delay(self, url: str, min_delay_s: float) -> None:
        """Pacing is per host; the politest outlet sharing a host wins."""
        host = self._host(url)
        host.min_delay_s = max(host.min_delay_s, min_delay_s)

    def host_failure(self, url: str) -> Failure | None:
        return self._host(url).dead

    def hold_until(self, url: str) -> datetime | None:
        """The latest time a Retry-After from this host asked us to wait for, if any."""
        return self._host(url).hold_until

    async def robots(self, url: str, outlet_id: str) -> Protego | None:
        host = self._host(url)
        async with host.robots_lock:
            if not host.robots_loaded:
                await self._load_robots(url, outlet_id, host)
        return host.robots

    async def _load_robots(self, url: str, outlet_id: str, host: _Host) -> None:
        robots_url = origin(url) + "/robots.txt"
        page = await self._fetch(robots_url, outlet_id, FetchPurpose.ROBOTS, FEED_TYPES, None)
        host.robots_loaded = True
        if page.status is not None and 200 <= page.status < 300 and page.text is not None:
            try:
                host.robots = Protego.parse(page.text)
            except Exception:  # a garbled robots.txt is treated as absent
                host.robots = None
            if host.robots is not None:
                delay = host.robots.crawl_delay(self.settings.user_agent)
                if delay:
                    host.min_delay_s = max(host.min_delay_s, min(float(delay), 60.0))
        elif page.status is not None and page.status >= 500:
            # RFC 9309: an unreachable robots.txt means the whole site is off limits for now.
            host.robots_blocks_all = True

    async def allowed(self, url: str, outlet_id: str) -> bool:
        if not self.settings.respect_robots:
            return True
        robots = await self.robots(url, outlet_id)
        host = self._host(url)
        if host.robots_blocks_all:
            return False
        return robots is None or robots.can_fetch(url, self.settings.user_agent)

    async def fetch(
        self,
        url: str,
        outlet_id: str,
        kind: FetchPurpose,
        accept: Iterable[str] = HTML_TYPES,
        validators: Validators | None = None,
    ) -> Page:
        """GET `url` politely. Never raises for network or HTTP trouble."""
        host = self._host(url)
        if host.dead is None and not await self.allowed(url, outlet_id):
            page = _failed(url, Failure(FailureKind.ROBOTS, "blocked by robots.txt"))
            self._record(outlet_id, kind, page)
            return page
        return await self._fetch(url, outlet_id, kind, frozenset(accept), validators)

    async def _fetch(
        self,
        url: str,
        outlet_id: str,
        kind: FetchPurpose,
        accept: frozenset[str],
        validators: Validators | None,
    ) -> Page:
        host = self._host(url)
        s = self.settings
        attempt = 0
        while True:
            if host.dead is not None:
                page = _failed(url, host.dead)
                self._record(outlet_id, kind, page)
                return page
            async with host.semaphore:
                await self._pace(host)
                page, retry_after = await self._attempt(url, accept, validators)
            if retry_after:
                until = datetime.now(UTC) + timedelta(seconds=retry_after)
                host.hold_until = max(host.hold_until or until, until)
            if retry_after and retry_after > s.max_retry_after_s and page.failure is not None:
                page.failure = Failure(
                    page.failure.kind,
                    f"{page.failure.message}; Retry-After {retry_after:.0f}s exceeds limit",
                )
                retry_after = None
            self._record(outlet_id, kind, page)
            if retry_after is None or attempt >= s.retries:
                if page.failure is not None and page.failure.kind in _HOST_DOWN:
                    host.dead = page.failure
                return page
            delay = s.backoff_base_s * (2**attempt) * (0.5 + random.random())
            if retry_after > 0:
                delay = max(delay, retry_after)
            attempt += 1
            await asyncio.sleep(delay)

    async def _pace(self, host: _Host) -> None:
        async with host.pace_lock:
            wait = host.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            # Counted from when this request really starts: a busy event loop wakes late, and
            # counting from the planned start would let the next request follow too soon.
            host.next_start = time.monotonic() + host.min_delay_s

    async def _attempt(
        self, url: str, accept: frozenset[str], validators: Validators | None
    ) -> tuple[Page, float | None]:
        """One request. The float is the retry delay hint (0 = retry with backoff, None = final)."""
        s = self.settings
        headers: dict[str, str] = {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        }
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        started = time.perf_counter()
        fetched_at = datetime.now(UTC)
        page = Page(url=url, final_url=url, status=None, fetched_at=fetched_at, elapsed_s=0.0)
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                page.status = response.status_code
                page.final_url = str(response.url)
                page.content_type = _media_type(response.headers.get("content-type"))
                page.etag = response.headers.get("etag")
                page.last_modified = response.headers.get("last-modified")
                if response.status_code == 304:
                    page.not_modified = True
                    return _done(page, started), None
                if response.status_code in RETRY_STATUSES:
                    _fail(page, FailureKind.HTTP_STATUS, f"HTTP {response.status_code}")
                    return _done(page, started), _retry_after(response.headers) or 0.0
                if response.status_code >= 400:
                    _fail(page, FailureKind.HTTP_STATUS, f"HTTP {response.status_code}")
                    return _done(page, started), None
                if page.content_type and page.content_type not in accept:
                    message = f"unsupported content type {page.content_type}"
                    _fail(page, FailureKind.UNSUPPORTED_TYPE, message)
                    return _done(page, started), None
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > s.max_bytes:
                    message = f"body of {int(declared)} bytes exceeds limit of {s.max_bytes}"
                    _fail(page, FailureKind.TOO_LARGE, message)
                    return _done(page, started), None
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > s.max_bytes:
                        message = f"body exceeds limit of {s.max_bytes} bytes"
                        _fail(page, FailureKind.TOO_LARGE, message)
                        return _done(page, started), None
                    chunks.append(chunk)
                page.body = b"".join(chunks)
                charset = response.charset_encoding
        except httpx.TooManyRedirects:
            message = f"more than {s.max_redirects} redirects"
            _fail(page, FailureKind.TOO_MANY_REDIRECTS, message)
            return _done(page, started), None
        except httpx.ConnectTimeout:
            _fail(page, FailureKind.CANNOT_CONNECT, "cannot connect: connection timed out")
            return _done(page, started), 0.0
        except httpx.TimeoutException as exc:
            _fail(page, FailureKind.TIMEOUT, f"timeout ({type(exc).__name__})")
            return _done(page, started), 0.0
        except httpx.RemoteProtocolError:
            message = "connection closed by the server without a complete response"
            _fail(page, FailureKind.CONNECTION_LOST, message)
            return _done(page, started), 0.0
        except httpx.ReadError:
            _fail(page, FailureKind.CONNECTION_LOST, "connection reset by the server")
            return _done(page, started), 0.0
        except httpx.ConnectError as exc:
            reason = _one_line(exc)
            kind = FailureKind.CANNOT_CONNECT
            # The resolver's own words are the only sign httpx passes on (it wraps gaierror).
            if "name or service not known" in reason.lower() or "name resolution" in reason.lower():
                host = httpx.URL(url).host
                kind, reason = (
                    FailureKind.CANNOT_RESOLVE,
                    f"cannot resolve {host} (no network, or a wrong address)",
                )
            _fail(page, kind, f"cannot connect: {reason}")
            return _done(page, started), 0.0
        except (httpx.HTTPError, OSError) as exc:
            _fail(page, FailureKind.CONNECTION_LOST, f"{type(exc).__name__}: {_one_line(exc)}")
            return _done(page, started), 0.0
        page.body_hash = hashlib.sha256(page.body).hexdigest()
        if validators is not None and validators.body_hash == page.body_hash:
            page.not_modified = True
        if not page.content_type and not _sniff_markup(page.body):
            _fail(page, FailureKind.UNSUPPORTED_TYPE, "unsupported content: not HTML or XML")
            return _done(page, started), None
        if page.body[:2] != b"\x1f\x8b":
            page.text = decode(page.body, charset)
            if "\x00" in page.text[:4096]:
                _fail(page, FailureKind.BINARY, "binary content")
        return _done(page, started), None

    def _record(self, outlet_id: str, kind: str, page: Page) -> None:
        self.log.append(
            FetchRecord(
                outlet_id=outlet_id,
                kind=kind,
                url=page.url,
                final_url=page.final_url,
                status=page.status,
                bytes=len(page.body),
                elapsed_s=page.elapsed_s,
                fetched_at=page.fetched_at,
                failure=page.failure,
            )
        )

    def drain_log(self, outlet_id: str) -> list[FetchRecord]:
        """Take the fetch records of one outlet out of the shared log."""
        mine = [r for r in self.log if r.outlet_id == outlet_id]
        self.log = [r for r in self.log if r.outlet_id != outlet_id]
        return mine


def decode(body: bytes, declared: str | None) -> str:
    """Decode by the declared charset, then an in-document declaration, then detection."""
    for candidate in (declared, _declared_in_document(body)):
        if candidate:
            try:
                return body.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(body[:200_000]).best()
        return str(best) if best is not None else body.decode("utf-8", errors="replace")


def _declared_in_document(body: bytes) -> str | None:
    head = body[:4096]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def _sniff_markup(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<", b"\xef\xbb\xbf<", b"{", b"\x1f\x8b", b"user-agent", b"#"))


def _media_type(header: str | None) -> str | None:
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def _failed(url: str, failure: Failure) -> Page:
    return Page(
        url=url, final_url=url, status=None, fetched_at=datetime.now(UTC), elapsed_s=0.0,
        failure=failure,
    )  # fmt: skip


def _fail(page: Page, kind: FailureKind, message: str) -> None:
    page.failure = Failure(kind, message)


def _done(page: Page, started: float) -> Page:
    page.elapsed_s = time.perf_counter() - started
    return page
