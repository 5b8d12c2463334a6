"""Response bodies to bytes and text, with a bound on what any encoding may inflate to.

httpx undoes Content-Encoding without a limit: `Content-Encoding: gzip, gzip` turns 19 KB on the
wire into gigabytes before a size check downstream can see them. Here each layer is undone
incrementally with zlib's `max_length`, so no layer ever produces more than the limit.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from charset_normalizer import from_bytes

MAX_LAYERS = 2  # "gzip, gzip" is seen in the wild (a proxy compressing again); three is not
_GZIP = 16 + zlib.MAX_WBITS
_STEP = 1 << 20  # decoded bytes per zlib call: no single allocation grows with the bomb
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding=["']([\w-]+)""", re.I)


class TooLarge(Exception):
    pass


class BadEncoding(Exception):
    pass


class _Layer:
    """One content coding (gzip or deflate), undone piece by piece within a budget."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding, self.limit, self.produced, self.fed = coding, limit, 0, False
        self._raw_deflate = False  # "deflate" is meant to be zlib-wrapped; some servers send raw
        self._d = self._new()
        self._garbage_after_end = False  # a new member just started after a complete one

    def _new(self) -> zlib._Decompress:
        if self.coding != "deflate":
            return zlib.decompressobj(_GZIP)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of `data`, each at most _STEP bytes, as they come."""
        self.fed |= bool(data)
        held = False  # zlib may hold back output of input it already took
        while data or held:
            budget = self.limit - self.produced
            step = min(budget + 1, _STEP)
            try:
                piece = self._d.decompress(data, step)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._raw_deflate and not self.produced:
                    self._raw_deflate = True
                    self._d = self._new()
                    continue
                if self._garbage_after_end:
                    break  # bytes after the last member: browsers ignore them, so do we
                raise BadEncoding(f"corrupt {self.coding} body: {exc}") from None
            if len(piece) > budget:
                raise TooLarge(f"body exceeds limit of {self.limit} bytes once decompressed")
            self.produced += len(piece)
            if piece:
                yield piece
            self._garbage_after_end = False
            # A full step may leave input untaken, or output zlib has not given yet (a match
            # that runs past the step): ask again, with an empty input for the latter.
            held = len(piece) == step and not self._d.eof
            if self._d.unconsumed_tail or held:
                data = self._d.unconsumed_tail
                continue
            # What is left after the end of a stream is the next gzip member (concatenated
            # members are valid gzip).
            data = self._d.unused_data if self._d.eof else b""
            if data:
                self._d, self._garbage_after_end = self._new(), True

    def finish(self) -> None:
        if self.fed and not self._d.eof and not self._garbage_after_end:
            raise BadEncoding(f"{self.coding} body ends early (truncated)")


class BoundedDecoder:
    """Undo a response's Content-Encoding layers; the decoded total never exceeds `limit`."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > MAX_LAYERS:
            raise BadEncoding(f"{len(codings)} content encodings (at most {MAX_LAYERS} accepted)")
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise BadEncoding(f"unsupported content encoding {coding[:40]}")
        # The coding listed last was applied last: it is undone first.
        self._layers = [_Layer("deflate" if c == "deflate" else "gzip", limit) for c in codings]
        self.limit, self.size = limit, 0

    def feed(self, raw: bytes) -> bytes:
        return self._count(b"".join(self._through(len(self._layers), raw)))

    def finish(self) -> bytes:
        """After the last raw bytes: BadEncoding when a layer's stream ended early. (Every
        piece is already out: each call to zlib gave all the output its input had.)"""
        for layer in reversed(self._layers):
            layer.finish()
        return b""

    def _through(self, depth: int, data: bytes) -> Iterator[bytes]:
        """`data` through the outer `depth` layers, one piece at a time: an inner layer takes
        each piece of the outer one as it comes, so no layer's whole output is ever held."""
        if depth == 0:
            if data:
                yield data
            return
        for piece in self._layers[depth - 1].pieces(data):
            yield from self._through(depth - 1, piece)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(f"body exceeds limit of {self.limit} bytes")
        return data


def gunzip(body: bytes, limit: int) -> bytes:
    """A .gz file (a sitemap), bounded like a response body."""
    decoder = BoundedDecoder("gzip", limit)
    return decoder.feed(body) + decoder.finish()


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
