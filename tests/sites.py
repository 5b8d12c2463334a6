"""Loopback sites for integration tests, built from the recorded demo pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from flows.demo.server import DEMO_DIR, Response, Site, load_manifest

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


def config_text(*outlets: str, settings: str = "") -> str:
    base = "[settings]\nretries = 1\nbackoff_base_s = 0.05\nread_timeout_s = 2\nconnect_timeout_s = 2\nworkers = 2\n"
    return base + settings + "\n" + "\n".join(outlets)


def outlet_toml(outlet_id: str, site: Site | str, **kw: object) -> str:
    homepage = site if isinstance(site, str) else site.url + "/"
    lines = [
        "[[outlet]]",
        f'id = "{outlet_id}"',
        f'name = "{outlet_id.title()}"',
        f'homepage = "{homepage}"',
        'language = "en"',
        "min_delay_s = 0",
    ]
    for key, value in kw.items():
        if isinstance(value, str):
            lines.append(f"{key} = '{value}'")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


__all__ = [
    "Response",
    "Site",
    "config_text",
    "demo_page",
    "outlet_toml",
    "rss",
    "sitemap",
    "write_config",
]
