"""How fast typical analyst queries run on a store of 100,000 articles.

    python -m benchmarks.query_bench [--articles 100000] [--repeat 7] [--keep]

Builds a DuckDB store through the real storage API (`Store.write` of `Batch`es, as the
pipeline writes them: story placement with real fingerprints, topic rows scored by the
project's first rule in newsmon.toml, one `fetches` row per article). The articles are
generated in English, Russian and Azerbaijani (Russian and Azerbaijani words in several
inflected forms): Zipf-distributed vocabulary with news words and place names, 9 outlets, fetch
dates spread over one year up to the build time, 12% of articles copies (verbatim or edited)
of an article another outlet published shortly before, so that stories span outlets.
Fingerprints and topic scores are computed in worker processes, as the extraction workers do.

Then times each query --repeat times on an open read-only connection (median and min; the
first, cold run is reported apart), once more through `Store.query` (open, query, close: what
the API and `newsmon sql` pay), and `newsmon sql` end to end in a subprocess. Queries that
say "now" use the build time, so a kept store gives the same answers later.

With --keep the store is kept in benchmarks/results/cache/ and reused by the next run with
the same --articles, and the desk's figures follow (benchmarks/desk_bench.py: the full-text
index built pass by pass, search latency, every page of `newsmon web`). Prints tables and
writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.generated_news import GENERATOR, OUTLETS, RARE_WORD, make_articles

RESULTS = Path(__file__).parent / "results"
CACHE = RESULTS / "cache"
ROOT = Path(__file__).resolve().parents[1]
BATCH = 2000  # articles per Store.write (one outlet-run's worth in a busy pass)
CHUNK = 100  # articles per worker task


def bench_rules() -> tuple:
    """The project's first topic rule, as an analyst would configure it."""
    from flows.config import load

    config = ROOT / "newsmon.toml"
    return load(config).rules[:1] if config.exists() else ()


def build(db: Path, n: int, end: datetime) -> dict:
    """Write `n` generated articles through Store.write, BATCH at a time."""
    from extractors.records import Batch, FetchRecord, Outlet, OutletReport
    from storage.db import Store

    rules = bench_rules()
    store = Store(db)
    outlet_rows = [Outlet(o[0], o[1], o[2], o[3]) for o in OUTLETS]
    started = time.perf_counter()
    writes: list[float] = []
    stored = 0
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(os.cpu_count(), mp_context=ctx) as pool:

        def submit(first: int) -> list[Future]:
            stop = min(first + BATCH, n)
            return [
                pool.submit(make_articles, a, min(a + CHUNK, stop), n, end, rules)
                for a in range(first, stop, CHUNK)
            ]

        pending = [submit(first) for first in range(0, min(2 * BATCH, n), BATCH)]
        for number, first in enumerate(range(0, n, BATCH)):
            articles = [a for future in pending.pop(0) for a in future.result()]
            if first + 2 * BATCH < n:
                pending.append(submit(first + 2 * BATCH))
            run_id = f"bench-{number:04d}"
            now = articles[-1].fetched_at
            batch = Batch(
                run_id=run_id, outlets=outlet_rows, articles=articles,
                fetches=[
                    FetchRecord(a.outlet_id, "article", a.url, a.url, 200, 8 * len(a.text), 0.05, a.fetched_at, None)
                    for a in articles
                ],
                reports=[OutletReport(run_id, o[0], o[1], now, now) for o in OUTLETS],
            )  # fmt: skip
            t0 = time.perf_counter()
            stored += store.write(batch).stored
            writes.append(time.perf_counter() - t0)
            done = first + len(articles)
            if number % 10 == 0 or done == n:
                rate = done / (time.perf_counter() - started)
                print(f"  built {done:,}/{n:,} ({rate:.0f} articles/s)", flush=True)
    return {
        "articles": n, "stored": stored, "build_s": round(time.perf_counter() - started, 1),
        "store_write_s": round(sum(writes), 1), "rule": rules[0].id if rules else None,
        # Store.write of one batch, ms per article: does it grow with the store?
        "write_ms_per_article_first_last": [round(1000 * w / BATCH, 2) for w in (writes[0], writes[-1])],
        "end": end.isoformat(), "generator": GENERATOR,
    }  # fmt: skip


