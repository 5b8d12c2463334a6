"""One run of the throughput comparison: newsmon's first and second pass against the extraction
limit (measured before and after), a naive loop and the peer libraries, over the same loopback
site (benchmarks/bench_site.py), with CPU seconds per process (benchmarks/process_watch.py)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_site import bench_config, corpus_pages, newsmon_pass, start_server
from benchmarks.process_watch import ProcessWatch, cpu_line

RESULTS = Path(__file__).parent / "results"
PEERS_VENV = RESULTS / ".venv-peers"
PEERS = {"news-please": "newsplease", "newspaper4k": "newspaper"}
_NOT_OURS = ("loopback server", "not this benchmark")


def _extract(html: bytes) -> bool:
    import trafilatura

    doc = trafilatura.bare_extraction(
        html.decode("utf-8", "replace"), with_metadata=True, include_comments=False
    )
    return doc is not None


def extraction_limit(pages: list[bytes]) -> dict:
    started = time.perf_counter()
    with ProcessPoolExecutor(
        os.cpu_count(), mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        ok = sum(pool.map(_extract, pages, chunksize=16))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "articles_per_s": len(pages) / elapsed, "extracted": ok}


def _both(before: dict, after: dict, cpu: dict, cpu_after: dict) -> dict:
    """Two limit measurements as one (their CPU summed into cpu["limit"])."""
    for role, r in cpu_after.items():
        mine = cpu["limit"].setdefault(role, {"cpu_s": 0.0})
        mine["cpu_s"] = round(mine["cpu_s"] + r["cpu_s"], 1)
    pages = before["articles_per_s"] * before["seconds"]
    seconds = before["seconds"] + after["seconds"]
    return {
        "seconds": seconds, "articles_per_s": 2 * pages / seconds,
        "extracted": before["extracted"], "runs_articles_per_s": [before["articles_per_s"], after["articles_per_s"]],
    }  # fmt: skip


def naive(urls: list[str]) -> dict:
    import httpx
    import trafilatura

    started = time.perf_counter()
    ok = 0
    with httpx.Client() as client:
        for url in urls:
            response = client.get(url)
            if trafilatura.extract(response.text):
                ok += 1
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "articles_per_s": len(urls) / elapsed, "extracted": ok}


def requests_in_run(db: Path, run: int) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = [
            r[0] for r in con.execute("SELECT DISTINCT run_id FROM fetches ORDER BY 1").fetchall()
        ]
        query = "SELECT count(*) FROM fetches WHERE run_id = ?"
        return con.execute(query, [runs[run]]).fetchall()[0][0]
    finally:
        con.close()


def peer_python(module: str) -> str | None:
    """A python that can import the peer: this one, else benchmarks/results/.venv-peers."""
    for python in (sys.executable, str(PEERS_VENV / "bin" / "python")):
        if Path(python).exists():
            probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
            if probe.returncode == 0:
                return python
    return None


def peer(name: str, urls: list[str], tmp: Path) -> dict:
    python = peer_python(PEERS[name])
    if python is None:
        return {"skipped": f"{name} is not importable here nor in {PEERS_VENV}"}
    listing = tmp / f"{name}-urls.txt"
    listing.write_text("\n".join(urls))
    script = Path(__file__).with_name("peers.py")
    out = subprocess.run(
        [python, str(script), name, str(listing)], capture_output=True, text=True, timeout=3600
    )
    if out.returncode != 0:
        return {"skipped": f"{name} failed: {out.stderr.strip().splitlines()[-1:]}"}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["python"] = python
    return result


def run_all(args: argparse.Namespace) -> dict:
    pages, source = corpus_pages(args.corpora if args.corpora.is_dir() else None, args.pages)
    n = len(pages)
    print(f"{n} pages ({source}); {os.cpu_count()} cores; {args.server} server", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name, ProcessWatch() as watch:
        tmp = Path(tmp_name)
        server, origin = start_server(pages, tmp / "site", args.server)
        watch.roles[server.pid] = "loopback server"
        urls = [f"{origin}/news/article-number-{i:05d}" for i in range(n)]
        cpu: dict[str, dict] = {}
        try:
            config = bench_config(tmp, origin, n)
            empty = tmp / "empty.toml"
            empty.write_text("")
            mark = watch.mark()
            limit = extraction_limit(pages)
            cpu["limit"] = watch.since(mark)
            print(f"limit: {limit['articles_per_s']:.1f} articles/s", flush=True)
            startup = newsmon_pass(empty, tmp / "empty.duckdb")
            print(f"start-up (empty config): {startup['seconds']:.1f} s", flush=True)
            db = tmp / "bench.duckdb"
            mark = watch.mark()
            first = newsmon_pass(config, db)
            cpu["newsmon"] = watch.since(mark)
            print(f"newsmon first pass: {first['seconds']:.1f} s; CPU s: {cpu_line(cpu['newsmon'])}", flush=True)  # fmt: skip
            mark = watch.mark()
            second = newsmon_pass(config, db)
            cpu["second"] = watch.since(mark)
            first["requests"], second["requests"] = requests_in_run(db, 0), requests_in_run(db, 1)
            print(f"second pass: {second['seconds']:.1f} s", flush=True)
            # The limit once more, after newsmon: the machine's speed drifts (other users, the
            # host), so the ratio is taken to the mean of a measurement on either side.
            mark = watch.mark()
            again = extraction_limit(pages)
            limit = _both(limit, again, cpu, watch.since(mark))
            del pages
            print(f"limit again: {again['articles_per_s']:.1f} articles/s", flush=True)
            mark = watch.mark()
            baseline = naive(urls)
            cpu["naive"] = watch.since(mark)
            print(f"naive: {baseline['articles_per_s']:.1f} articles/s", flush=True)
            peers = {}
            for name in PEERS if args.peer_pages else ():
                mark = watch.mark()
                peers[name] = peer(name, urls[: args.peer_pages], tmp)
                cpu[name] = watch.since(mark)
                print(f"{name}: {peers[name]}", flush=True)
        finally:
            server.kill()
    for name, result in [("limit", limit), ("newsmon", first), ("second", second), ("naive", baseline)]:  # fmt: skip
        result["cpu_by_process"] = cpu[name]
        result["cpu_s"] = round(sum(r["cpu_s"] for role, r in cpu[name].items() if role not in _NOT_OURS), 1)  # fmt: skip
    for name, result in peers.items():
        result["cpu_by_process"] = cpu.get(name)
    rate = n / first["seconds"]
    return {
        "when": datetime.now(UTC).isoformat(), "pages": n, "source": source, "cores": os.cpu_count(),
        "python": sys.version.split()[0], "server": args.server,
        "limit": limit, "naive": baseline, "startup": startup, "first": first, "second": second,
        "peers": peers, "newsmon_articles_per_s": rate,
        "ratio_to_limit": rate / limit["articles_per_s"],
        "ratio_to_naive": rate / baseline["articles_per_s"],
        "ratio_to_peers": {
            k: rate / v["articles_per_s"] for k, v in peers.items() if "articles_per_s" in v
        },
        "second_pass_share": second["seconds"] / first["seconds"],
        "peak_rss_mb_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def print_run(result: dict) -> None:
    n, first = result["pages"], result["first"]
    rows = [
        ("extraction limit", result["limit"], n),
        (
            "newsmon (after start-up)",
            {**first, "articles_per_s": result["newsmon_articles_per_s"]},
            n,
        ),  # fmt: skip
        ("naive httpx + trafilatura", result["naive"], n),
    ]
    for name, p in result["peers"].items():
        if "articles_per_s" in p:
            rows.append((f"{name} ({p['pages']} pages)", p, p["pages"]))
    print(f"\n{'':<30}{'articles/s':>11}{'CPU s/article':>15}{'  CPU s by process'}")
    rows[0] = ("extraction limit (2 runs)", result["limit"], 2 * n)
    for name, r, count in rows:
        by = r.get("cpu_by_process") or {}
        print(f"{name:<30}{r['articles_per_s']:>11.1f}{r['cpu_s'] / count:>15.4f}  {cpu_line(by)}")
    ratios = ", ".join(f"to {k} {v:.2f}x" for k, v in result["ratio_to_peers"].items())
    print(
        f"ratio to limit {result['ratio_to_limit']:.2f}x, to naive {result['ratio_to_naive']:.2f}x"
        + (f", {ratios}" if ratios else "")
    )
    for name, p in result["peers"].items():
        if "skipped" in p:
            print(f"{name}: skipped ({p['skipped']})")
    second = result["second"]
    print(
        f"first pass {first['seconds']:.1f} s ({first['requests']} requests, stored {first['stored']}, "
        f"failed {first['failed']}); second pass {second['seconds']:.1f} s ({second['requests']} requests, "
        f"fetched {second['fetched']}) = {100 * result['second_pass_share']:.1f}% of the first; "
        f"fixed start-up (empty config) {result['startup']['seconds']:.1f} s"
    )
