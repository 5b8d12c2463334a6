"""A polite asynchronous HTTP client: robots.txt, per-host pacing, retries, limits, redirects.

One client serves a whole run so that connections are reused and every host's pacing and
robots.txt are shared by all the outlets on it. Failures never raise: they come back as a
Page with a typed `failure` (kind and one line), and every request is logged as a FetchRecord.

Redirects are followed here, hop by hop, not by httpx: each hop is a request of its own, to a
host that must pass the address policy (extractors/netpolicy.py), whose robots.txt must allow
it, that is paced like any other request to that host, and whose failure marks that host (not
the outlet's) down. An article's hops must stay on the outlet's site.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from protego import Protego

from extractors.exchange import HTML_TYPES, attempt
from extractors.netpolicy import (
    AddressPolicy,
    AddressRefused,
    Resolver,
    guarded_transport,
    host_of,
)
from extractors.records import (
    ArchiveRef,
    Failure,
    FailureKind,
    FetchPurpose,
    FetchRecord,
    Outlet,
    Page,
    Validators,
)
from extractors.urls import origin, same_site

__all__ = ["FEED_TYPES", "HTML_TYPES", "ClientSettings", "PoliteClient"]

FEED_TYPES = frozenset(
    {
        "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
        "text/xml", "application/feed+json", "application/json", "text/html", "text/plain",
        "application/x-gzip", "application/gzip", "application/octet-stream",
    }
)  # fmt: skip
# A host that fails like this is taken for down for the rest of the run.
_HOST_DOWN = frozenset({FailureKind.CANNOT_CONNECT, FailureKind.CANNOT_RESOLVE})
_LARGE_SOURCES = frozenset({FetchPurpose.FEED, FetchPurpose.SITEMAP})
# Keeps a response (storage/archive.py's Archive.record): where it was archived, or None.
Recorder = Callable[[Page], ArchiveRef | None]


@dataclass(frozen=True)
class ClientSettings:
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0  # the longest silence between two reads
    # The longest a whole response may take, however steadily it trickles in: a page (and
    # robots.txt, probes, listings), and a feed or sitemap (larger, from slower backends).
    page_deadline_s: float = 60.0
    source_deadline_s: float = 300.0
    max_bytes: int = 10 * 1024 * 1024  # per response, after undoing its compression
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
    refused: AddressRefused | None = None  # what the address policy found (checked once a run)
    checked: bool = False


@dataclass(frozen=True)
class _Ask:
    """What a fetch is for: who asked, why, which types it takes, what it has seen before."""

    outlet_id: str
    kind: FetchPurpose
    accept: frozenset[str]
    validators: Validators | None = None


@dataclass(frozen=True)
class _Scope:
    """What an outlet's configuration allows: its site, and the hosts it names."""

    homepage: str
    hosts: frozenset[str]