def queries(end: datetime, rule: str | None) -> dict[str, str]:
    now = f"TIMESTAMPTZ '{end.isoformat()}'"
    found = {
        "counts by day and outlet, last 30 days": f"""
            SELECT published_at::DATE AS day, outlet_id, count(*) AS articles FROM articles
            WHERE published_at > {now} - INTERVAL 30 DAY GROUP BY ALL ORDER BY day DESC, outlet_id""",
        "keyword: '%Azerbaijan%Russia%' in text or title, latest 20": """
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%Azerbaijan%Russia%' OR title ILIKE '%Azerbaijan%Russia%'
            ORDER BY published_at DESC LIMIT 20""",
        "keyword: Baku AND Moscow (README example), latest 20": """
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%Baku%' AND text ILIKE '%Moscow%' ORDER BY published_at DESC LIMIT 20""",
        f"keyword: rare word '{RARE_WORD}', all": f"""
            SELECT published_at, outlet_id, title, url FROM articles
            WHERE text ILIKE '%{RARE_WORD}%' OR title ILIKE '%{RARE_WORD}%' ORDER BY published_at DESC""",
        "topic join: rule's matched articles, latest 50": f"""
            SELECT a.published_at, o.name, a.title, t.score, t.terms
            FROM article_topics t JOIN articles a ON a.id = t.article_id
            JOIN outlets o ON o.id = a.outlet_id
            WHERE t.rule_id = '{rule}' AND t.matched ORDER BY a.published_at DESC LIMIT 50""",
        "story join: stories from >= 2 outlets, last 7 days": f"""
            SELECT title, outlets, copies, first_published FROM stories
            WHERE len(outlets) >= 2 AND first_seen > {now} - INTERVAL 7 DAY
            ORDER BY copies DESC, first_seen DESC""",
        "latest 50 items (ORDER BY fetched_at DESC)": """
            SELECT fetched_at, outlet_id, title, url FROM articles ORDER BY fetched_at DESC LIMIT 50""",
    }
    if rule is None:
        del found["topic join: rule's matched articles, latest 50"]
    return {name: " ".join(sql.split()) for name, sql in found.items()}


def timed(run, repeat: int) -> dict:  # noqa: ANN001 - a callable returning rows
    times, rows = [], None
    for _ in range(repeat + 1):
        started = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "cold_ms": round(times[0], 2), "median_ms": round(statistics.median(times[1:]), 2),
        "min_ms": round(min(times[1:]), 2), "rows": len(rows),
    }  # fmt: skip


def measure(db: Path, end: datetime, rule: str | None, repeat: int) -> dict:
    import duckdb

    from storage import extensions
    from storage.db import Store

    results: dict[str, dict] = {}
    # Store.query opens the same file beside this connection: DuckDB refuses a second
    # connection to one file with other settings, so this one takes the store's.
    con = duckdb.connect(str(db), read_only=True, config=extensions.connection_config())
    con.execute("SET TimeZone = 'UTC'")
    store = Store(db)
    try:
        for name, sql in queries(end, rule).items():
            results[name] = timed(lambda sql=sql: con.execute(sql).fetchall(), repeat)
            api = timed(lambda sql=sql: store.query(sql).rows, max(3, repeat // 2))
            results[name]["store_query_median_ms"] = api["median_ms"]
            results[name]["sql"] = sql
    finally:
        con.close()
    return results


def cli(db: Path, sql: str, repeat: int) -> dict:
    """`newsmon sql` end to end: interpreter start, imports, open, query, print."""
    exe = Path(sys.executable).with_name("newsmon")
    command = [str(exe) if exe.exists() else "newsmon", "sql", sql, "--db", str(db)]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1)}


