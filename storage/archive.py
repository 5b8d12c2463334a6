"""The raw archive: every response the fetcher kept, in rotating gzip-compressed WARC files.

Standard WARC 1.1 written with warcio, so any WARC tool (warcio, pywb, CDX indexers) reads it:
a warcinfo record opens each file, each response has its request beside it (WARC-Concurrent-To),
payload and block digests are set, and a payload already archived becomes a revisit record
(identical-payload-digest profile) instead of a second copy. Each record is its own gzip member,
so a (file, offset) pair reads one record without decompressing the file before it. The
records themselves, written and read, are storage/warc.py's; this module keeps the files.

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import datetime_to_iso_date

from extractors.records import ArchiveRef, Page
from storage.warc import (
    ArchiveError,
    Exchange,
    exchange_from,
    one_line,
    payload_digest,
    request_record,
    response_record,
    revisit_record,
    warcinfo_record,
)

__all__ = ["DIGESTS", "Archive", "ArchiveError", "ArchiveSettings", "Exchange", "archive_dir"]

SUFFIX = ".warc.gz"
DIGESTS = "digests.tsv"  # payload digest -> where that payload was first archived


@dataclass(frozen=True)
class ArchiveSettings:
    enabled: bool = True
    max_file_bytes: int = 256 * 1024 * 1024  # a file is closed and a new one begun past this
    max_total_bytes: int = 0  # the oldest files go once the archive is larger; 0 = no bound
    retention_days: float = 0.0  # files older than this go; 0 = kept for good
    max_digests: int = 20_000  # payloads remembered for revisit records (newest kept)


def archive_dir(db_path: Path) -> Path:
    """Where a store's archive lives: beside its database file, named after it."""
    return db_path.with_name(db_path.name + ".warc")


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
            self.error = f"archive {self.directory}: {one_line(exc)}"
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
                revisit_record(
                    exchange, digest, date, original.url, original.date, original.record_id
                )
                if original is not None
                else response_record(exchange, digest, date)
            )
            response_id, response_gz = response
            request_gz = request_record(exchange, date, response_id)
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
        self._file.write(warcinfo_record(name))

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
                    return exchange_from(record)
        except FileNotFoundError:
            raise ArchiveError(f"{ref.file}: no longer in the archive (pruned)") from None
        except (ArchiveLoadFailed, OSError, ValueError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"{ref.file}@{ref.offset}: {one_line(exc)}") from None
        raise ArchiveError(f"{ref.file}@{ref.offset}: no record there")


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _one_field(value: str) -> str:
    return value.replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D")
