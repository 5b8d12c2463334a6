"""One HTTP exchange: send a request, read the answer within its limits, say what it was.

The polite client (extractors/http.py) decides whether, when and where to ask; this module asks
once and turns whatever comes back (a page, a redirect, a bot wall, a trickle cut at its
deadline, a compression bomb, a reset) into a Page with at most one typed failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import time
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from extractors import antibot
from extractors.decoding import BadEncoding, BoundedDecoder, TooLarge, decode
from extractors.netpolicy import AddressRefused, CannotResolve
from extractors.records import Failure, FailureKind, Page, Validators

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    accept: frozenset[str],
    validators: Validators | None,
    deadline_s: float,
    max_bytes: int,
) -> tuple[Page, float | None, str | None]:
    """One request: the page, the retry delay hint (0 = retry with backoff, None = final)
    and the redirect target. The whole exchange must finish within `deadline_s`."""
    started = time.perf_counter()
    page = Page(url=url, final_url=url, status=None, fetched_at=datetime.now(UTC), elapsed_s=0)
    deadline = asyncio.timeout(deadline_s)
    try:
        async with deadline:
            retry, location = await _exchange(client, url, accept, validators, page, max_bytes)
    except TimeoutError:
        if not deadline.expired():
            raise
        message = f"no complete response within the deadline of {deadline_s:g} s"
        return _done(page, started, FailureKind.DEADLINE, message), None, None
    except (TooLarge, MemoryError) as exc:
        page.body, page.text = b"", None
        message = str(exc) if isinstance(exc, TooLarge) else "body too large to hold in memory"
        return _done(page, started, FailureKind.TOO_LARGE, message), None, None
    except BadEncoding as exc:
        return _done(page, started, FailureKind.BAD_ENCODING, str(exc)), None, None
    except AddressRefused as exc:
        message = f"{url} refused: {exc}"
        return _done(page, started, FailureKind.REDIRECT_REFUSED, message), None, None
    except httpx.HTTPError as exc:
        kind, message = _network_failure(url, exc)
        return _done(page, started, kind, message), 0.0, None
    except OSError as exc:
        message = f"{type(exc).__name__}: {_one_line(exc)}"
        return _done(page, started, FailureKind.CONNECTION_LOST, message), 0.0, None
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the outlet's pass
        message = f"internal error: {type(exc).__name__}: {_one_line(exc)}"
        return _done(page, started, FailureKind.INTERNAL, message), None, None
    return _done(page, started), retry, location


async def _exchange(
    client: httpx.AsyncClient,
    url: str,
    accept: frozenset[str],
    validators: Validators | None,
    page: Page,
    max_bytes: int,
) -> tuple[float | None, str | None]:
    """Send the request and read the answer into `page` (failures included)."""
    headers = {"Accept": _ACCEPT}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    async with client.stream("GET", url, headers=headers) as response:
        status = page.status = response.status_code
        page.content_type = _media_type(response.headers.get("content-type"))
        page.etag = response.headers.get("etag")
        page.last_modified = response.headers.get("last-modified")
        page.response_headers = response.headers.multi_items()
        page.request_headers = response.request.headers.multi_items()
        if status == 304:
            page.not_modified = True
            return None, None
        location = response.headers.get("location")
        if status in REDIRECT_STATUSES and location:
            return None, urljoin(url, location.strip())
        if status >= 400 or response.headers.get("cf-mitigated"):
            head = await _head(response) if status in antibot.WALL_STATUSES else b""
            vendor = antibot.wall(status, response.headers, head)
            if vendor is not None:
                page.failure = Failure(FailureKind.ANTI_BOT, antibot.message(vendor, status))
                return None, None
            page.failure = Failure(FailureKind.HTTP_STATUS, f"HTTP {status}")
            if status in RETRY_STATUSES:
                return _retry_after(response.headers) or 0.0, None
            return None, None
        if page.content_type and page.content_type not in accept:
            message = f"unsupported content type {page.content_type}"
            page.failure = Failure(FailureKind.UNSUPPORTED_TYPE, message)
            return None, None
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"body of {int(declared)} bytes exceeds limit of {max_bytes}")
        page.body = await _read(response, max_bytes)
        charset = response.charset_encoding
    page.body_hash = hashlib.sha256(page.body).hexdigest()
    if validators is not None and validators.body_hash == page.body_hash:
        page.not_modified = True
    if not page.content_type and not _sniff_markup(page.body):
        message = "unsupported content: not HTML or XML"
        page.failure = Failure(FailureKind.UNSUPPORTED_TYPE, message)
        return None, None
    if page.body[:2] != b"\x1f\x8b":
        page.text = decode(page.body, charset)
        if "\x00" in page.text[:4096]:
            page.failure = Failure(FailureKind.BINARY, "binary content")
        elif page.content_type in HTML_TYPES and (
            vendor := antibot.wall(status, response.headers, page.body)
        ):
            page.failure = Failure(FailureKind.ANTI_BOT, antibot.message(vendor, status))
    return None, None


async def _read(response: httpx.Response, limit: int) -> bytes:
    """The body with its Content-Encoding undone; TooLarge past `limit` bytes either side of
    decoding (httpx's own decoding has no bound, so the raw stream is read)."""
    decoder = BoundedDecoder(response.headers.get("content-encoding"), limit)
    chunks: list[bytes] = []
    received = 0
    async for raw in response.aiter_raw():
        received += len(raw)
        if received > limit:
            raise TooLarge(f"body exceeds limit of {limit} bytes")
        chunks.append(decoder.feed(raw))
    chunks.append(decoder.finish())
    return b"".join(chunks)


async def _head(response: httpx.Response) -> bytes:
    """The start of an error page, enough to tell a bot wall (a larger one is none)."""
    try:
        return await _read(response, antibot.HEAD_BYTES)
    except (TooLarge, BadEncoding):
        return b""


def _network_failure(url: str, exc: httpx.HTTPError) -> tuple[FailureKind, str]:
    if isinstance(exc, httpx.ConnectTimeout):
        return FailureKind.CANNOT_CONNECT, "cannot connect: connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return FailureKind.TIMEOUT, f"timeout ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        message = "connection closed by the server without a complete response"
        return FailureKind.CONNECTION_LOST, message
    if isinstance(exc, httpx.ReadError):
        return FailureKind.CONNECTION_LOST, "connection reset by the server"
    if isinstance(exc, httpx.ConnectError):
        reason = _one_line(exc)
        # Our backend says so by type; a transport passed in (tests) only in the resolver's words.
        if isinstance(exc.__cause__, CannotResolve) or any(
            words in reason.lower() for words in ("name or service not known", "name resolution")
        ):
            host = httpx.URL(url).host
            message = f"cannot connect: cannot resolve {host} (no network, or a wrong address)"
            return FailureKind.CANNOT_RESOLVE, message
        return FailureKind.CANNOT_CONNECT, f"cannot connect: {reason}"
    return FailureKind.CONNECTION_LOST, f"{type(exc).__name__}: {_one_line(exc)}"


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


def _done(page: Page, started: float, kind: FailureKind | None = None, message: str = "") -> Page:
    if kind is not None:
        page.failure = Failure(kind, message)
    page.elapsed_s = time.perf_counter() - started
    return page
