"""CPU per page of extractors.article.extract, one version of the code against another.

    python -m benchmarks.extract_cpu --before DIR [--after DIR] [--pages 300] [--rounds 3]

Each version runs in a process of its own (DIR holds its `extractors/` package; `--after`
defaults to this checkout), both warmed up, and the pages go to them alternately, page by
page and in alternating order, so that a busy machine slows both sides alike. A fixed set of
pages is used: every k-th page of the corpora in ../shared/corpora (fundus, trafilatura-eval,
wcxb-dev), or the demo's recorded articles when the corpora are absent. Prints the median CPU
per page of each side, their total, and the median of the per-page ratios.

To get a DIR for a commit: git archive COMMIT extractors | tar -x -C DIR
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pages(corpora: Path, count: int) -> list[tuple[str, str]]:
    """(url, html) of a fixed, spread-out page set."""
    found: list[Path] = []
    for pattern in ("fundus-parser-test-data/*/*.html.gz", "trafilatura-eval/*/*.html.gz",
                    "wcxb-dev/html/*.html.gz"):  # fmt: skip
        found += sorted(corpora.glob(pattern))
    if not found:
        demo = sorted((ROOT / "flows" / "demo" / "site").rglob("*.html"))
        return [(f"https://example.org/{p.stem}", p.read_text("utf-8")) for p in demo]
    step = max(1, len(found) // count)
    chosen = found[::step][:count]
    return [
        (
            f"https://example.org/{p.name}",
            gzip.decompress(p.read_bytes()).decode("utf-8", "replace"),
        )
        for p in chosen
    ]


def serve() -> None:
    """The worker side: extract each page sent on stdin, answer with its CPU seconds."""
    from extractors.article import ExtractJob, extract, warm_up

    try:  # what the pool's workers do before their first page (older code did it on import)
        from extractors.tuning import tune_worker
    except ImportError:
        pass
    else:
        tune_worker()
    warm_up()
    print(json.dumps({"module": sys.modules["extractors.article"].__file__}), flush=True)
    for line in sys.stdin:
        url, html = json.loads(line)
        job = ExtractJob(html, url, url, "bench", "https://example.org/", datetime.now(UTC), "feed")
        start = time.process_time()
        extract(job)
        print(json.dumps({"cpu": time.process_time() - start}), flush=True)


class Side:
    def __init__(self, name: str, code: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(code))
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=code,
        )  # fmt: skip
        self.module = json.loads(self.proc.stdout.readline())["module"]  # type: ignore[union-attr]
        self.cpu: list[float] = []

    def run(self, page: tuple[str, str]) -> float:
        self.proc.stdin.write(json.dumps(page) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return float(json.loads(self.proc.stdout.readline())["cpu"])  # type: ignore[union-attr]

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--serve"]:
        serve()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the page set")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    args = parser.parse_args(argv)
    chosen = pages(args.corpora, args.pages)
    before, after = Side("before", args.before.resolve()), Side("after", args.after.resolve())
    print(f"before: {before.module}\nafter:  {after.module}\n{len(chosen)} pages")
    try:
        for page in chosen[:5]:  # warm caches on both sides
            before.run(page), after.run(page)
        per_page: list[list[float]] = [[0.0, 0.0] for _ in chosen]
        for round_ in range(args.rounds):
            for index, page in enumerate(chosen):
                sides = (before, after) if (index + round_) % 2 == 0 else (after, before)
                for side in sides:
                    per_page[index][side is after] += side.run(page)
    finally:
        before.close()
        after.close()
    b = [pair[0] / args.rounds for pair in per_page]
    a = [pair[1] / args.rounds for pair in per_page]
    ratios = [y / x for x, y in zip(b, a, strict=True) if x > 0]
    print(f"median CPU per page: before {1000 * statistics.median(b):.2f} ms, "
          f"after {1000 * statistics.median(a):.2f} ms")  # fmt: skip
    print(f"total CPU per pass:  before {sum(b):.2f} s, after {sum(a):.2f} s "
          f"(after/before {sum(a) / sum(b):.3f})")  # fmt: skip
    print(f"median per-page ratio after/before: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
