"""How the cost of placing one article into a story grows with the store, and what the index
costs in memory.

    python -m benchmarks.dedup_bench [--sizes 1000,10000,100000] [--probes 300]

Builds synthetic stores (Zipf-distributed vocabulary, ~350-word texts, real fingerprints),
then in a fresh process per size opens the store and places probe articles (half of them
edited copies of stored articles, half new) with the real StoryAssigner. Prints medians and
the peak RSS of that process; writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from extractors.article import article_id, content_hash
from extractors.fingerprint import fingerprint
from storage.db import Store
from storage.story_index import StoryIndex, content_key

RESULTS = Path(__file__).parent / "results"
VOCAB = [f"w{i}" for i in range(20000)]
WEIGHTS = [1 / (i + 1) for i in range(len(VOCAB))]


def text_for(seed: int) -> str:
    rng = random.Random(seed)
    words = rng.choices(VOCAB, WEIGHTS, k=rng.randint(250, 450))
    return "\n".join(" ".join(words[i : i + 40]) + "." for i in range(0, len(words), 40))


def _rows(seed: int) -> tuple:
    text = text_for(seed)
    fp = fingerprint(text)
    url = f"https://o{seed % 50}.example/news/article-{seed}"
    return seed, url, text, fp


def build(db: Path, start: int, stop: int) -> None:
    """Bulk-load synthetic articles with fingerprints and index rows (each its own story)."""
    Store(db).initialise()
    con = duckdb.connect(str(db))
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for chunk in range(start, stop, 5000):
            rows = list(pool.map(_rows, range(chunk, min(chunk + 5000, stop)), chunksize=200))
            ids = [article_id(url) for _, url, _, _ in rows]
            articles = pa.table(
                {
                    "id": ids, "outlet_id": [f"o{s % 50}" for s, *_ in rows],
                    "url": [u for _, u, _, _ in rows], "canonical_url": [u for _, u, _, _ in rows],
                    "fetched_at": [epoch + timedelta(minutes=s) for s, *_ in rows],
                    "text": [t for _, _, t, _ in rows],
                    "word_count": pa.array([len(t.split()) for _, _, t, _ in rows], pa.int32()),
                    "content_hash": [content_hash(t) for _, _, t, _ in rows],
                    "extractor_version": ["bench"] * len(rows), "story_id": ids,
                }
            )  # fmt: skip
            seqs = [s + 1 for s, *_ in rows]
            fps = pa.table(
                {
                    "seq": pa.array(seqs, pa.int32()), "article_id": ids, "story_id": ids,
                    "outlet_id": [f"o{s % 50}" for s, *_ in rows],
                    "content_key": pa.array([content_key(content_hash(t)) for _, _, t, _ in rows], pa.uint64()),
                    "minhash": pa.array([fp.minhash for *_, fp in rows], pa.list_(pa.uint32())),
                    "shingles": pa.array([fp.shingles for *_, fp in rows], pa.int32()),
                    "band_keys": pa.array([fp.band_keys for *_, fp in rows], pa.list_(pa.uint64())),
                    "lead_keys": pa.array([fp.lead_keys for *_, fp in rows], pa.list_(pa.uint64())),
                    "snippet": [fp.snippet for *_, fp in rows],
                }
            )  # fmt: skip
            for name, table in (("articles", articles), ("article_fingerprints", fps)):
                con.register("t", table)
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM t")
                con.unregister("t")
    StoryIndex(db.with_name(db.name + ".index")).rebuild(con)
    # DuckDB sequences cannot be advanced: recreate it past the bulk-loaded rows.
    con.execute(f"DROP SEQUENCE fingerprint_seq; CREATE SEQUENCE fingerprint_seq START {stop + 1}")
    con.close()


def probe(db: str, size: int, probes: int) -> dict:
    """Runs in a fresh process: open the store, place probe articles, report timings and RSS."""
    from extractors.records import Article
    from storage.stories import StoryAssigner

    rng = random.Random(7)
    con = duckdb.connect(db)
    index = StoryIndex(Path(db + ".index"))
    started = time.perf_counter()
    index.open(con)
    open_ms = (time.perf_counter() - started) * 1000
    timings, joined = [], 0
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(probes):
        if i % 2 == 0:  # an edited copy of a stored article: should join its story
            words = text_for(rng.randrange(size)).split()
            cut = rng.randrange(len(words) // 2)
            text = " ".join(words[:cut] + ["editor", "note", "added"] + words[cut + 20 :])
        else:
            text = text_for(10_000_000 + i)
        url = f"https://probe.example/news/probe-{i}"
        a = Article(
            id=article_id(url), outlet_id="probe", url=url, canonical_url=url, title=None, authors=[],
            published_at=None, date_source=None, fetched_at=epoch, language=None, description=None,
            tags=[], sitename=None, text=text, word_count=len(text.split()), content_hash=content_hash(text),
            extractor_version="bench", discovered_via="feed", fingerprint=fingerprint(text),
        )  # fmt: skip
        started = time.perf_counter()
        placement = StoryAssigner(con, index).place(a)
        timings.append(time.perf_counter() - started)
        joined += placement.story_id != a.id
    con.close()
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    return {
        "size": size, "probes": probes, "median_ms": statistics.median(timings) * 1000,
        "p90_ms": sorted(timings)[int(0.9 * len(timings))] * 1000, "joined": joined,
        "expected_joins": (probes + 1) // 2, "peak_rss_mb": round(peak, 1),
        "db_mb": round(os.path.getsize(db) / 1e6, 1), "index_open_ms": round(open_ms, 1),
        "index_files_mb": round(sum(f.stat().st_size for f in Path(db + ".index").iterdir()) / 1e6, 1),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--probe-only", nargs=2, metavar=("DB", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_only:
        print(json.dumps(probe(args.probe_only[0], int(args.probe_only[1]), args.probes)))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        built = 0
        for size in sizes:
            started = time.perf_counter()
            build(db, built, size)
            built = size
            load_s = time.perf_counter() - started
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.dedup_bench", "--probe-only", str(db), str(size), "--probes", str(args.probes)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["build_s"] = round(load_s, 1)
            results.append(result)
            print(
                f"{size:>8} stored: place one article median {result['median_ms']:.2f} ms "
                f"(p90 {result['p90_ms']:.2f}), joined {result['joined']}/{result['expected_joins']} copies, "
                f"peak RSS {result['peak_rss_mb']} MB, index files {result['index_files_mb']} MB "
                f"(opened in {result['index_open_ms']} ms), db {result['db_mb']} MB",
                flush=True,
            )
    base, top = results[0], results[-1]
    ratio = top["median_ms"] / base["median_ms"]
    print(
        f"ratio {top['size']}/{base['size']}: {ratio:.2f}x (target ≤ 2x); peak RSS at {top['size']}: {top['peak_rss_mb']} MB (target < 500)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"dedup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps({"results": results, "ratio": ratio, "cpus": os.cpu_count()}, indent=1)
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
