"""Full-text index, search and desk page latency on the query benchmark's store.

    python -m benchmarks.desk_bench [--articles 100000] [--repeat 7] [--compare-fts]

Run by `make bench-query` after the SQL queries (benchmarks/query_bench.py builds and keeps the
store). The first run indexes the kept store the way passes do, 2,000 articles at a time
(`Store.update_search_index` with a chunk of 2,000), and records how long each step took;
later runs reuse the index. Then:
- search: each query --repeat times on an open read-only connection, ranking alone
  (`storage.search.search`) and with the snippets of the first page (`desk.search_page`);
- pages: every page of `newsmon web` through its ASGI app (FastAPI's test client), each
  request opening the store read-only, querying, rendering and closing, as in production.
Medians and the slowest repeat are printed; --compare-fts also times DuckDB's own
`PRAGMA create_fts_index` over the same articles, on a copy of the store.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

SEARCHES = {
    "en, one common word": "relations",
    "en, two words": "Azerbaijan Russia",
    "en, rare word": "Zangezur",
    "ru, inflected form": "Азербайджана",
    "ru, two inflected words": "Азербайджаном России",
    "az, prefix with case ending": "Rusiyanın",
    "prefix everywhere": "Nakhchi*",
    "with filters (outlet, year)": "energy",
}
PAGE_CHUNK = 2000


def index_store(db: Path, meta_path: Path) -> dict:
    from storage.db import Store

    meta = json.loads(meta_path.read_text())
    if "index" in meta:
        return {**meta["index"], "reused": True}
    store = Store(db, lock_wait_s=30)
    steps: list[float] = []
    total = 0
    while True:
        started = time.perf_counter()
        added = _one_pass(store)
        if not added:
            break
        steps.append(time.perf_counter() - started)
        total += added
        if len(steps) % 10 == 0:
            print(f"  indexed {total:,} articles", flush=True)
    result = {
        "articles": total, "passes": len(steps), "total_s": round(sum(steps), 1),
        "first_pass_s": round(steps[0], 2) if steps else None,
        "median_pass_s": round(statistics.median(steps), 2) if steps else None,
        "last_pass_s": round(steps[-1], 2) if steps else None,
        "slowest_pass_s": round(max(steps), 2) if steps else None,
    }  # fmt: skip
    meta["index"] = result
    meta_path.write_text(json.dumps(meta, indent=1))
    return {**result, "reused": False}


def _one_pass(store) -> int:  # noqa: ANN001 - storage.db.Store
    """One pass's worth: the next 2,000 articles in one transaction, merge included."""
    from storage import search_index

    with store.db.transaction() as con:
        return search_index.update(con, limit=PAGE_CHUNK)


def search_latency(db: Path, end: datetime, repeat: int) -> dict:
    from storage import desk, search
    from storage.db import Store
    from storage.search import Filters
    from storage.search_words import Stems

    results = {}
    with Store(db).reading() as reading:
        con = reading.con
        stems = Stems(con)
        for name, query in SEARCHES.items():
            filters = Filters()
            if "filters" in name:
                filters = Filters(outlet="azertag", since=end.replace(month=1, day=1))
            rank = _timed(lambda q=query, f=filters: search.search(con, q, f, 20, 0, stems), repeat)
            page = _timed(lambda q=query, f=filters: desk.search_page(con, q, f, 20), repeat)
            found = search.search(con, query, filters, 20, 0, stems).total
            results[name] = {"query": query, "found": found, "rank": rank, "with_snippets": page}
    return results


def page_latency(db: Path, end: datetime, repeat: int) -> dict:
    from fastapi.testclient import TestClient

    from flows.web.app import create_app

    client = TestClient(create_app(db, now=lambda: end))
    story = json.loads(client.get("/?format=json").content)[0]["story_id"]
    pages = {
        "stories (home)": "/",
        "stories, filtered (rule, outlet)": "/?rule=azerbaijan-russia&outlet=interfax",
        "stories, page 40": "/?page=40",
        "story": f"/story/{story}",
        "search": "/search?q=Азербайджана",
        "alerts": "/alerts",
        "alerts.atom": "/alerts.atom",
        "outlets": "/outlets",
        "coverage, 30 days": "/coverage?days=30",
        "coverage, 90 days": "/coverage?days=90",
    }
    out = {}
    for name, path in pages.items():
        status = client.get(path).status_code
        out[name] = {"path": path, "status": status, **_timed(lambda p=path: client.get(p), repeat)}
    return out


def fts_pragma(db: Path) -> dict:
    """DuckDB's own index over the same articles (title, text), built from scratch."""
    import duckdb

    from storage import extensions

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.duckdb"
        shutil.copyfile(db, copy)
        con = duckdb.connect(str(copy), config=extensions.connection_config())
        try:
            extensions.load(con, "fts")
            started = time.perf_counter()
            con.execute(
                "PRAGMA create_fts_index('articles', 'id', 'title', 'text', "
                "stemmer='none', ignore='(\\.|[^\\p{L}\\p{N}])+')"
            )
            return {"create_fts_index_s": round(time.perf_counter() - started, 1)}
        finally:
            con.close()


def _timed(run, repeat: int) -> dict:  # noqa: ANN001 - a callable
    run()  # warm: first use of a query plan and the pages DuckDB reads
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def run(db: Path, meta_path: Path, end: datetime, repeat: int, compare_fts: bool) -> dict:
    print("full-text index: catching up in passes of 2,000 articles ...", flush=True)
    index = index_store(db, meta_path)
    print(
        f"  {index['articles']:,} articles in {index['passes']} passes, {index['total_s']} s "
        f"(pass: first {index['first_pass_s']} s, median {index['median_pass_s']} s, "
        f"last {index['last_pass_s']} s, slowest {index['slowest_pass_s']} s)"
        + (" [recorded when the index was built]" if index.get("reused") else ""),
        flush=True,
    )
    searches = search_latency(db, end, repeat)
    print(f"\n{'search':<32}{'query':<24}{'found':>7}{'rank ms':>9}{'+snippets ms':>14}")
    for name, r in searches.items():
        print(
            f"{name:<32}{r['query']:<24}{r['found']:>7}{r['rank']['median_ms']:>9.1f}"
            f"{r['with_snippets']['median_ms']:>14.1f}"
        )
    pages = page_latency(db, end, repeat)
    print(f"\n{'page':<36}{'median ms':>10}{'max ms':>9}  status")
    for name, r in pages.items():
        print(f"{name:<36}{r['median_ms']:>10.1f}{r['max_ms']:>9.1f}  {r['status']}")
    result = {"index": index, "searches": searches, "pages": pages}
    if compare_fts:
        result["fts_pragma"] = fts_pragma(db)
        print(f"\nPRAGMA create_fts_index over the same articles: {result['fts_pragma']}")
    return result


def main(argv: list[str] | None = None) -> int:
    from benchmarks.query_bench import CACHE, RESULTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compare-fts", action="store_true")
    args = parser.parse_args(argv)
    folder = CACHE / f"query-{args.articles}"
    if not (folder / "bench.duckdb").exists():
        print(f"no store in {folder}: run `make bench-query` first", file=sys.stderr)
        return 2
    meta = json.loads((folder / "meta.json").read_text())
    result = run(
        folder / "bench.duckdb", folder / "meta.json", datetime.fromisoformat(meta["end"]),
        args.repeat, args.compare_fts,
    )  # fmt: skip
    path = RESULTS / f"desk-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
