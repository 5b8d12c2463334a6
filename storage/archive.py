"""The raw archive: every response the fetcher kept, in rotating gzip-compressed WARC files.

Standard WARC 1.1 written with warcio, so any WARC tool (warcio, pywb, CDX indexers) reads it:
a warcinfo record opens each file, each response has its request beside it (WARC-Concurrent-To),
payload and block digests are set, and a payload already archived becomes a revisit record
(identical-payload-digest profile) instead of a second copy. Each record is its own gzip member,
so a (file, offset) pair reads one record without decompressing the file before it.

It lives in storage/ beside the spool and the story index: it is what newsmon keeps next to its
database (under the same data directory, named after the database file), not a reading of what
outlets serve. The fetcher in extractors/ only sees a callable; it never imports this module.

Files are written by one process each (the name holds the pid), so several processes (a serve
loop and a backfill) never interleave records. A size bound and a retention age remove the
oldest files; rows that pointed into them simply find no record any more.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from extractors.records import ArchiveRef, Page

SUFFIX = ".warc.gz"
DIGESTS = "digests.tsv"  # payload digest -> where that payload was first archived
# zlib level 6: warcio's own writer uses 9, which costs about twice the CPU on HTML for a file
# a few percent smaller, and the archive is written by the ingest process on every response.
COMPRESS_LEVEL = 6
# Headers that describe the bytes on the wire, not the payload as stored: httpx hands over the
# decoded body, so these would make readers decode it a second time or cut it short.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class ArchiveError(Exception):
    """A record that cannot be read (one line): a pruned file, a truncated or foreign file."""


@dataclass(frozen=True)
class ArchiveSettings:
    enabled: bool = True
    max_file_bytes: int = 256 * 1024 * 1024  # a file is closed and a new one begun past this
    max_total_bytes: int = 0  # the oldest files go once the archive is larger; 0 = no bound
    retention_days: float = 0.0  # files older than this go; 0 = kept for good
    max_digests: int = 20_000  # payloads remembered for revisit records (newest kept)


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


def archive_dir(db_path: Path) -> Path:
    """Where a store's archive lives: beside its database file, named after it."""
    return db_path.with_name(db_path.name + ".warc")


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (sha1, base32), as warcio writes and checks it."""
    digester = Digester("sha1")
    digester.update(body)
    return str(digester)


@dataclass(frozen=True)
class _Original:
    ref: ArchiveRef
    url: str
    date: str  # WARC-Date
    record_id: str


class Archive:
    """Appends exchanges to the current file of `directory`; reads any record back by its ref.

    Thread-safe: the fetcher hands responses over from the event loop's worker threads."""

    def __init__(self, directory: Path | str, settings: ArchiveSettings | None = None) -> None:
        self.directory = Path(directory)
        self.settings = settings or ArchiveSettings()
        self._lock = threading.Lock()
        self._file: io.BufferedWriter | None = None
        self._name = ""
        self._serial = 0
        self._digests: OrderedDict[str, _Original] | None = None  # loaded on first write
        self.error: str | None = None  # the last write that failed, for the run's summary

    # -- writing -------------------------------------------------------------------------
    def record(self, page: Page) -> ArchiveRef | None:
        """The fetcher's hook (extractors.http.Recorder). A full disk or a removed directory
        costs the archive, never the run: the failure is kept in `self.error`."""
        exchange = Exchange(
            url=page.final_url, status=page.status or 200, headers=page.response_headers,
            body=page.body, fetched_at=page.fetched_at, request_headers=page.request_headers,
        )  # fmt: skip
        try:
            return self.write(exchange)
        except OSError as exc:
            self.error = f"archive {self.directory}: {_one_line(exc)}"
            return None

    def write(self, exchange: Exchange) -> ArchiveRef:
        """Archive one exchange; returns where its payload can be read back (for a payload
        archived before, the original record: the revisit written now holds no payload)."""
        digest = payload_digest(exchange.body)
        date = datetime_to_iso_date(_naive_utc(exchange.fetched_at), use_micros=True)
        with self._lock:
            digests = self._known_digests()
            original = digests.get(digest)
            if original is not None and not (self.directory / original.ref.file).exists():
                original = None  # pruned since: archive the payload again
            response = (
                _revisit_bytes(exchange, digest, date, original)
                if original is not None
                else _response_bytes(exchange, digest, date)
            )
            response_id, response_gz = response
            request_gz = _request_bytes(exchange, date, response_id)
            self._ensure_file(len(response_gz) + len(request_gz))
            assert self._file is not None
            offset = self._file.tell()
            self._file.write(response_gz + request_gz)
            self._file.flush()
            ref = ArchiveRef(self._name, offset)
            if original is not None:
                digests.move_to_end(digest)
                return original.ref
            digests[digest] = _Original(ref, exchange.url, date, response_id)
            self._remember(digest, digests[digest])
            return ref

    def _ensure_file(self, incoming: int) -> None:
        if self._file is not None and self._file.tell() + incoming <= self.settings.max_file_bytes:
            return
        if self._file is not None:
            self._file.close()
            self._file = None
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prune(datetime.now(UTC), keep=())
        while True:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            name = f"newsmon-{stamp}-{os.getpid()}-{self._serial:05d}{SUFFIX}"
            try:
                self._file = open(self.directory / name, "xb")  # noqa: SIM115 - kept open
                break
            except FileExistsError:
                continue
        self._name = name
        self._file.write(_warcinfo_bytes(name))

    def _known_digests(self) -> OrderedDict[str, _Original]:
        if self._digests is None:
            self._digests = OrderedDict()
            path = self.directory / DIGESTS
            lines = path.read_text("utf-8").splitlines() if path.exists() else []
            present = {p.name for p in self.directory.glob("*" + SUFFIX)}
            for line in lines[-self.settings.max_digests :]:
                parts = line.split("\t")
                if len(parts) != 6 or parts[1] not in present or not parts[2].isdigit():
                    continue  # a torn line, or a pruned file
                digest, name, offset, url, date, record_id = parts
                self._digests[digest] = _Original(
                    ArchiveRef(name, int(offset)), url, date, record_id
                )
                self._digests.move_to_end(digest)
        while len(self._digests) > self.settings.max_digests:
            self._digests.popitem(last=False)
        return self._digests

    def _remember(self, digest: str, original: _Original) -> None:
        line = "\t".join(
            (digest, original.ref.file, str(original.ref.offset), _one_field(original.url),
             original.date, original.record_id)
        )  # fmt: skip
        # One write per line on an O_APPEND file: lines from several processes do not tear.
        fd = os.open(self.directory / DIGESTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- size bound and retention --------------------------------------------------------
    def files(self) -> list[Path]:
        """Archive files, oldest first (the name starts with its creation time)."""
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*" + SUFFIX), key=lambda p: p.name)

    def prune(self, now: datetime, keep: Iterable[str] = ()) -> list[str]:
        """Remove files past the retention age, then the oldest while the archive is larger
        than its bound. The file being written and `keep` stay. Returns the removed names."""
        spare = {self._name, *keep}
        files = [p for p in self.files() if p.name not in spare]
        removed: list[str] = []
        if self.settings.retention_days > 0:
            cutoff = (now - timedelta(days=self.settings.retention_days)).timestamp()
            for path in files:
                if path.stat().st_mtime < cutoff:
                    removed.append(path.name)
        if self.settings.max_total_bytes > 0:
            sizes = {p.name: p.stat().st_size for p in self.files()}
            total = sum(size for name, size in sizes.items() if name not in removed)
            for path in files:
                if total <= self.settings.max_total_bytes:
                    break
                if path.name not in removed:
                    removed.append(path.name)
                    total -= sizes[path.name]
        for name in removed:
            with contextlib.suppress(FileNotFoundError):  # another process pruned it first
                (self.directory / name).unlink()
        if removed and self._digests is not None:
            for digest in [d for d, o in self._digests.items() if o.ref.file in removed]:
                del self._digests[digest]
        return removed

    # -- reading -------------------------------------------------------------------------
    def read(self, ref: ArchiveRef) -> Exchange:
        """The response stored at `ref`; ArchiveError when it is gone or unreadable."""
        path = self.directory / ref.file
        if Path(ref.file).name != ref.file:
            raise ArchiveError(f"not an archive file name: {ref.file!r}")
        try:
            with open(path, "rb") as f:
                f.seek(ref.offset)
                # A ref into the middle of a record can still parse: warcio falls back to the
                # old ARC format, whose header is any line with enough spaces.
                if not f.read(5).startswith((b"\x1f\x8b", b"WARC/")):
                    raise ArchiveError(f"{ref.file}@{ref.offset}: no record starts there")
                f.seek(ref.offset)
                for record in ArchiveIterator(f):
                    if record.rec_type != "response":
                        raise ArchiveError(f"{ref.file}@{ref.offset}: a {record.rec_type} record")
                    return _exchange(record)
        except FileNotFoundError:
            raise ArchiveError(f"{ref.file}: no longer in the archive (pruned)") from None
        except (ArchiveLoadFailed, OSError, ValueError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"{ref.file}@{ref.offset}: {_one_line(exc)}") from None
        raise ArchiveError(f"{ref.file}@{ref.offset}: no record there")


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
                        yield _exchange(record, body)
                    continue
                exchange = _exchange(record, max_bytes=max_bytes)
                if exchange is None:
                    continue
                digest = record.rec_headers.get_header("WARC-Payload-Digest")
                if digest:
                    payloads[digest] = exchange.body
                yield exchange
    except (ArchiveLoadFailed, ValueError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{path.name}: {_one_line(exc)}") from None


def _exchange(record, body: bytes | None = None, max_bytes: int = 0):  # noqa: ANN001, ANN202
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


def _response_bytes(exchange: Exchange, digest: str, date: str) -> tuple[str, bytes]:
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


def _revisit_bytes(
    exchange: Exchange, digest: str, date: str, original: _Original
) -> tuple[str, bytes]:
    writer, buffer = _writer()
    headers = [(k, v) for k, v in exchange.headers if k.lower() not in _WIRE_HEADERS]
    http = StatusAndHeaders(_status_line(exchange), headers, protocol="HTTP/1.1")
    record = writer.create_revisit_record(
        exchange.url, digest, original.url, original.date, http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": original.record_id},
    )  # fmt: skip
    writer.write_record(record)
    return record.rec_headers.get_header("WARC-Record-ID"), _gzip(buffer.getvalue())


def _request_bytes(exchange: Exchange, date: str, response_id: str) -> bytes:
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


def _warcinfo_bytes(name: str) -> bytes:
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


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _one_field(value: str) -> str:
    return value.replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D")


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:200]
