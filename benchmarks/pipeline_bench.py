"""End-to-end throughput against the extraction limit, a naive baseline and peer libraries, in
one run; and the ingest's peak memory at several sizes.

    python -m benchmarks.pipeline_bench [--pages 2000] [--peer-pages 200] [--server static]
    python -m benchmarks.pipeline_bench --sizes 1000,5000 [--trace-memory]

A loopback server in its own process serves N real article pages (trafilatura-eval pages from
../shared/corpora when present, else pages generated from the demo snapshots; cycles after the
first get a marker in every paragraph so that each page is a distinct article) with an RSS
feed and a sitemap, with status, content type, ETag and Last-Modified, and 304 for a matching
conditional GET. `--server static` (default) answers from pre-built bytes on asyncio;
`--server demo` uses tests/support/server.py (http.server, a thread per connection).

Measured in the same run:
  - limit: trafilatura bare_extraction over the same HTML with a process pool, one worker per core,
    measured before and after newsmon (the ratio is to their mean: the machine's speed drifts)
  - newsmon: the real run as `newsmon run` makes it without a Prefect server (polite client with min_delay_s = 0, extraction pool,
    dedup, DuckDB), first pass and second pass over unchanged sources
  - fixed start-up: the same flow with an empty outlet list
  - naive: a sequential httpx.get + trafilatura.extract loop
  - peers, when installed (`pip install -e '.[peers]'`, or a venv at
    benchmarks/results/.venv-peers): news-please and newspaper4k on the first --peer-pages URLs,
    each in its own process (benchmarks/peers.py)
CPU seconds are reported per process (this process, extraction workers, loopback server,
Prefect's API server) from /proc, sampled every 0.5 s.

--runs N repeats the whole benchmark N times, each in a fresh process (as `make bench` runs it),
and prints every run's ratios with their medians: the machine's speed drifts from minute to
minute (eight runs of one commit gave 0.65x to 0.89x the limit).

--sizes runs one ingest pass per size in a fresh process (a new server each) and reports the
peak RSS of the ingest process and of its extraction workers, and the growth between sizes.
--trace-memory adds a tracemalloc snapshot taken when the pass hands its batch to Store.write.

Prints tables and writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
PEERS_VENV = RESULTS / ".venv-peers"
PEERS = {"news-please": "newsplease", "newspaper4k": "newspaper"}


# -- the site -------------------------------------------------------------------------------
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
_NOT_OURS = ("loopback server", "not this benchmark")


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


# -- per-process CPU and memory ---------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _proc(pid: int) -> tuple[float, float, bytes] | None:
    """CPU seconds, peak RSS in MB and command line of a process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/status", "rb") as f:
            hwm = next((int(line.split()[1]) for line in f if line.startswith(b"VmHWM")), 0)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, hwm / 1024, cmd


def _machine_busy_s() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK  # minus idle and iowait


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


class ProcessWatch:
    """Samples this process's descendants every `interval` s: CPU seconds and peak RSS per
    process, grouped by role. A process that ends between two samples loses at most one
    interval of CPU."""

    def __init__(self, roles: dict[int, str] | None = None, interval: float = 0.5) -> None:
        self.roles = dict(roles or {})
        self.procs: dict[int, dict] = {}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _role(self, pid: int, cmd: bytes) -> str:
        if pid in self.roles:
            return self.roles[pid]
        if b"uvicorn" in cmd or b"prefect" in cmd:
            return "Prefect API server"
        if b"spawn_main" in cmd or b"forkserver" in cmd:  # the pool's workers and fork server
            return "extraction workers"
        return "other"

    def sample(self) -> None:
        with self._lock:
            for pid in _descendants(os.getpid()):
                info = _proc(pid)
                if info is None:
                    continue
                cpu, hwm, cmd = info
                seen = self.procs.setdefault(pid, {"role": self._role(pid, cmd), "hwm_mb": 0.0})
                seen["cpu_s"] = cpu
                seen["hwm_mb"] = max(seen["hwm_mb"], hwm)

    def mark(self) -> dict:
        self.sample()
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "self": own.ru_utime + own.ru_stime, "machine": _machine_busy_s(),
            "pids": {pid: p["cpu_s"] for pid, p in self.procs.items()},
        }  # fmt: skip

    def since(self, mark: dict) -> dict[str, dict]:
        """CPU seconds and peak RSS by role since `mark` (peaks of processes seen since)."""
        self.sample()
        own = resource.getrusage(resource.RUSAGE_SELF)
        roles: dict[str, dict] = {
            "this process": {"cpu_s": own.ru_utime + own.ru_stime - mark["self"], "processes": 1}
        }
        for pid, p in self.procs.items():
            before = mark["pids"].get(pid)
            if before is not None and p["cpu_s"] == before:
                continue  # idle, or gone before the mark
            name = self.roles.get(pid, p["role"])  # roles given after the first sample win
            role = roles.setdefault(name, {"cpu_s": 0.0, "processes": 0, "peak_rss_mb": 0.0})
            role["cpu_s"] += p["cpu_s"] - (before or 0.0)
            role["processes"] += 1
            role["peak_rss_mb"] = max(role["peak_rss_mb"], round(p["hwm_mb"]))
        # What the rest of the machine (other users' tests, the OS) took meanwhile: noise.
        ours = sum(role["cpu_s"] for role in roles.values())
        roles["not this benchmark"] = {
            "cpu_s": max(0.0, _machine_busy_s() - mark["machine"] - ours)
        }
        for role in roles.values():
            role["cpu_s"] = round(role["cpu_s"], 1)
        return roles


