"""The benchmark's loopback site (served from a process of its own) and newsmon's pass over
it, shared by the throughput and memory modes of benchmarks/pipeline_bench.py, whose docstring
describes the site."""

from __future__ import annotations

import asyncio
import gzip
import multiprocessing
import os
import time
from pathlib import Path


def corpus_pages(corpora: Path | None, count: int) -> tuple[list[bytes], str]:
    pages: list[bytes] = []
    source = "generated from the demo snapshots"
    folder = corpora / "trafilatura-eval" if corpora else None
    if folder and folder.is_dir():
        for path in sorted(folder.glob("*/*.html.gz")):
            pages.append(gzip.decompress(path.read_bytes()))
        source = f"{len(pages)} trafilatura-eval pages from {folder}"
    if not pages:
        from flows.demo.server import DEMO_DIR, load_manifest

        for outlet in load_manifest():
            for article in outlet.articles:
                pages.append((DEMO_DIR / "site" / outlet.id / article["file"]).read_bytes())
    return [_variant(pages[i % len(pages)], i, i // len(pages)) for i in range(count)], source


def _variant(page: bytes, i: int, cycle: int) -> bytes:
    """Cycle to the requested size. A marker comment keeps bodies distinct for the HTTP layer;
    after the first cycle a marker in every paragraph makes the text distinct too, so the page
    is stored as an article of its own (a near copy in the same story) instead of an alias."""
    if cycle:
        page = page.replace(b"</p>", f" (copy {cycle})</p>".encode())
    return page + f"<!-- {i} -->".encode()


def write_site(pages: list[bytes], root: Path, origin: str) -> None:
    (root / "p").mkdir(parents=True)
    for i, body in enumerate(pages):
        (root / "p" / f"article-number-{i:05d}.html").write_bytes(body)
    links = [f"{origin}/news/article-number-{i:05d}" for i in range(len(pages))]
    items = "".join(f"<item><title>Article {i}</title><link>{u}</link></item>" for i, u in enumerate(links))  # fmt: skip
    (root / "rss.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>{items}</channel></rss>'
    )
    urls = "".join(f"<url><loc>{u}</loc></url>" for u in links)
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )


def site_routes(root: Path) -> dict[str, tuple[bytes, str]]:
    routes = {
        f"/news/{path.stem}": (path.read_bytes(), "text/html; charset=utf-8")
        for path in sorted(root.glob("p/*.html"))
    }
    routes["/rss"] = ((root / "rss.xml").read_bytes(), "application/rss+xml")
    routes["/sitemap.xml"] = ((root / "sitemap.xml").read_bytes(), "application/xml")
    routes["/robots.txt"] = (b"User-agent: *\nAllow: /\n", "text/plain")
    return routes


def _serve_demo(directory: str, port: int, ready: multiprocessing.Queue) -> None:
    from tests.support.server import Response, Site, SiteServer

    site = Site("https://bench.example")
    for path, (body, content_type) in site_routes(Path(directory)).items():
        site.routes[path] = Response(body, content_type, rewrite=False)
    SiteServer([site], ports=[port]).start()
    ready.put(site.url)
    while True:
        time.sleep(3600)


def _serve_static(directory: str, port: int, ready: multiprocessing.Queue) -> None:
    """HTTP/1.1 with keep-alive from pre-built responses: status line, Content-Type,
    Content-Length, ETag and Last-Modified; 304 when If-None-Match (or, without it,
    If-Modified-Since) matches; 404 for unknown paths. Little CPU per request."""
    import hashlib
    from email.utils import formatdate

    last_modified = formatdate(time.time() - 3600, usegmt=True)
    routes: dict[str, tuple[bytes, bytes, str, bytes]] = {}
    for path, (body, content_type) in site_routes(Path(directory)).items():
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"ETag: {etag}\r\nLast-Modified: {last_modified}\r\n\r\n"
        ).encode()
        not_modified = f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n"
        routes[path] = (head, head + body, etag, not_modified.encode())
    missing = (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target, _ = request[0].split(" ", 2)
                headers = {}
                for line in request[1:]:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                route = routes.get(target)
                if route is None:
                    writer.write(missing)
                else:
                    head, full, etag, not_modified = route
                    match = headers.get("if-none-match")
                    if match == etag or (
                        match is None and headers.get("if-modified-since") == last_modified
                    ):
                        writer.write(not_modified)
                    else:
                        writer.write(head if method == "HEAD" else full)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        ready.put(f"http://127.0.0.1:{port}")
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


SERVERS = {"static": _serve_static, "demo": _serve_demo}


def start_server(
    pages: list[bytes], tmp: Path, kind: str = "static"
) -> tuple[multiprocessing.Process, str]:
    """The site in its own process, so serving does not share this process's GIL."""
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    write_site(pages, tmp, f"http://127.0.0.1:{port}")
    ctx = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue = ctx.Queue()
    proc = ctx.Process(target=SERVERS[kind], args=(str(tmp), port, ready), daemon=True)
    proc.start()
    return proc, ready.get(timeout=120)


def newsmon_pass(config: Path, db: Path) -> dict:
    from flows.config import load
    from flows.ingest import run_pass

    started = time.perf_counter()
    summary = asyncio.run(run_pass(load(config), db))
    elapsed = time.perf_counter() - started
    report = summary.reports[0] if summary.reports else None
    return {
        "seconds": elapsed,
        "fetched": report.fetched if report else 0, "stored": report.stored if report else 0,
        "skipped": report.skipped if report else 0, "failed": report.failed if report else 0,
    }  # fmt: skip


def bench_config(tmp: Path, origin: str, pages: int) -> Path:
    config = tmp / "bench.toml"
    config.write_text(
        f'[settings]\nworkers = 0\n[[outlet]]\nid = "bench"\nname = "Bench"\nhomepage = "{origin}/"\n'
        f'language = "en"\nfeeds = ["/rss"]\nsitemaps = ["/sitemap.xml"]\nmin_delay_s = 0\n'
        f"max_articles = {pages}\narticle_pattern = '^/news/'\n"
    )
    return config


def setup_env() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
