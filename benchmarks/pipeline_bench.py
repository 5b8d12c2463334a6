"""End-to-end throughput against the extraction limit and a naive baseline, in one run.

    python -m benchmarks.pipeline_bench [--pages 2000] [--corpora ../shared/corpora]

A loopback server in its own process serves N real article pages (trafilatura-eval pages from
../shared/corpora when present, else pages generated from the demo snapshots) with an RSS feed
and a sitemap. Measured in the same run:
  - limit: trafilatura bare_extraction over the same HTML with a process pool, one worker per core
  - newsmon: the real ingest flow (Prefect, polite client with min_delay_s = 0, extraction pool,
    dedup, DuckDB), first pass and second pass over unchanged sources
  - fixed start-up: the same flow with an empty outlet list
  - naive: a sequential httpx.get + trafilatura.extract loop
Prints a table and writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]


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
    # Cycle to the requested size; a marker comment keeps bodies distinct for the HTTP layer.
    return [pages[i % len(pages)] + f"<!-- {i} -->".encode() for i in range(count)], source


def _serve(directory: str, port: int, ready: multiprocessing.Queue) -> None:
    from flows.demo.server import Response, Site, SiteServer

    root = Path(directory)
    site = Site("https://bench.example")
    for path in sorted(root.glob("p/*.html")):
        site.routes[f"/news/{path.stem}"] = Response(path.read_bytes(), rewrite=False)
    site.routes["/rss"] = Response(
        (root / "rss.xml").read_bytes(), "application/rss+xml", rewrite=False
    )
    site.routes["/robots.txt"] = Response(b"User-agent: *\nAllow: /\n", "text/plain")
    SiteServer([site], ports=[port]).start()
    ready.put(site.url)
    while True:
        time.sleep(3600)


def start_server(pages: list[bytes], tmp: Path) -> tuple[multiprocessing.Process, str]:
    """The site in its own process, so serving does not share this process's cores' GIL."""
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    origin = f"http://127.0.0.1:{port}"
    (tmp / "p").mkdir(parents=True)
    for i, body in enumerate(pages):
        (tmp / "p" / f"article-number-{i:05d}.html").write_bytes(body)
    items = "".join(
        f"<item><title>Article {i}</title><link>{origin}/news/article-number-{i:05d}</link></item>"
        for i in range(len(pages))
    )
    (tmp / "rss.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>{items}</channel></rss>'
    )
    ctx = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue = ctx.Queue()
    proc = ctx.Process(target=_serve, args=(str(tmp), port, ready), daemon=True)
    proc.start()
    return proc, ready.get(timeout=120)


def _extract(html: bytes) -> bool:
    import trafilatura

    doc = trafilatura.bare_extraction(
        html.decode("utf-8", "replace"), with_metadata=True, include_comments=False
    )
    return doc is not None


def extraction_limit(pages: list[bytes]) -> dict:
    started = time.perf_counter()
    cpu0 = _cpu()
    with ProcessPoolExecutor(
        os.cpu_count(), mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        ok = sum(pool.map(_extract, pages, chunksize=16))
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "articles_per_s": len(pages) / elapsed,
        "extracted": ok,
        "cpu_s": _cpu() - cpu0,
    }


def naive(urls: list[str]) -> dict:
    import httpx
    import trafilatura

    started = time.perf_counter()
    cpu0 = _cpu()
    ok = 0
    with httpx.Client() as client:
        for url in urls:
            response = client.get(url)
            if trafilatura.extract(response.text):
                ok += 1
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "articles_per_s": len(urls) / elapsed,
        "extracted": ok,
        "cpu_s": _cpu() - cpu0,
    }


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def newsmon_pass(config: Path, db: Path) -> dict:
    from flows.ingest import ingest

    started = time.perf_counter()
    cpu0 = _cpu()
    summary = asyncio.run(ingest(config_path=str(config), db_path=str(db)))
    elapsed = time.perf_counter() - started
    report = summary.reports[0] if summary.reports else None
    return {
        "seconds": elapsed, "cpu_s": _cpu() - cpu0,
        "fetched": report.fetched if report else 0, "stored": report.stored if report else 0,
        "skipped": report.skipped if report else 0, "failed": report.failed if report else 0,
    }  # fmt: skip


def requests_in_run(db: Path, run: int) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = [
            r[0] for r in con.execute("SELECT DISTINCT run_id FROM fetches ORDER BY 1").fetchall()
        ]
        return con.execute("SELECT count(*) FROM fetches WHERE run_id = ?", [runs[run]]).fetchall()[
            0
        ][0]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    pages, source = corpus_pages(args.corpora if args.corpora.is_dir() else None, args.pages)
    print(f"{len(pages)} pages ({source}); {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server, origin = start_server(pages, tmp / "site")
        try:
            config = tmp / "bench.toml"
            config.write_text(
                f'[settings]\nworkers = 0\n[[outlet]]\nid = "bench"\nname = "Bench"\nhomepage = "{origin}/"\n'
                f'language = "en"\nfeeds = ["/rss"]\nmin_delay_s = 0\nmax_articles = {len(pages)}\n'
                "article_pattern = '^/news/'\n"
            )
            empty = tmp / "empty.toml"
            empty.write_text("")
            limit = extraction_limit(pages)
            print(f"limit: {limit['articles_per_s']:.1f} articles/s", flush=True)
            startup = newsmon_pass(empty, tmp / "empty.duckdb")
            print(f"start-up (empty config): {startup['seconds']:.1f} s", flush=True)
            db = tmp / "bench.duckdb"
            first = newsmon_pass(config, db)
            second = newsmon_pass(config, db)
            first["requests"], second["requests"] = requests_in_run(db, 0), requests_in_run(db, 1)
            print(
                f"newsmon first pass: {first['seconds']:.1f} s, second: {second['seconds']:.1f} s",
                flush=True,
            )
            baseline = naive([f"{origin}/news/article-number-{i:05d}" for i in range(len(pages))])
            print(f"naive: {baseline['articles_per_s']:.1f} articles/s", flush=True)
        finally:
            server.kill()
    # The empty run pays Prefect's start-up (the temporary API server stays up for this process),
    # so the passes after it measure the pipeline alone.
    work = first["seconds"]
    result = {
        "when": datetime.now(UTC).isoformat(), "pages": len(pages), "source": source, "cores": os.cpu_count(),
        "limit": limit, "naive": baseline, "startup": startup, "first": first, "second": second,
        "newsmon_articles_per_s": len(pages) / work,
        "ratio_to_limit": (len(pages) / work) / limit["articles_per_s"],
        "ratio_to_naive": (len(pages) / work) / baseline["articles_per_s"],
        "second_pass_share": second["seconds"] / work,
        "peak_rss_mb_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mb_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }  # fmt: skip
    print()
    print(f"{'':<28}{'articles/s':>12}{'CPU s/article':>15}")
    print(
        f"{'extraction limit':<28}{limit['articles_per_s']:>12.1f}{limit['cpu_s'] / len(pages):>15.4f}"
    )
    print(
        f"{'newsmon (after start-up)':<28}{result['newsmon_articles_per_s']:>12.1f}{first['cpu_s'] / len(pages):>15.4f}"
    )
    print(
        f"{'naive httpx + trafilatura':<28}{baseline['articles_per_s']:>12.1f}{baseline['cpu_s'] / len(pages):>15.4f}"
    )
    print(
        f"ratio to limit {result['ratio_to_limit']:.2f}x, to naive {result['ratio_to_naive']:.2f}x"
    )
    print(
        f"first pass {first['seconds']:.1f} s ({first['requests']} requests, stored {first['stored']}, "
        f"failed {first['failed']}); second pass {second['seconds']:.1f} s ({second['requests']} requests, "
        f"fetched {second['fetched']}) = {100 * result['second_pass_share']:.1f}% of the first; "
        f"fixed start-up (empty config, Prefect's temporary server) {startup['seconds']:.1f} s"
    )
    print(
        f"peak RSS: this process {result['peak_rss_mb_self']:.0f} MB, largest child {result['peak_rss_mb_children']:.0f} MB"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"pipeline-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
