"""A loopback mirror of the recorded demo sites, for `newsmon demo`.

Each site gets its own port on 127.0.0.1. Pages are stored with their real absolute URLs; the
mirror rewrites every known origin to its loopback address while serving, and answers
conditional GETs (ETag / Last-Modified) with 304 as a real server does, so a second demo run
shows what an unchanged outlet costs. The programmable servers the tests use (delays, resets,
statuses) live in tests/support, built on the two helpers at the end of this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
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
NOT_FOUND = b"<html><body><h1>Not Found</h1></body></html>"


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str


class Site:
    """One recorded origin's pages, served on its own loopback port."""

    def __init__(self, real_origin: str, pages: dict[str, Page] | None = None) -> None:
        self.real_origin = real_origin.rstrip("/")
        self.pages = dict(pages or {})
        self.rewrites: list[tuple[bytes, bytes]] = []
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "site not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self.handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


class SiteServer:
    """The recorded sites at once, each one's origin rewritten in all of them."""

    def __init__(self, sites: list[Site], ports: list[int] | None = None) -> None:
        self.sites = sites
        self.ports = ports or [0] * len(sites)
        self._started = False

    def __enter__(self) -> SiteServer:
        if not self._started:  # `newsmon demo` starts it first, to report a taken port
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
        rewrites = origin_rewrites([(s.real_origin, s.url) for s in self.sites])
        for site in self.sites:
            site.rewrites = rewrites

    def stop(self) -> None:
        for site in self.sites:
            site.stop()

    def urls(self) -> dict[str, str]:
        """Real origin -> where it is served."""
        return {site.real_origin: site.url for site in self.sites}


def _handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            page = site.pages.get(self.path)
            if page is None:
                self._send(404, NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"})
                return
            body = rewrite(page.body, site.rewrites)
            etag = etag_of(body)
            if not_modified(self.headers, etag, site.last_modified):
                self._send(304, b"", {"ETag": etag})
                return
            headers = {"Content-Type": page.content_type, "ETag": etag}
            self._send(200, body, {**headers, "Last-Modified": site.last_modified})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
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
        pages: dict[str, Page] = {}
        for path, filename in outlet["routes"].items():
            file = site_dir / outlet["id"] / filename
            content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            if (
                filename.endswith(("feed.xml", "rss.xml"))
                or "/feed" in path
                or path.endswith("/rss")
            ):
                content_type = "application/rss+xml; charset=utf-8"
            pages[path] = Page(file.read_bytes(), content_type)
        sites.append(Site(outlet["origin"], pages))
    return sites


def demo_config(urls: dict[str, str], outlets: list[DemoOutlet]) -> str:
    """newsmon.toml text for the demo outlets; `urls` maps each real origin to where it is
    served on loopback."""
    lines = ["# Generated by `newsmon demo`: the recorded outlets served on loopback.", ""]
    for o in outlets:
        url = urls[o.origin.rstrip("/")]
        sections = ", ".join(
            f'{{ url = "{s["path"]}", pages = {s.get("pages", 1)} }}' for s in o.sections
        )
        lines += [
            "[[outlet]]",
            f'id = "{o.id}"',
            f'name = "{o.name}"',
            f'homepage = "{url}/"',
            f'language = "{o.language}"',
            f"feeds = {o.feeds!r}".replace("'", '"'),
            f"sitemaps = {o.sitemaps!r}".replace("'", '"'),
            f"sections = [{sections}]",
            f"article_pattern = '{o.article_pattern}'",
            "min_delay_s = 0",
            "",
        ]
    return "\n".join(lines)


# -- shared with the test servers (tests/support) -------------------------------------------
def origin_rewrites(origins: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """(real origin, loopback URL) pairs -> byte replacements, covering the other scheme and
    the www/www-less host too, as pages mix them."""
    rewrites: list[tuple[bytes, bytes]] = []
    for real_origin, url in origins:
        local = url.encode()
        scheme, _, host = real_origin.partition("://")
        other = "http" if scheme == "https" else "https"
        alt = host[4:] if host.startswith("www.") else f"www.{host}"
        for origin in (real_origin, f"{other}://{host}", f"https://{alt}", f"http://{alt}"):
            rewrites.append((origin.encode(), local))
    return rewrites


def rewrite(body: bytes, rewrites: list[tuple[bytes, bytes]]) -> bytes:
    for real, local in rewrites:
        body = body.replace(real, local)
    return body


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def not_modified(request: Mapping[str, str], etag: str, last_modified: str) -> bool:
    """A conditional GET that the page has not changed since (If-None-Match wins)."""
    if "If-None-Match" in request:
        return request["If-None-Match"] == etag
    return request.get("If-Modified-Since") == last_modified
