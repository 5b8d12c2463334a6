"""Pages and feeds for loopback outlets: recorded demo articles, generated ones, RSS and
sitemaps, and an outlet that keeps publishing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from flows.demo.server import DEMO_DIR, load_manifest
from tests.support.server import Response, Site

MANIFEST = load_manifest()


def demo_page(outlet_id: str, index: int = 0) -> bytes:
    outlet = next(o for o in MANIFEST if o.id == outlet_id)
    return (DEMO_DIR / "site" / outlet_id / outlet.articles[index]["file"]).read_bytes()


def rss(origin: str, paths: list[str], titles: list[str] | None = None) -> bytes:
    now = datetime(2025, 7, 8, 12, 0, tzinfo=UTC)
    items = "".join(
        f"<item><title>{(titles or paths)[i]}</title><link>{origin}{p}</link>"
        f"<pubDate>{format_datetime(now - timedelta(hours=i))}</pubDate></item>"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed</title>'
        f"<link>{origin}/</link>{items}</channel></rss>"
    ).encode()


def sitemap(origin: str, paths: list[str]) -> bytes:
    urls = "".join(
        f"<url><loc>{origin}{p}</loc><lastmod>2025-07-0{1 + i % 8}</lastmod></url>"
        for i, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


WORDS = [
    "baku",
    "moscow",
    "ministry",
    "pipeline",
    "corridor",
    "border",
    "talks",
    "delegation",
    "parliament",
    "summit",
    "energy",
    "grain",
    "rail",
    "transit",
    "sanctions",
    "envoy",
    "treaty",
    "customs",
    "migrants",
    "court",
    "election",
    "caspian",
    "airline",
    "tariff",
    "investment",
    "port",
    "harbour",
    "agreement",
    "statement",
    "visit",
    "officials",
    "minister",
    "market",
    "prices",
    "exports",
    "imports",
    "gas",
    "oil",
    "electricity",
    "region",
    "villages",
    "security",
    "patrol",
]


def article(index: int, published: datetime, seed: str = "", title: str | None = None) -> bytes:
    title = title or f"Report number {index} on the corridor"
    rng = random.Random(f"{seed}{index}")
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(6)
    )
    return (
        "<!doctype html><html lang='en'><head>"
        f"<title>{title}</title>"
        f"<meta property='article:published_time' content='{published.isoformat()}'></head>"
        "<body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>© Outlet</footer></body></html>"
    ).encode()


def app_shell(index: int) -> bytes:
    """The same URL after a redesign: the text now arrives by JavaScript, so none is served."""
    return (
        "<!doctype html><html lang='en'><head>"
        f"<title>Report number {index}</title></head><body><nav><a href='/'>Home</a></nav>"
        "<div id='root'>Loading…</div><script src='/static/app.js'></script></body></html>"
    ).encode()


class GrowingOutlet:
    """A feed that gains three new articles before every run; a redesign hits every page."""

    def __init__(self, origin: str = "https://changing.example", delay_s: float = 0.0) -> None:
        self.site = Site(origin)
        self.delay_s = delay_s  # per response: slow enough for concurrent readers to overlap
        self.published: list[datetime] = []
        self.redesigned = False

    def path(self, index: int) -> str:
        return f"/news/2026/report-{index}-on-the-corridor-talks"

    def publish(self, count: int = 3) -> None:
        self.published += [datetime.now(UTC)] * count
        paths = [self.path(i) for i in range(len(self.published))]
        for index, when in enumerate(self.published):
            body = (
                app_shell(index) if self.redesigned else article(index, when, self.site.real_origin)
            )
            self.site.routes[paths[index]] = Response(body, delay_s=self.delay_s)
        self.site.routes["/rss"] = Response(
            rss(self.site.real_origin, paths[::-1][:20]),
            "application/rss+xml",
            delay_s=self.delay_s,
        )
        self.site.routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")
