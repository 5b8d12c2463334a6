"""WARC 1.1 records, both ways, with warcio: one HTTP exchange into the gzip members of its
response (or revisit) and request records, and any WARC file back into its exchanges.
storage/archive.py keeps the files these records go into."""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_datetime
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

# zlib level 6: warcio's own writer uses 9, which costs about twice the CPU on HTML for a file
# a few percent smaller, and the archive is written by the ingest process on every response.
COMPRESS_LEVEL = 6
# Headers that describe the bytes on the wire, not the payload as stored: httpx hands over the
# decoded body, so these would make readers decode it a second time or cut it short.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class ArchiveError(Exception):
    """A record that cannot be read (one line): a pruned file, a truncated or foreign file."""


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as archived: the response as the fetcher saw it, the request it sent."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (sha1, base32), as warcio writes and checks it."""
    digester = Digester("sha1")
    digester.update(body)
    return str(digester)


def read_responses(path: Path, max_bytes: int = 10 * 1024 * 1024) -> Iterator[Exchange]:
    """Every response in a WARC file (ours or anyone's, gzip or not), revisits resolved to the
    payload they refer to when it is in the same file. Bodies over `max_bytes` are skipped."""
    payloads: dict[str, bytes] = {}  # digest -> body, only for payloads a revisit may need
    try:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                    continue
                if record.rec_type == "revisit":
                    digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
                    body = payloads.get(digest)
                    if body is not None:
                        yield exchange_from(record, body)
                    continue
                exchange = exchange_from(record, max_bytes=max_bytes)
                if exchange is None:
                    continue
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                if digest:
                    payloads[digest] = exchange.body
                yield exchange
    except (ArchiveLoadFailed, ValueError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{path.name}: {one_line(exc)}") from None


def exchange_from(record, body: bytes | None = None, max_bytes: int = 0):  # noqa: ANN001, ANN202
    """An Exchange from a warcio record (None when its body is over max_bytes)."""
    http = record.http_headers
    if body is None:
        stream = record.content_stream()
        body = stream.read(max_bytes + 1) if max_bytes else stream.read()
        if max_bytes and len(body) > max_bytes:
            return None
    status_line = http.get_statuscode() if http is not None else "200"
    date = record.rec_headers.get_header("WARC-Date")
    fetched_at = iso_date_to_datetime(date).replace(tzinfo=UTC) if date else datetime.now(UTC)
    return Exchange(
        url=record.rec_headers.get_header("WARC-Target-URI") or "",
        status=int(status_line) if str(status_line).isdigit() else 0,
        headers=list(http.headers) if http is not None else [],
        body=body,
        fetched_at=fetched_at,
    )


def response_record(exchange: Exchange, digest: str, date: str) -> tuple[str, bytes]:
    """The response record (its id, and its bytes as one gzip member)."""
    writer, buffer = _writer()
    headers = [(k, v) for k, v in exchange.headers if k.lower() not in _WIRE_HEADERS]
    headers.append(("Content-Length", str(len(exchange.body))))
    http = StatusAndHeaders(_status_line(exchange), headers, protocol="HTTP/1.1")
    record = writer.create_warc_record(
        exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
        http_headers=http, warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": digest},
    )  # fmt: skip
    writer.write_record(record)
    return record.rec_headers.get_header("WARC-Record-ID"), _gzip(buffer.getvalue())


def revisit_record(
    exchange: Exchange,
    digest: str,
    date: str,
    refers_to_url: str,
    refers_to_date: str,
    refers_to_id: str,
) -> tuple[str, bytes]:
    """A revisit of a payload archived before (identical-payload-digest profile): the
    response's headers and no payload, pointing at the record that holds it."""
    writer, buffer = _writer()
    headers = [(k, v) for k, v in exchange.headers if k.lower() not in _WIRE_HEADERS]
    http = StatusAndHeaders(_status_line(exchange), headers, protocol="HTTP/1.1")
    record = writer.create_revisit_record(
        exchange.url, digest, refers_to_url, refers_to_date, http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": refers_to_id},
    )  # fmt: skip
    writer.write_record(record)
    return record.rec_headers.get_header("WARC-Record-ID"), _gzip(buffer.getvalue())


def request_record(exchange: Exchange, date: str, response_id: str) -> bytes:
    writer, buffer = _writer()
    target = exchange.url.split("://", 1)[-1]
    path = "/" + target.split("/", 1)[1] if "/" in target else "/"
    http = StatusAndHeaders(
        f"GET {path} HTTP/1.1", list(exchange.request_headers), is_http_request=True
    )
    record = writer.create_warc_record(
        exchange.url, "request", http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id},
    )  # fmt: skip
    writer.write_record(record)
    return _gzip(buffer.getvalue())


def warcinfo_record(name: str) -> bytes:
    writer, buffer = _writer()
    writer.write_record(
        writer.create_warcinfo_record(
            name, {"software": "newsmon", "format": "WARC File Format 1.1"}
        )
    )
    return _gzip(buffer.getvalue())


def _writer() -> tuple[WARCWriter, io.BytesIO]:
    buffer = io.BytesIO()
    return WARCWriter(buffer, gzip=False, warc_version="1.1"), buffer


def _gzip(data: bytes) -> bytes:
    """One gzip member, as warcio's own writer makes per record (but at COMPRESS_LEVEL)."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def _status_line(exchange: Exchange) -> str:
    reason = exchange.reason
    if not reason:
        with contextlib.suppress(ValueError):
            reason = HTTPStatus(exchange.status).phrase
    return f"{exchange.status} {reason}".strip()


def one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:200]