class PoliteClient:
    def __init__(
        self,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.settings = settings or ClientSettings()
        self.recorder = recorder
        s = self.settings
        self._policy = AddressPolicy(resolver, s.connect_timeout_s)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(s.read_timeout_s, connect=s.connect_timeout_s),
            follow_redirects=False,
            limits=limits,
            transport=transport or guarded_transport(self._policy, limits),
        )
        self._hosts: dict[str, _Host] = {}
        self._scopes: dict[str, _Scope] = {}
        self.log: list[FetchRecord] = []

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def add_outlet(self, outlet: Outlet) -> None:
        """Before an outlet's first fetch: its pacing, its site, and the hosts its configuration
        names, which alone may be private addresses (a local mirror, the demo)."""
        configured = (outlet.homepage, *outlet.feeds, *outlet.sitemaps)
        hosts = frozenset(host_of(u) for u in configured + tuple(s.url for s in outlet.sections))
        self._scopes[outlet.id] = _Scope(outlet.homepage, hosts)
        self._policy.exempt |= hosts
        self.set_min_delay(outlet.homepage, outlet.min_delay_s)

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
        page = await self._follow(robots_url, _Ask(outlet_id, FetchPurpose.ROBOTS, FEED_TYPES))
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
        """GET `url` politely, following redirects. Never raises for network or HTTP trouble."""
        ask = _Ask(outlet_id, kind, frozenset(accept), validators)
        page = await self._follow(url, ask, check_robots=True)
        if self.recorder is not None and page.ok and page.status == 200 and page.body:
            # In a thread: digesting and compressing a page is CPU the event loop need not hold.
            page.archived = await asyncio.to_thread(self.recorder, page)
        return page

    async def _follow(self, url: str, ask: _Ask, check_robots: bool = False) -> Page:
        current = url
        for hop in range(self.settings.max_redirects + 1):
            failure = await self._refusal(current, ask, hop)
            robots = failure is None and check_robots and not self._host(current).dead
            if robots and not await self.allowed(current, ask.outlet_id):
                where = f"redirect to {current} " if hop else ""
                failure = Failure(FailureKind.ROBOTS, f"{where}blocked by robots.txt")
            if failure is not None:
                page = _failed(url, failure)
                page.final_url = current
                self._record(ask, page, current)
                return page
            page, location = await self._fetch(current, ask)
            page.url = url
            if location is None:
                return page
            current = location
        page = _failed(url, Failure(FailureKind.TOO_MANY_REDIRECTS, (
            f"more than {self.settings.max_redirects} redirects (the last to {current})")))  # fmt: skip
        page.final_url = current
        return page

    async def _refusal(self, url: str, ask: _Ask, hop: int) -> Failure | None:
        """Why the address or scope policy forbids this hop, if it does."""
        where = f"redirect to {url}" if hop else url
        if urlsplit(url).scheme not in ("http", "https") or not host_of(url):
            return Failure(FailureKind.REDIRECT_REFUSED, f"{where} refused: not an http(s) URL")
        scope = self._scopes.get(ask.outlet_id)
        host = self._host(url)
        if scope is None or host_of(url) not in scope.hosts:
            if not host.checked:
                try:
                    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
                    await self._policy.check(host_of(url), port)
                except AddressRefused as exc:
                    host.refused = exc
                except (OSError, TimeoutError):
                    return None  # not resolvable now: the connection attempt will say so
                host.checked = True
            if host.refused is not None:
                return Failure(FailureKind.REDIRECT_REFUSED, f"{where} refused: {host.refused}")
        if (
            hop
            and ask.kind == FetchPurpose.ARTICLE
            and scope
            and not same_site(url, scope.homepage)
        ):
            message = f"{where} refused: it leaves the outlet's site ({scope.homepage})"
            return Failure(FailureKind.REDIRECT_REFUSED, message)
        return None

    async def _fetch(self, url: str, ask: _Ask) -> tuple[Page, str | None]:
        """One hop, retried as its status asks. The string is where it redirects to."""
        host = self._host(url)
        s = self.settings
        deadline = s.source_deadline_s if ask.kind in _LARGE_SOURCES else s.page_deadline_s
        tries = 0
        while True:
            if host.dead is not None:
                page = _failed(url, host.dead)
                self._record(ask, page)
                return page, None
            async with host.semaphore:
                await self._pace(host)
                page, retry_after, location = await attempt(
                    self._client, url, ask.accept, ask.validators, deadline, s.max_bytes
                )
            if retry_after:
                until = datetime.now(UTC) + timedelta(seconds=retry_after)
                host.hold_until = max(host.hold_until or until, until)
            if retry_after and retry_after > s.max_retry_after_s and page.failure is not None:
                page.failure = Failure(
                    page.failure.kind,
                    f"{page.failure.message}; Retry-After {retry_after:.0f}s exceeds limit",
                )
                retry_after = None
            self._record(ask, page)
            if retry_after is None or tries >= s.retries:
                if page.failure is not None and page.failure.kind in _HOST_DOWN:
                    host.dead = page.failure
                return page, location
            delay = s.backoff_base_s * (2**tries) * (0.5 + random.random())
            if retry_after > 0:
                delay = max(delay, retry_after)
            tries += 1
            await asyncio.sleep(delay)

    async def _pace(self, host: _Host) -> None:
        async with host.pace_lock:
            wait = host.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            # Counted from when this request really starts: a busy event loop wakes late, and
            # counting from the planned start would let the next request follow too soon.
            host.next_start = time.monotonic() + host.min_delay_s

    def _record(self, ask: _Ask, page: Page, url: str | None = None) -> None:
        self.log.append(
            FetchRecord(
                outlet_id=ask.outlet_id,
                kind=ask.kind,
                url=url or page.url,
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


def _failed(url: str, failure: Failure) -> Page:
    return Page(
        url=url, final_url=url, status=None, fetched_at=datetime.now(UTC), elapsed_s=0.0,
        failure=failure,
    )  # fmt: skip
