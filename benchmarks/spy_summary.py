"""Summarise a py-spy raw profile by process role and function (inclusive samples).

    py-spy record --subprocesses --format raw -o prof.txt -- python -m benchmarks.pipeline_bench --sizes 1000
    python -m benchmarks.spy_summary prof.txt [--top 25] [--under _extract]

Roles as in pipeline_bench: extraction workers and the loopback server (both `spawn_main`
processes, told apart by what they run), Prefect's API server, the ingest process. With
--under NAME, the samples of each role are also broken down by the direct callees of NAME
(e.g. `_extract` to see where an extraction worker's time goes).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def role(process: str, frames: list[str]) -> str:
    text = ";".join(frames)
    if "uvicorn" in process or "prefect.server" in text or "uvicorn" in text:
        return "Prefect API server"
    if "_serve_static" in text or "_serve_demo" in text or "serve_forever" in text:
        return "loopback server"
    if "spawn_main" in process and ("_process_worker" in text or "_extract" in text):
        return "extraction workers"
    if "spawn_main" in process:
        return "other spawned"
    return "ingest process"


def name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match["file"].split("site-packages/")[-1].split("/work/main/")[-1]
    return f"{match['func']} ({file})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", default="_extract")
    args = parser.parse_args(argv)
    totals: Counter[str] = Counter()
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    below: dict[str, Counter[str]] = defaultdict(Counter)
    with open(args.profile, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            # --subprocesses prefixes the chain of processes (parent first) down to the sampled one
            chain = [f for f in frames if f.startswith("process ")]
            process = chain[-1] if chain else ""
            frames = [
                f
                for f in frames
                if not f.startswith("process ") and "--multiprocessing-fork" not in f
            ]
            r = role(process, frames)
            n = int(count)
            totals[r] += n
            for f_name in {name(f) for f in frames}:
                inclusive[r][f_name] += n
            for i, frame in enumerate(frames[:-1]):
                if name(frame).startswith(args.under + " "):
                    below[r][name(frames[i + 1])] += n
                    break
            else:
                if any(name(f).startswith(args.under + " ") for f in frames):
                    below[r]["(self)"] += n
    grand = sum(totals.values())
    print(f"{grand} samples")
    for r, n in totals.most_common():
        print(f"\n== {r}: {n} samples ({100 * n / grand:.1f}%)")
        for f_name, m in inclusive[r].most_common(args.top):
            print(f"  {100 * m / n:5.1f}%  {f_name}")
        if below[r]:
            whole = sum(below[r].values())
            print(f"  -- under {args.under}: {whole} samples ({100 * whole / n:.1f}% of the role)")
            for f_name, m in below[r].most_common(args.top):
                print(f"  {100 * m / whole:5.1f}%  {f_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
