"""The raw archive: WARC files that warcio's own reader and checker accept."""

from __future__ import annotations

import gzip
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from extractors.records import ArchiveRef
from storage.archive import DIGESTS, Archive, ArchiveSettings
from storage.warc import ArchiveError, Exchange, payload_digest, read_responses

WHEN = datetime(2025, 7, 8, 12, 30, 15, 123456, tzinfo=UTC)


def exchange(url: str, body: bytes, when: datetime = WHEN, **kw: object) -> Exchange:
    fields: dict[str, object] = dict(
        url=url,
        status=200,
        headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),  # the wire's, not the stored payload's
            ("Content-Length", "3"),
            ("ETag", '"v1"'),
        ],
        body=body,
        fetched_at=when,
        request_headers=[("Host", "example.org"), ("User-Agent", "newsmon-test")],
    )
    fields.update(kw)
    return Exchange(**fields)  # type: ignore[arg-type]


def records(path: Path) -> list:
    with open(path, "rb") as f:
        out = []
        for record in ArchiveIterator(f, check_digests=True):
            body = record.content_stream().read()
            out.append((record, body, record.digest_checker.passed))
        return out


class _Args:
    def __init__(self, inputs: list[str]) -> None:
        self.inputs, self.verbose = inputs, False


def test_records_are_standard_warc_read_back_by_warcio(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "warc")
    page = "<html><body><p>Grüße aus Baku</p></body></html>".encode()
    ref = archive.write(exchange("https://example.org/news/a", page))
    archive.close()
    (path,) = archive.files()
    assert ref.file == path.name
    found = records(path)
    types = [r.rec_type for r, _, _ in found]
    assert types == ["warcinfo", "response", "request"]
    response, body, passed = found[1]
    assert body == page
    assert passed is True  # payload and block digests as warcio computes them
    assert response.rec_headers.get_header("WARC-Target-URI") == "https://example.org/news/a"
    assert response.rec_headers.get_header("WARC-Date") == "2025-07-08T12:30:15.123456Z"
    assert response.rec_headers.get_header("WARC-Payload-Digest") == payload_digest(page)
    assert response.http_headers.get_statuscode() == "200"
    assert response.http_headers.get_header("ETag") == '"v1"'
    assert response.http_headers.get_header("Content-Encoding") is None
    assert response.http_headers.get_header("Content-Length") == str(len(page))
    request = found[2][0]
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.get_header("User-Agent") == "newsmon-test"
    assert Checker(_Args([str(path)])).process_all() == 0