# -- the measurements ------------------------------------------------------------------------
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


def bench_config(tmp: Path, origin: str, pages: int) -> Path:
    config = tmp / "bench.toml"
    config.write_text(
        f'[settings]\nworkers = 0\n[[outlet]]\nid = "bench"\nname = "Bench"\nhomepage = "{origin}/"\n'
        f'language = "en"\nfeeds = ["/rss"]\nsitemaps = ["/sitemap.xml"]\nmin_delay_s = 0\n'
        f"max_articles = {pages}\narticle_pattern = '^/news/'\n"
    )
    return config


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


def _setup_env() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _cpu_line(roles: dict[str, dict]) -> str:
    return ", ".join(f"{role} {r['cpu_s']:.1f}" for role, r in roles.items())


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
            print(f"newsmon first pass: {first['seconds']:.1f} s; CPU s: {_cpu_line(cpu['newsmon'])}", flush=True)  # fmt: skip
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
        print(f"{name:<30}{r['articles_per_s']:>11.1f}{r['cpu_s'] / count:>15.4f}  {_cpu_line(by)}")
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


def run_several(args: argparse.Namespace) -> dict:
    """The whole benchmark `args.runs` times in a row, each in a fresh process as `make bench`
    runs it (a process that ran the flow before keeps its warm extraction workers). The machine's speed drifts from minute to minute, so one run's ratio is noisy;
    the median of several is the figure to quote."""
    one_run = [
        "--pages", str(args.pages), "--peer-pages", str(args.peer_pages), "--server", args.server,
        "--corpora", str(args.corpora),
    ]  # fmt: skip
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(1, args.runs + 1):
            print(f"\n== run {number} of {args.runs}", flush=True)
            out = Path(tmp) / f"run-{number}.json"
            command = [
                sys.executable,
                "-m",
                "benchmarks.pipeline_bench",
                *one_run,
                "--out",
                str(out),
            ]
            subprocess.run(command, check=True, cwd=ROOT)
            runs.append(json.loads(out.read_text()))
    medians = summarise_runs(runs)
    print(f"\n{len(runs)} runs, each ratio taken within its run:")
    for name, values in medians["ratios"].items():
        unit, scale = ("%", 100) if name.startswith("second") else ("x", 1)
        listed = ", ".join(f"{scale * v:.2f}{unit}" for v in values)
        print(f"  {name:<22} median {scale * statistics.median(values):.2f}{unit}  ({listed})")
    return {"runs": runs, "medians": medians["median"]}


def summarise_runs(runs: list[dict]) -> dict:
    ratios: dict[str, list[float]] = {
        "newsmon / limit": [r["ratio_to_limit"] for r in runs],
        "newsmon / naive": [r["ratio_to_naive"] for r in runs],
        "second / first pass": [r["second_pass_share"] for r in runs],
    }
    for r in runs:
        for peer, ratio in r["ratio_to_peers"].items():
            ratios.setdefault(f"newsmon / {peer}", []).append(ratio)
    return {"ratios": ratios, "median": {k: statistics.median(v) for k, v in ratios.items()}}


# -- memory at several sizes -----------------------------------------------------------------
def ingest_only(origin: str, pages: int, trace: bool) -> dict:
    """Runs in a fresh process: start-up pass, then one pass over `pages` pages; peaks."""
    _setup_env()
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
            f"CPU s: {_cpu_line(cpu)}",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--peer-pages", type=int, default=200, help="0: no peers")
    parser.add_argument("--server", choices=sorted(SERVERS), default="static")
    parser.add_argument(
        "--runs", type=int, default=1, help="repeat the whole benchmark; report the medians"
    )
    parser.add_argument("--sizes", help="e.g. 1000,5000: peak memory per size, fresh processes")
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--ingest", metavar="ORIGIN", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # one run of --runs
    args = parser.parse_args(argv)
    if args.ingest:
        print(json.dumps(ingest_only(args.ingest, args.pages, args.trace_memory), default=str))
        return 0
    _setup_env()
    if args.sizes:
        result, prefix = run_sizes(args), "pipeline-memory"
    elif args.runs > 1:
        result, prefix = run_several(args), "pipeline-runs"
    else:
        result, prefix = run_all(args), "pipeline"
        print_run(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = args.out or RESULTS / f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
