"""Programmable loopback HTTP servers for tests and benchmarks: sites whose routes answer with
any status, headers, delay or a connection reset, and a webhook receiver.

Built on the demo's mirror (flows/demo/server.py: a port per origin, every origin rewritten in
all pages, conditional GET) rather than on a test-server library: tests need the raw socket (a
reset is a close with SO_LINGER 0) and the same origin rewriting as the demo.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flows.demo import server as demo
from flows.demo.server import NOT_FOUND, demo_sites, etag_of, not_modified, rewrite


@dataclass
class Response:
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before the status line: exercises read timeouts
    reset: bool = False  # drop the connection without answering
    rewrite: bool = True  # rewrite real origins to loopback ones


Route = Response | Callable[[], Response]


class Site(demo.Site):
    """One origin's routes, served on its own loopback port; `requests` lists the paths asked
    for, in order."""

    def __init__(self, real_origin: str, routes: dict[str, Route] | None = None) -> None:
        super().__init__(real_origin)
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[str] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def respond(self, path: str) -> Response:
        route = self.routes.get(path)
        if route is None:
            return Response(NOT_FOUND, status=404)
        return route() if callable(route) else route


SiteServer = demo.SiteServer


def free_port_block(count: int, first: int | None = None) -> int:
    """The first of `count` consecutive free loopback ports (a demo takes three in a row).

    The search starts at a random block: two test processes that both start at the same port
    would both find it free and then collide when the second one binds."""
    if first is None:
        first = random.randrange(20000, 30000, 10)
    for base in range(first, first + 1000, 10):
        sockets: list[socket.socket] = []
        try:
            for i in range(count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} free ports from {first}")


def recorded_sites() -> list[Site]:
    """The demo's recorded sites (flows/demo), served by test sites that log their requests."""
    return [
        Site(s.real_origin, {path: Response(p.body, p.content_type) for path, p in s.pages.items()})
        for s in demo_sites()
    ]


def _handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            site.requests.append(self.path)
            response = site.respond(self.path)
            if response.reset:
                # SO_LINGER 0 makes close() send RST: a connection reset, as flaky servers do.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            if response.delay_s:
                time.sleep(response.delay_s)
            body = rewrite(response.body, site.rewrites) if response.rewrite else response.body
            etag = etag_of(body)
            if response.status == 200 and not_modified(self.headers, etag, site.last_modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            if response.status == 200:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", site.last_modified)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if "Content-Length" not in response.headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler


class Receiver:
    """A JSON webhook endpoint on loopback that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        messages = self.messages

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                messages.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