def test_every_record_is_its_own_gzip_member_and_a_ref_reads_one_record(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    bodies = [f"<html><p>page {i} {'x' * i}</p></html>".encode() for i in range(5)]
    refs = [archive.write(exchange(f"https://example.org/{i}", b)) for i, b in enumerate(bodies)]
    for ref, body in zip(reversed(refs), reversed(bodies), strict=True):
        got = archive.read(ref)
        assert got.body == body
        assert got.fetched_at == WHEN
        assert got.status == 200
        assert got.content_type == "text/html; charset=utf-8"
    (path,) = archive.files()
    with open(path, "rb") as f:
        f.seek(refs[2].offset)
        assert gzip.GzipFile(fileobj=io.BytesIO(f.read(200))).read(9) == b"WARC/1.1\r"


def test_identical_payload_becomes_a_revisit_pointing_at_the_original(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    body = b"<html><p>unchanged sitemap</p></html>"
    first = archive.write(exchange("https://example.org/sitemap.xml", body))
    later = WHEN + timedelta(hours=1)
    second = archive.write(exchange("https://example.org/sitemap.xml", body, later))
    changed = archive.write(exchange("https://example.org/sitemap.xml", body + b" ", later))
    archive.close()
    assert second == first  # the payload is read from the original record
    assert changed != first
    found = records(archive.files()[0])
    kinds = [r.rec_type for r, _, _ in found]
    assert kinds == ["warcinfo", "response", "request", "revisit", "request", "response", "request"]
    original, revisit = found[1][0], found[3][0]
    assert found[3][1] == b""  # no payload repeated
    assert revisit.rec_headers.get_header("WARC-Refers-To") == original.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert revisit.rec_headers.get_header("WARC-Refers-To-Date") == original.rec_headers.get_header(
        "WARC-Date"
    )
    assert revisit.rec_headers.get_header("WARC-Refers-To-Target-URI") == (
        "https://example.org/sitemap.xml"
    )
    assert "identical-payload-digest" in revisit.rec_headers.get_header("WARC-Profile")
    assert Checker(_Args([str(archive.files()[0])])).process_all() == 0


def test_a_later_process_still_writes_revisits(tmp_path: Path) -> None:
    body = b"<html><p>same</p></html>"
    one = Archive(tmp_path)
    ref = one.write(exchange("https://example.org/a", body))
    one.close()
    two = Archive(tmp_path)
    assert two.write(exchange("https://example.org/a", body)) == ref
    two.close()
    assert len(two.files()) == 2
    kinds = [r.rec_type for r, _, _ in records(two.files()[1])]
    assert kinds == ["warcinfo", "revisit", "request"]


def test_files_rotate_at_the_size_bound(tmp_path: Path) -> None:
    archive = Archive(tmp_path, ArchiveSettings(max_file_bytes=3000))
    refs = [archive.write(exchange(f"https://e.org/{i}", os.urandom(1200))) for i in range(6)]
    archive.close()
    files = archive.files()
    assert len(files) >= 3
    assert all(p.stat().st_size <= 3000 or len(records(p)) == 3 for p in files)
    assert {r.file for r in refs} == {p.name for p in files}
    for p in files:
        assert Checker(_Args([str(p)])).process_all() == 0
        assert records(p)[0][0].rec_type == "warcinfo"


def test_total_size_bound_and_retention_remove_the_oldest_files(tmp_path: Path) -> None:
    archive = Archive(tmp_path, ArchiveSettings(max_file_bytes=2000, max_total_bytes=7000))
    refs = [archive.write(exchange(f"https://e.org/{i}", os.urandom(1500))) for i in range(10)]
    archive.close()
    total = sum(p.stat().st_size for p in archive.files())
    assert total <= 7000 + 2000  # the file being written may take the archive past it
    with pytest.raises(ArchiveError, match="no longer in the archive"):
        archive.read(refs[0])
    assert archive.read(refs[-1]).url == "https://e.org/9"

    aging = Archive(tmp_path / "aging", ArchiveSettings(max_file_bytes=2000, retention_days=30))
    old = aging.write(exchange("https://e.org/old", os.urandom(1500)))
    new = aging.write(exchange("https://e.org/new", os.urandom(1500)))
    aging.close()
    month_ago = time.time() - 40 * 86400
    os.utime(aging.directory / old.file, (month_ago, month_ago))
    assert aging.prune(datetime.now(UTC)) == [old.file]
    assert aging.read(new).url == "https://e.org/new"


def test_a_pruned_payload_is_archived_again_not_revisited(tmp_path: Path) -> None:
    archive = Archive(tmp_path, ArchiveSettings(max_file_bytes=1500))
    body = os.urandom(1200)
    first = archive.write(exchange("https://e.org/a", body))
    archive.write(exchange("https://e.org/b", os.urandom(1200)))  # rotates
    (tmp_path / first.file).unlink()
    again = archive.write(exchange("https://e.org/a", body))
    assert again != first
    assert archive.read(again).body == body


def test_read_responses_yields_responses_and_resolves_revisits(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.write(exchange("https://example.org/a", b"<p>one</p>"))
    archive.write(exchange("https://example.org/b", b"<p>two</p>"))
    archive.write(exchange("https://example.org/a2", b"<p>one</p>"))  # a revisit
    archive.close()
    got = [(e.url, e.body) for e in read_responses(archive.files()[0])]
    assert got == [
        ("https://example.org/a", b"<p>one</p>"),
        ("https://example.org/b", b"<p>two</p>"),
        ("https://example.org/a2", b"<p>one</p>"),
    ]


def test_hostile_refs_and_files_fail_with_one_line(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    ref = archive.write(exchange("https://e.org/a", b"<p>x</p>"))
    archive.close()
    with pytest.raises(ArchiveError, match="not an archive file name"):
        archive.read(ArchiveRef("../../etc/passwd", 0))
    for delta in range(1, 64):  # every offset inside the record's gzip header and data
        with pytest.raises(ArchiveError):
            archive.read(ArchiveRef(ref.file, ref.offset + delta))
    # What a ref into the middle of a record may meet: a line warcio takes for an ARC header.
    arc_like = tmp_path / "arc-like.warc"
    arc_like.write_bytes(b"http://e.org/x 10.0.0.1 20260101000000 text/html 9\n<p>x</p>\n\n")
    with pytest.raises(ArchiveError, match="no record starts there"):
        archive.read(ArchiveRef(arc_like.name, 0))
    with pytest.raises(ArchiveError, match="a request record|a warcinfo record"):
        archive.read(ArchiveRef(ref.file, 0))
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ArchiveError):
        list(read_responses(junk))
    # A torn line in the digest file (a crash mid-write) is skipped, not fatal.
    with open(tmp_path / DIGESTS, "a", encoding="utf-8") as f:
        f.write("sha1:TORN\tnewsmon-x")
    again = Archive(tmp_path)
    assert again.write(exchange("https://e.org/a", b"<p>x</p>")) == ref
