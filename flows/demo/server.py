"""A loopback HTTP server for recorded sites: the offline demo, tests and benchmarks.

Each site gets its own port on 127.0.0.1. Pages are stored with their real absolute URLs;
the server rewrites every known origin to its loopback address while serving, as a mirror
would. Conditional GET (ETag / Last-Modified) works like on a real server.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEMO_DIR = Path(__file__).parent
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/x-gzip",
}


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


class Site:
    """One origin's routes, served on its own loopback port."""

    def __init__(self, real_origin: str, routes: dict[str, Route] | None = None) -> None:
        self.real_origin = real_origin.rstrip("/")
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._rewrites: list[tuple[bytes, bytes]] = []
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)

    @property
    def port(self) -> int:
        assert self._server is not None, "site not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def respond(self, path: str) -> Response:
        route = self.routes.get(path)
        if route is None:
            return Response(b"<html><body><h1>Not Found</h1></body></html>", status=404)
        return route() if callable(route) else route

    def rewrite(self, body: bytes) -> bytes:
        for real, local in self._rewrites:
            body = body.replace(real, local)
        return body


class SiteServer:
    """Several sites at once, rewriting each one's origin in all of them."""

    def __init__(self, sites: list[Site], ports: list[int] | None = None) -> None:
        self.sites = sites
        self.ports = ports or [0] * len(sites)
        self._started = False

    def __enter__(self) -> SiteServer:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            for site, port in zip(self.sites, self.ports, strict=True):
                site.start(port)
        except OSError:
            self.stop()
            raise
        self._started = True
        rewrites: list[tuple[bytes, bytes]] = []
        for site in self.sites:
            real = site.real_origin.encode()
            local = site.url.encode()
            rewrites.append((real, local))
            # Also the other scheme and the www-less/www form, as pages mix them.
            scheme, _, host = site.real_origin.partition("://")
            other = "http" if scheme == "https" else "https"
            rewrites.append((f"{other}://{host}".encode(), local))
            alt = host[4:] if host.startswith("www.") else f"www.{host}"
            rewrites.append((f"https://{alt}".encode(), local))
            rewrites.append((f"http://{alt}".encode(), local))
        for site in self.sites:
            site._rewrites = rewrites

    def stop(self) -> None:
        for site in self.sites:
            site.stop()

    def site(self, real_origin: str) -> Site:
        for site in self.sites:
            if site.real_origin == real_origin.rstrip("/"):
                return site
        raise KeyError(real_origin)


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
            body = site.rewrite(response.body) if response.rewrite else response.body
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if response.status == 200 and (
                self.headers.get("If-None-Match") == etag
                or (
                    self.headers.get("If-Modified-Since") == site.last_modified
                    and "If-None-Match" not in self.headers
                )
            ):
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


@dataclass(frozen=True)
class DemoOutlet:
    id: str
    name: str
    origin: str
    language: str
    feeds: list[str]
    sitemaps: list[str]
    sections: list[dict[str, object]]
    article_pattern: str
    articles: list[dict[str, object]]


def load_manifest(path: Path = DEMO_DIR / "manifest.toml") -> list[DemoOutlet]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        DemoOutlet(
            id=o["id"], name=o["name"], origin=o["origin"], language=o["language"],
            feeds=o.get("feeds", []), sitemaps=o.get("sitemaps", []),
            sections=o.get("sections", []), article_pattern=o["article_pattern"],
            articles=o.get("article", []),
        )
        for o in data["outlet"]
    ]  # fmt: skip


def demo_sites(
    site_dir: Path = DEMO_DIR / "site", manifest: Path = DEMO_DIR / "manifest.toml"
) -> list[Site]:
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    sites = []
    for outlet in data["outlet"]:
        routes: dict[str, Route] = {}
        for path, filename in outlet["routes"].items():
            file = site_dir / outlet["id"] / filename
            content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            if (
                filename.endswith(("feed.xml", "rss.xml"))
                or "/feed" in path
                or path.endswith("/rss")
            ):
                content_type = "application/rss+xml; charset=utf-8"
            routes[path] = Response(file.read_bytes(), content_type)
        sites.append(Site(outlet["origin"], routes))
    return sites


def demo_config(server: SiteServer, outlets: list[DemoOutlet]) -> str:
    """newsmon.toml text for the demo outlets on their loopback ports."""
    lines = ["# Generated by `newsmon demo`: the recorded outlets served on loopback.", ""]
    for o in outlets:
        site = server.site(o.origin)
        sections = ", ".join(
            f'{{ url = "{s["path"]}", pages = {s.get("pages", 1)} }}' for s in o.sections
        )
        lines += [
            "[[outlet]]",
            f'id = "{o.id}"',
            f'name = "{o.name}"',
            f'homepage = "{site.url}/"',
            f'language = "{o.language}"',
            f"feeds = {o.feeds!r}".replace("'", '"'),
            f"sitemaps = {o.sitemaps!r}".replace("'", '"'),
            f"sections = [{sections}]",
            f"article_pattern = '{o.article_pattern}'",
            "min_delay_s = 0",
            "",
        ]
    return "\n".join(lines)
