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
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_site import SERVERS, setup_env
from benchmarks.memory_bench import ingest_only, run_sizes
from benchmarks.throughput import print_run, run_all

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]


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
    setup_env()
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
