"""What a compression bomb costs in memory: the peak RSS growth of one fetch, in a process of its
own, of a bomb like the one of issue 20 (`Content-Encoding: gzip, gzip`, 13 KB on the wire,
8 GiB inflated), beside the same fetch of an honest page compressed the same way.

    python -m benchmarks.bomb_bench [--runs 5]

Both are served on 127.0.0.1. Each trial is a fresh `python -m tests.support.bomb_probe`: a
warm-up fetch first (imports, connection pool), then the measured fetch; the growth is the
kernel's high-water mark of resident memory after the fetch minus the resident size before it
(the mark reset just before), with the address space capped at the start plus 2 GiB so that a
decoder without a bound fails there instead of taking the machine's memory. The target is under
100 MB for the bomb.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys

from tests.support.hostile import GZIP_GZIP_8GIB, HTML, HostileServer, page

TARGET_MB = 100


def probe(origin: str, path: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.bomb_probe", origin, path],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    bomb = GZIP_GZIP_8GIB.read_bytes()
    honest = gzip.compress(gzip.compress(HTML * 1000))  # 86 KB of page, two layers
    routes = {
        "/bomb": page(bomb, headers={"Content-Encoding": "gzip, gzip"}),
        "/honest": page(honest, headers={"Content-Encoding": "gzip, gzip"}),
        "/warm": page(),
    }
    growth: dict[str, list[float]] = {"/bomb": [], "/honest": []}
    with HostileServer(routes) as server:
        for run in range(args.runs):
            for path, figures in growth.items():
                result = probe(server.url, path)
                figures.append(float(result["growth_mb"]))  # type: ignore[arg-type]
                print(f"run {run + 1} {path}: {result}", flush=True)
    print(
        f"{len(bomb):,} bytes on the wire, 8 GiB inflated; peak RSS growth in MB over {args.runs} runs"
    )
    for path, figures in growth.items():
        print(f"  {path[1:]:7} median {statistics.median(figures):6.1f}  max {max(figures):6.1f}"
              f"  all {figures}")  # fmt: skip
    worst = max(growth["/bomb"])
    print(f"target: bomb under {TARGET_MB} MB: {'met' if worst < TARGET_MB else 'MISSED'}")
    return 0 if worst < TARGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
