"""What a DuckLake with a PostgreSQL catalog costs per commit, what small commits do to the
data directory, what its maintenance functions win back, and how fast 1, 2 and 3
`newsmon worker`s fill one lake.

    python -m benchmarks.lake_bench commits [--commits 30] [--sizes 1,10,250]
    python -m benchmarks.lake_bench workers [--outlets 6] [--pages 60] [--max-workers 3]

`workers`: a throwaway PostgreSQL and a Prefect server (Prefect's test harness), loopback
sites with an RSS feed each (real pages: benchmarks/bench_site.py's corpus, distinct
articles), and for k = 1, 2, 3 a fresh lake: k `newsmon worker` processes (one extraction
process each) take one pass's outlets from the work pool (one outlet per run) while a
`newsmon run` hands them out. Reported per k: the pass's wall time from hand-out to the end of
alerts and health, articles stored, articles per second, and the CPU seconds of every process
involved (the workers, their flow runs and extraction processes, the pass).

Starts a throwaway PostgreSQL (tests/support/postgres.py; skips when none can be started), creates a
lake per batch size with an article-shaped table, and commits that many batches one after
another, each the way a store write does it: an INSERT of the batch and an UPDATE of a
one-row table (the write token that makes concurrent writers conflict instead of interleave).
Prints per batch size: the INSERT (DuckDB writes the Parquet file), the COMMIT (the catalog
transaction), catalog growth in PostgreSQL per commit, and files in the data directory; then
runs the maintenance a long-lived lake needs (flush inlined rows, merge adjacent files,
expire snapshots, clean up old files) and reports files and a full-text scan before and after.
Writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from storage import lake

RESULTS = Path(__file__).parent / "results"
WORDS = [f"w{i}" for i in range(5000)]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=800))  # about 5 KB, a typical article


def _catalog_bytes(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "SELECT * FROM postgres_query('catalog', 'SELECT pg_database_size(current_database())')"
    ).fetchall()[0][0]


def _files(data_path: Path) -> tuple[int, int]:
    files = list(data_path.rglob("*.parquet"))
    return len(files), sum(f.stat().st_size for f in files)


def _scan_ms(con: duckdb.DuckDBPyConnection, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        con.execute("SELECT count(*) FROM articles WHERE text LIKE '%w4999 w4998%'").fetchall()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def commits(pg, size: int, count: int, work: Path) -> dict:
    dsn = pg.create_database(f"bench_{size}")
    data_path = work / f"data_{size}"
    con = lake.connect("postgres:" + dsn, str(data_path))
    con.execute(f"ATTACH '{dsn}' AS catalog (TYPE postgres, READ_ONLY)")
    con.execute(
        "CREATE TABLE articles (id VARCHAR NOT NULL, outlet_id VARCHAR NOT NULL, "
        "fetched_at TIMESTAMPTZ NOT NULL, text VARCHAR NOT NULL)"
    )
    con.execute("CREATE TABLE write_token (n BIGINT NOT NULL)")
    con.execute("INSERT INTO write_token VALUES (0)")
    rng = random.Random(size)
    inserts, commits_ms = [], []
    catalog_before = _catalog_bytes(con)
    for n in range(count):
        rows = [(f"a{n}-{i}", f"o{i % 12}", datetime.now(UTC), _text(rng)) for i in range(size)]
        con.execute("BEGIN")
        began = time.perf_counter()
        _insert(con, rows)
        con.execute("UPDATE write_token SET n = n + 1")
        inserted = time.perf_counter()
        con.execute("COMMIT")
        done = time.perf_counter()
        inserts.append((inserted - began) * 1000)
        commits_ms.append((done - inserted) * 1000)
    catalog_after = _catalog_bytes(con)
    files_before = _files(data_path)
    scan_before = _scan_ms(con)
    maintenance = {}
    for step, sql in (
        ("flush_inlined", "CALL ducklake_flush_inlined_data('lake')"),
        ("merge_adjacent", "CALL ducklake_merge_adjacent_files('lake')"),
        ("expire_snapshots", "CALL ducklake_expire_snapshots('lake', older_than => now())"),
        ("cleanup_old_files", "CALL ducklake_cleanup_old_files('lake', cleanup_all => true)"),
    ):
        began = time.perf_counter()
        con.execute(sql).fetchall()
        maintenance[step] = {
            "ms": round((time.perf_counter() - began) * 1000, 1),
            "files": _files(data_path)[0],
        }
    result = {
        "batch_rows": size,
        "commits": count,
        "insert_ms_median": round(statistics.median(inserts), 1),
        "commit_ms_median": round(statistics.median(commits_ms), 1),
        "commit_ms_p90": round(sorted(commits_ms)[int(0.9 * (count - 1))], 1),
        "catalog_bytes_per_commit": round((catalog_after - catalog_before) / count),
        "files_after_commits": files_before[0],
        "data_bytes": files_before[1],
        "scan_ms_before": round(scan_before, 1),
        "maintenance": maintenance,
        "scan_ms_after": round(_scan_ms(con), 1),
        "rows": con.execute("SELECT count(*) FROM articles").fetchall()[0][0],
    }
    con.close()
    return result


def _insert(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """As the store writes: one Arrow table per batch."""
    columns = ("id", "outlet_id", "fetched_at", "text")
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(columns)})
    con.register("incoming", table)
    con.execute("INSERT INTO articles SELECT * FROM incoming")
    con.unregister("incoming")


def _sites(outlets: int, pages: int) -> list:
    from benchmarks.bench_site import corpus_pages
    from tests.support.pages import rss
    from tests.support.server import Response, Site

    bodies, _ = corpus_pages(None, outlets * pages)
    sites = []
    for o in range(outlets):
        site = Site(f"https://outlet{o}.example")
        paths = [f"/news/article-number-{o}-{i:04d}" for i in range(pages)]
        for i, path in enumerate(paths):
            site.routes[path] = Response(bodies[o * pages + i], rewrite=False)
        site.routes["/rss"] = Response(rss(site.real_origin, paths), "application/rss+xml")
        sites.append(site)
    return sites


def workers(pg, prefect_api: str, k: int, outlets: int, pages: int, work: Path) -> dict:
    from tests.support.configs import config_text, outlet_toml
    from tests.support.processes import descendants
    from tests.support.server import SiteServer

    sites = _sites(outlets, pages)
    server = SiteServer(sites)
    server.start()
    catalog = "postgres:" + pg.create_database(f"bench_workers_{k}")
    data = work / f"k{k}"
    data.mkdir()
    config = data / "newsmon.toml"
    blocks = [
        outlet_toml(f"outlet{o}", site, feeds=["/rss"], max_articles=pages)
        for o, site in enumerate(sites)
    ]
    config.write_text(
        config_text(*blocks).replace("workers = 2", "workers = 1")
        + f'[store]\nbackend = "ducklake"\ncatalog = "{catalog}"\n'
        + f'data_path = "{data / "lake"}"\n'
        + f'[workers]\npool = "bench-{k}"\noutlets_per_run = 1\n'
    )
    env = dict(os.environ, PREFECT_API_URL=prefect_api, PREFECT_WORKER_QUERY_SECONDS="1")
    newsmon = [sys.executable, "-m", "flows.cli"]
    started = []
    for n in range(k):
        log = (data / f"worker{n}.log").open("w")
        started.append(subprocess.Popen(
            [*newsmon, "worker", "--config", str(config), "--db", str(data / f"w{n}" / "n.duckdb")],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        ))  # fmt: skip
    for n in range(k):  # every worker polls the pool before the pass begins
        while "started" not in (data / f"worker{n}.log").read_text():
            time.sleep(0.2)
    cpu_before = _cpu_children()
    began = time.perf_counter()
    done = subprocess.run(
        [*newsmon, "run", "--config", str(config), "--db", str(data / "coord" / "n.duckdb")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - began
    for process in started:
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT if pid == process.pid else signal.SIGTERM)
    for process in started:
        process.wait()
    cpu = _cpu_children() - cpu_before
    server.stop()
    con = lake.connect(catalog, str(data / "lake"), read_only=True)
    stored = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    con.close()
    return {
        "workers": k, "outlets": outlets, "pages": outlets * pages, "stored": stored,
        "pass_exit": done.returncode, "wall_s": round(wall, 1),
        "articles_per_s": round(stored / wall, 2), "cpu_s": round(cpu, 1),
    }  # fmt: skip


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("commits", help="catalog cost per commit, small files, maintenance")
    c.add_argument("--commits", type=int, default=30)
    c.add_argument("--sizes", default="1,10,250")
    w = sub.add_parser("workers", help="throughput of 1..N newsmon workers into one lake")
    w.add_argument("--outlets", type=int, default=6)
    w.add_argument("--pages", type=int, default=60, help="articles per outlet")
    w.add_argument("--max-workers", type=int, default=3)
    args = parser.parse_args(argv)
    from tests.support.postgres import PostgresUnavailable, TempPostgres

    try:
        pg = TempPostgres().__enter__()
    except PostgresUnavailable as exc:
        print(f"skipped: {exc}")
        return 0
    try:
        print(f"PostgreSQL started in {pg.startup_s:.2f} s (initdb and start)")
        if args.what == "workers":
            return _workers_main(pg, args)
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for size in [int(s) for s in args.sizes.split(",")]:
                r = commits(pg, size, args.commits, Path(tmp))
                results.append(r)
                m = r["maintenance"]
                print(
                    f"{size:>4} rows/commit: insert {r['insert_ms_median']} ms, commit "
                    f"{r['commit_ms_median']} ms (p90 {r['commit_ms_p90']}), catalog "
                    f"+{r['catalog_bytes_per_commit']} B/commit, {r['files_after_commits']} files "
                    f"({r['data_bytes'] // 1024} KiB); flush {m['flush_inlined']['ms']} ms -> "
                    f"{m['flush_inlined']['files']} files, merge {m['merge_adjacent']['ms']} ms -> "
                    f"{m['merge_adjacent']['files']}, expire+cleanup -> "
                    f"{m['cleanup_old_files']['files']} files; scan {r['scan_ms_before']} -> "
                    f"{r['scan_ms_after']} ms"
                )
    finally:
        pg.__exit__(None, None, None)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lake_commits_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"startup_s": pg.startup_s, "runs": results}, indent=2))
    print(f"wrote {out}")
    return 0


def _workers_main(pg, args: argparse.Namespace) -> int:
    # As the tests do: the harness server's telemetry would write its SQLite database too.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    results = []
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        api = str(PREFECT_API_URL.value())
        for k in range(1, args.max_workers + 1):
            r = workers(pg, api, k, args.outlets, args.pages, Path(tmp))
            results.append(r)
            print(
                f"{k} worker(s): {r['stored']}/{r['pages']} articles in {r['wall_s']} s "
                f"= {r['articles_per_s']} articles/s, {r['cpu_s']} CPU s"
                + ("" if r["pass_exit"] == 0 else f" (the pass exited {r['pass_exit']})")
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lake_workers_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
