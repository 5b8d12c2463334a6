"""The ingest's peak memory at several sizes (`python -m benchmarks.pipeline_bench --sizes ...`):
one ingest pass per size in a fresh process (a new server each), the peak RSS of the ingest
process and of its extraction workers, and the growth between sizes; with --trace-memory a
tracemalloc snapshot taken when the pass hands its batch to Store.write."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_site import (
    bench_config,
    corpus_pages,
    newsmon_pass,
    setup_env,
    start_server,
)
from benchmarks.process_watch import ProcessWatch, cpu_line, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]


def ingest_only(origin: str, pages: int, trace: bool) -> dict:
    """Runs in a fresh process: start-up pass, then one pass over `pages` pages; peaks."""
    setup_env()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "empty.toml").write_text("")
        startup = newsmon_pass(tmp / "empty.toml", tmp / "empty.duckdb")
        with open("/proc/self/status") as f:
            after_startup = next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024
        snapshot: list = []
        _trace_store_write(snapshot, trace)
        first = newsmon_pass(bench_config(tmp, origin, pages), tmp / "bench.duckdb")
    return {
        "pages": pages, "seconds": round(first["seconds"], 1),
        "articles_per_s": round(pages / first["seconds"], 1), "stored": first["stored"],
        "failed": first["failed"], "startup_s": round(startup["seconds"], 1),
        "rss_after_startup_mb": round(after_startup), "peak_rss_mb": round(peak_rss_mb()),
        "traced": snapshot,
    }  # fmt: skip


def _trace_store_write(out: list, python_heap: bool) -> None:
    """RSS and peak RSS when the pass hands its batch to Store.write (everything the pass
    holds is alive then) and when the write returns; with `python_heap`, tracemalloc's view
    of Python allocations at both points too."""
    import tracemalloc

    from storage.db import Store

    if python_heap:
        tracemalloc.start(12)
    write = Store.write

    def traced(self, batch):  # noqa: ANN001, ANN202 - same signature as Store.write
        if batch.articles:
            out.append({"when": "at Store.write", "articles": len(batch.articles), **_rss()})
            if python_heap:
                _top(out[-1])
        result = write(self, batch)
        if batch.articles:
            out.append({"when": "after Store.write", **_rss()})
            if python_heap:
                current, peak = tracemalloc.get_traced_memory()
                out[-1].update(current_mb=current / 1e6, peak_mb=peak / 1e6)
        return result

    Store.write = traced


def _rss() -> dict:
    with open("/proc/self/status") as f:
        values = {k: int(v.split()[0]) / 1024 for k, _, v in (x.partition(":") for x in f)
                  if k in ("VmRSS", "VmHWM")}  # fmt: skip
    return {"rss_mb": round(values["VmRSS"]), "peak_rss_mb": round(values["VmHWM"])}


def _top(entry: dict) -> None:
    import tracemalloc

    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    current, peak = tracemalloc.get_traced_memory()
    stats = snapshot.statistics("traceback")[:12]
    entry.update(
        {
            "current_mb": current / 1e6, "peak_mb": peak / 1e6,
            "top": [
                {"mb": round(s.size / 1e6, 1), "blocks": s.count,
                 "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in s.traceback][-6:]}
                for s in stats
            ],
        }
    )  # fmt: skip


def run_sizes(args: argparse.Namespace) -> dict:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    corpora = args.corpora if args.corpora.is_dir() else None
    results = []
    for size in sizes:
        pages, source = corpus_pages(corpora, size)
        with tempfile.TemporaryDirectory() as tmp_name, ProcessWatch() as watch:
            server, origin = start_server(pages, Path(tmp_name) / "site", args.server)
            del pages
            watch.roles[server.pid] = "loopback server"
            try:
                mark = watch.mark()
                command = [sys.executable, "-m", "benchmarks.pipeline_bench", "--ingest", origin, "--pages", str(size)]  # fmt: skip
                command += ["--trace-memory"] if args.trace_memory else []
                child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
                watch.roles[child.pid] = "ingest process"
                stdout, stderr = child.communicate()
                cpu = watch.since(mark)
            finally:
                server.kill()
        if child.returncode != 0:
            raise SystemExit(f"ingest of {size} pages failed:\n{stderr[-3000:]}")
        result = json.loads(stdout.strip().splitlines()[-1])
        result["cpu_by_process"] = cpu
        # Sampled from /proc: the workers are the fork server's children, not the ingest
        # process's, so its own rusage never sees them.
        result["largest_worker_peak_mb"] = cpu.get("extraction workers", {}).get("peak_rss_mb", 0)
        results.append(result)
        print(
            f"{size:>6} pages: {result['seconds']} s ({result['articles_per_s']} articles/s, stored "
            f"{result['stored']}); ingest process peak {result['peak_rss_mb']} MB (after start-up "
            f"{result['rss_after_startup_mb']} MB), largest extraction worker {result['largest_worker_peak_mb']} MB; "
            f"CPU s: {cpu_line(cpu)}",
            flush=True,
        )
        for snap in result["traced"]:
            print(f"  {snap['when']}: RSS {snap['rss_mb']} MB, peak RSS so far {snap['peak_rss_mb']} MB", flush=True)  # fmt: skip
            if "current_mb" in snap:
                print(f"    tracemalloc: {snap['current_mb']:.0f} MB of Python objects live, peak {snap['peak_mb']:.0f} MB")  # fmt: skip
            for top in snap.get("top", [])[:8]:
                print(f"    {top['mb']:>7.1f} MB {top['blocks']:>8} blocks  {' <- '.join(reversed(top['where'][-3:]))}")  # fmt: skip
    small, large = results[0], results[-1]
    growth = {
        "pages": large["pages"] / small["pages"],
        "peak_rss": large["peak_rss_mb"] / small["peak_rss_mb"],
        "peak_above_startup": (large["peak_rss_mb"] - large["rss_after_startup_mb"])
        / max(small["peak_rss_mb"] - small["rss_after_startup_mb"], 1),
        "largest_worker": large["largest_worker_peak_mb"] / small["largest_worker_peak_mb"],
    }
    print(
        f"growth {small['pages']} -> {large['pages']} pages ({growth['pages']:.0f}x): ingest process "
        f"peak {growth['peak_rss']:.2f}x (above its start-up RSS {growth['peak_above_startup']:.2f}x), "
        f"largest worker {growth['largest_worker']:.2f}x; peak at {large['pages']}: "
        f"{large['peak_rss_mb']} MB + worker {large['largest_worker_peak_mb']} MB (target: each <= 600 MB)"
    )
    return {
        "when": datetime.now(UTC).isoformat(), "cores": os.cpu_count(), "python": sys.version.split()[0],
        "server": args.server, "source": source, "sizes": results, "growth": growth,
    }  # fmt: skip