def cached_store(n: int, keep: bool, tmp: Path) -> tuple[Path, dict]:
    folder = CACHE / f"query-{n}" if keep else tmp
    db, meta_path = folder / "bench.duckdb", folder / "meta.json"
    if keep and meta_path.exists() and db.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator") == GENERATOR and meta.get("articles") == n:
            print(f"reusing the store in {folder} (built {meta['end']})", flush=True)
            return db, {**meta, "reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    end = datetime.now(UTC).replace(microsecond=0)
    print(f"building {n:,} articles in {db} ...", flush=True)
    meta = build(db, n, end)
    meta_path.write_text(json.dumps(meta, indent=1))
    return db, {**meta, "reused": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep/reuse the store in results/cache")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        db, meta = cached_store(args.articles, args.keep, Path(tmp_name))
        end = datetime.fromisoformat(meta["end"])
        shape = _shape(db, meta.get("rule"))
        print(
            f"store: {shape['articles']:,} articles, {shape['stories']:,} stories "
            f"({shape['multi_outlet_stories']:,} from >= 2 outlets), {shape['matched']:,} matched "
            f"({100 * shape['matched'] / max(shape['articles'], 1):.1f}%), {shape['db_mb']} MB; "
            f"built in {meta['build_s']} s ({meta['store_write_s']} s in Store.write)",
            flush=True,
        )
        results = measure(db, end, meta.get("rule"), args.repeat)
        latest = queries(end, None)["latest 50 items (ORDER BY fetched_at DESC)"]
        cli_query = cli(db, latest, max(3, args.repeat // 2))
        cli_trivial = cli(db, "SELECT 1", max(3, args.repeat // 2))
    width = max(len(name) for name in results) + 2
    print(
        f"\n{'query':<{width}}{'median ms':>11}{'min ms':>9}{'cold ms':>9}{'Store.query':>13}{'rows':>7}"
    )
    for name, r in results.items():
        api = r.get("store_query_median_ms")
        print(
            f"{name:<{width}}{r['median_ms']:>11.1f}{r['min_ms']:>9.1f}{r['cold_ms']:>9.1f}"
            f"{'' if api is None else f'{api:.1f}':>13}{r['rows']:>7}"
        )
    print(
        f"\n`newsmon sql` end to end (latest 50): median {cli_query['median_ms']:.0f} ms, "
        f'min {cli_query["min_ms"]:.0f} ms; `newsmon sql "SELECT 1"`: median '
        f"{cli_trivial['median_ms']:.0f} ms (the CLI's own start-up)"
    )
    desk = None
    if args.keep:  # the desk's figures need the kept store: its index is built once
        from benchmarks import desk_bench

        print()
        desk = desk_bench.run(db, db.parent / "meta.json", end, args.repeat, compare_fts=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"query-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(), "cores": os.cpu_count(),
                "python": sys.version.split()[0], "store": {**meta, **shape}, "queries": results,
                "cli_latest_50": cli_query, "cli_select_1": cli_trivial, "desk": desk,
            },
            indent=1, default=str,
        )
    )  # fmt: skip
    print(f"wrote {path}")
    return 0


def _shape(db: Path, rule: str | None) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            """SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories),
                      (SELECT count(*) FROM stories WHERE len(outlets) >= 2),
                      (SELECT count(*) FROM article_topics WHERE matched AND rule_id = ?)""",
            [rule or ""],
        ).fetchall()[0]
    finally:
        con.close()
    size = sum(f.stat().st_size for f in db.parent.iterdir() if f.is_file())
    return {
        "articles": row[0], "stories": row[1], "multi_outlet_stories": row[2], "matched": row[3],
        "db_mb": round(size / 1e6, 1),
    }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
