"""Misbehaving HTTP servers for the hostile-site tests: each route writes its answer byte by byte
as it likes (trickling, lying about lengths, nesting compression, redirecting anywhere).

A server binds any local address, so inside a network namespace (tests/support/netns.py) it can stand
for a public host (11.0.0.1), a private one (10.0.0.5) or the metadata service (169.254.169.254).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Handler = Callable[[BaseHTTPRequestHandler], None]
FIXTURES = Path(__file__).parent.parent / "fixtures"
HTML = b"<html><head><title>Story</title></head><body><p>Text of the story.</p></body></html>"


class HostileServer:
    """One origin on `host` whose routes are functions writing the raw response."""

    def __init__(self, routes: dict[str, Handler], host: str = "127.0.0.1", port: int = 0):
        self.routes = routes
        self.requests: list[str] = []
        self.events: list[str] = []  # what the routes noted, in order (ordering evidence)
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if route is None:
                        respond(self, b"not found", status=404, content_type="text/plain")
                    else:
                        route(self)

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def respond(
    h: BaseHTTPRequestHandler,
    body: bytes,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        h.send_header(key, value)
    if "Content-Length" not in (headers or {}):
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def page(body: bytes = HTML, status: int = 200, content_type: str | None = "text/html",
         headers: dict[str, str] | None = None) -> Handler:  # fmt: skip
    return lambda h: respond(h, body, status, content_type, headers)


def redirect(location: str, status: int = 302) -> Handler:
    return lambda h: respond(h, b"", status, None, {"Location": location})


def trickle(server: HostileServer, body: bytes, every_s: float) -> Handler:
    """Headers at once, then one byte every `every_s`. Notes in `server.events` how many bytes
    went out before the client hung up ("hung up after N") or that all did ("sent all")."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        for sent in range(len(body)):
            try:
                h.wfile.write(body[sent : sent + 1])
                h.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                server.events.append(f"hung up after {sent}")
                return
            time.sleep(every_s)
        server.events.append("sent all")

    return route


def robots_txt(text: str) -> Handler:
    return page(text.encode(), content_type="text/plain")


# `Content-Encoding: gzip, gzip` over 8 GiB of zeros: one gzip member inside another (single
# members, so that a decoder stopping after the first member still meets the bomb). Made by
# compressing 8192 MiB of zeros with zlib level 9 (gzip wrapper), then gzip level 9 over that.
GZIP_GZIP_8GIB = FIXTURES / "bomb-gzip-gzip-8gib.bin"


def unused_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
