"""The report: `python -m evaluation.dedup` (make eval-dedup)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from evaluation.dedup.corpora import corpus_documents
from evaluation.dedup.documents import DEFAULT_CORPORA, DEFAULT_SET, Document, load_set
from evaluation.dedup.report import format_details, format_table
from evaluation.dedup.scoring import Scores, evaluate


def main(
    corpora: Path | None = None,
    *,
    set_dir: Path | None = None,
    seed: int = 0,
    orders: int = 1,
    show: int = 25,
) -> int:
    """Evaluate on the committed set, and on the set plus the shared corpora when present
    (`corpora`, or when None ../shared/corpora next to the repository): the table, then the
    errors with the similarity figures behind them. `orders` > 1 repeats each evaluation with
    shuffle seeds seed, seed+1, ... (the store's grouping can depend on arrival order)."""
    set_dir = set_dir or DEFAULT_SET
    if not (set_dir / "labels.json").is_file():
        print(f"no labelled set at {set_dir} (it ships with the repository's tests)")
        return 1
    committed = load_set(set_dir)
    corpora = corpora or DEFAULT_CORPORA
    extra = corpus_documents(corpora) if corpora.is_dir() else []
    sets = [("committed set", committed)]
    if extra:
        sets.append(("committed + corpora", committed + extra))
    runs: list[tuple[Scores, list[Document]]] = []
    for name, documents in sets:
        for order in range(seed, seed + max(1, orders)):
            label = name if orders <= 1 else f"{name} (order {order})"
            runs.append((evaluate(documents, order, label), documents))
    seeds = f"shuffle seed {seed}" if orders <= 1 else f"shuffle seeds {seed}..{seed + orders - 1}"
    print(f"Story deduplication, pairwise over all document pairs ({seeds})")
    print(format_table([r for r, _ in runs]))
    if extra:
        print(f"(corpora from {corpora}: {len(extra)} documents added)")
    else:
        print(f"(no corpora at {corpora}: committed set only)")
    for result, documents in runs:
        print()
        print(format_details(result, documents, limit=show))
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.dedup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--corpora", type=Path, default=None, help="shared corpora folder")
    parser.add_argument("--set", dest="set_dir", type=Path, default=None, help="labelled set")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed of the ingest order")
    parser.add_argument("--orders", type=int, default=1, help="evaluate this many shuffles")
    args = parser.parse_args(argv)
    return main(args.corpora, set_dir=args.set_dir, seed=args.seed, orders=args.orders)


if __name__ == "__main__":
    sys.exit(cli())
