"""The product's real load: a pass over 12 outlets with 50 new articles each, at the outlets'
own pace (2 s between requests to a host, 2 connections per host), as `newsmon serve` makes
one every 15 minutes. Alternates passes with machine tuning on and off (NEWSMON_TUNING,
extractors/tuning.py), each in a fresh process, and prints per pass its wall time and the CPU
seconds of the ingest process with its extraction workers and fork server, beside the CPU the
rest of the machine used meanwhile.

    python -m benchmarks.load_bench [--pairs 3] [--outlets 12] [--articles 50] [--delay 2.0]

Pages: the trafilatura-eval pages of ../shared/corpora when present, else the demo snapshots
(cycled). The loopback server runs in its own process, one port per outlet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_site import corpus_pages
from benchmarks.process_watch import descendants, machine_busy_s, proc_stat

ROOT = Path(__file__).resolve().parents[1]


# -- the sites ------------------------------------------------------------------------------
def _serve(pages_dir: str, outlets: int, articles: int, ports: list[int], ready) -> None:  # noqa: ANN001
    """Every outlet on a port of its own: /robots.txt, /rss with its articles, the articles."""
    bodies = sorted(Path(pages_dir).glob("*.html"))

    def routes(n: int, origin: str) -> dict[str, tuple[bytes, str]]:
        out = {"/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain")}
        links = []
        for i in range(articles):
            path = f"/news/outlet-{n}-article-number-{i:03d}"
            out[path] = (bodies[n * articles + i].read_bytes(), "text/html; charset=utf-8")
            links.append(f"<item><title>Article {i}</title><link>{origin}{path}</link></item>")
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>o</title>{"".join(links)}</channel></rss>'  # fmt: skip
        out["/rss"] = (rss.encode(), "application/rss+xml")
        return out

    async def main() -> None:
        servers = []
        for n, port in enumerate(ports):
            table = routes(n, f"http://127.0.0.1:{port}")

            async def handle(reader, writer, table=table) -> None:  # noqa: ANN001
                try:
                    while True:
                        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                        target = head.split(" ", 2)[1]
                        body, kind = table.get(target, (b"not found", "text/plain"))
                        status = "200 OK" if target in table else "404 Not Found"
                        writer.write(
                            f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                            f"Content-Length: {len(body)}\r\n\r\n".encode()
                            + body
                        )
                        await writer.drain()
                except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
                    pass
                finally:
                    writer.close()

            servers.append(await asyncio.start_server(handle, "127.0.0.1", port))
        ready.put(True)
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def _free_ports(n: int) -> list[int]:
    import socket

    probes = [socket.socket() for _ in range(n)]
    for p in probes:
        p.bind(("127.0.0.1", 0))
    ports = [p.getsockname()[1] for p in probes]
    for p in probes:
        p.close()
    return ports


# -- one pass, in a process of its own ------------------------------------------------------
def one_pass(ports: list[int], articles: int, delay: float, db: Path) -> dict:
    from datetime import UTC, datetime

    from extractors.http import ClientSettings, PoliteClient
    from extractors.records import Outlet
    from extractors.tuning import ENABLED, tune_process
    from flows.config import load
    from flows.extraction import Extractor
    from flows.pipeline import RunContext, ingest_outlet
    from storage.db import Store

    rules = load(ROOT / "newsmon.toml").rules  # the shipped rules: every article is scored
    outlets = [
        Outlet(f"o{n}", f"Outlet {n}", f"http://127.0.0.1:{port}/", "en",
               feeds=(f"http://127.0.0.1:{port}/rss",),
               min_delay_s=delay, max_articles=articles)
        for n, port in enumerate(ports)
    ]  # fmt: skip
    batch = tune_process()
    started, busy = time.monotonic(), machine_busy_s()

    extractor = Extractor(0, rules)

    async def run() -> list:
        extractor.start()
        async with PoliteClient(ClientSettings()) as client:
            run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            ctx = RunContext(run_id, client, Store(db), extractor)
            return await asyncio.gather(*(ingest_outlet(o, ctx) for o in outlets))

    reports = asyncio.run(run())
    wall = time.monotonic() - started
    ours = [os.getpid(), *descendants(os.getpid())]  # with the workers, before they end
    cpu = sum(p[0] for p in map(proc_stat, ours) if p is not None)
    other = machine_busy_s() - busy - cpu
    extractor.close()
    return {
        "tuning": ENABLED, "batch_scheduling": batch, "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1), "others_cpu_s": round(other, 1),
        "stored": sum(r.stored for r in reports), "failed": sum(r.failed for r in reports),
        "errors": [r.error for r in reports if r.error][:2],
    }  # fmt: skip


# -- the comparison -------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--outlets", type=int, default=12)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--pass", dest="one", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(
            json.dumps(one_pass(spec["ports"], spec["articles"], spec["delay"], Path(spec["db"])))
        )
        return
    pages, source = corpus_pages(args.corpora, args.outlets * args.articles)
    print(f"{args.outlets} outlets x {args.articles} articles ({source}), {args.delay} s pace")
    with tempfile.TemporaryDirectory() as tmp:
        for i, body in enumerate(pages):
            (Path(tmp) / f"{i:05d}.html").write_bytes(body)
        ports = _free_ports(args.outlets)
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Queue()
        server = ctx.Process(
            target=_serve, args=(tmp, args.outlets, args.articles, ports, ready), daemon=True
        )
        server.start()
        ready.get(timeout=120)
        results: dict[bool, list[dict]] = {True: [], False: []}
        try:
            for pair in range(args.pairs):
                order = (True, False) if pair % 2 == 0 else (False, True)
                for tuning in order:
                    db = Path(tmp) / f"pass-{pair}-{int(tuning)}.duckdb"
                    spec = {"ports": ports, "articles": args.articles, "delay": args.delay,
                            "db": str(db)}  # fmt: skip
                    env = {**os.environ, "NEWSMON_TUNING": "1" if tuning else "0"}
                    out = subprocess.run(
                        [sys.executable, "-m", "benchmarks.load_bench", "--pass", json.dumps(spec)],
                        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
                    )  # fmt: skip
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    results[tuning].append(result)
                    print(json.dumps(result), flush=True)
        finally:
            server.terminate()
    for tuning in (True, False):
        runs = results[tuning]
        print(
            f"tuning {'on ' if tuning else 'off'}: wall s median "
            f"{statistics.median(r['wall_s'] for r in runs):.1f}, CPU s median "
            f"{statistics.median(r['cpu_s'] for r in runs):.1f} "
            f"(each: {', '.join(str(r['cpu_s']) for r in runs)})"
        )


if __name__ == "__main__":
    main()
