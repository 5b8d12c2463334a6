"""Precision and recall of joining reports of one event across languages.

    make eval-crosslang            # = python -m evaluation.crosslang [--errors]

The labelled pairs are tests/crosslang_eval/pairs.jsonl (see its README): reports of one event
in two languages, and reports of two events on the same topic, sharing people and places,
within the join's time window. Rarities come from every text of tests/topics_eval, as from a
store's recent articles on one beat. The pairs are split by a hash into a half the thresholds
were chosen on (`tune`) and a half they were not (`check`); both are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from evaluation.rules import SETS, load_set
from extractors import crosslang
from extractors.crosslang import EventKey, event_key, rarity_from, same_event

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "crosslang_eval" / "pairs.jsonl"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same_event: bool
    hours_apart: float
    note: str

    @property
    def half(self) -> str:
        digit = int(hashlib.sha256(f"{self.a}|{self.b}".encode()).hexdigest(), 16) % 2
        return "tune" if digit == 0 else "check"


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Pair(r["a"], r["b"], r["same_event"], r["hours_apart"], r["note"]) for r in rows]


def keys() -> dict[str, EventKey]:
    items = [item for name in SETS for item in load_set(name)]
    return {i.id: event_key(i.title, i.text, i.lang) for i in items}


def judge(pairs: list[Pair], by_id: dict[str, EventKey]):  # noqa: ANN201
    rarity = rarity_from(by_id.values())
    tp = fp = fn = 0
    errors = []
    for p in pairs:
        match = same_event(by_id[p.a], by_id[p.b], rarity)
        joined = match.same and p.hours_apart <= crosslang.WINDOW_HOURS
        tp += joined and p.same_event
        fp += joined and not p.same_event
        fn += (not joined) and p.same_event
        if joined != p.same_event:
            kind = "false join" if joined else "missed"
            what = ", ".join(match.shared[:6]) or "nothing shared"
            errors.append(f"{kind} {p.a} ~ {p.b}: names {match.score} ({what}) — {p.note}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.crosslang", description=__doc__)
    parser.add_argument("--errors", action="store_true", help="list every wrong decision")
    args = parser.parse_args(argv)
    pairs, by_id = load_pairs(), keys()
    same = sum(p.same_event for p in pairs)
    print(
        f"{len(pairs)} pairs: {same} of one event, {len(pairs) - same} of two events on one topic"
    )
    print(
        f"join: >= {crosslang.MIN_SHARED} names/figures shared, a shared figure when both give "
        f"figures, else names >= {crosslang.NAMES_ONLY_SCORE:g}; within {crosslang.WINDOW_HOURS:g} h"
    )
    print(f"{'half':<7}{'pairs':>6}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}")
    for half in ("tune", "check", "all"):
        chosen = [p for p in pairs if half in ("all", p.half)]
        precision, recall, tp, fp, fn, errors = judge(chosen, by_id)
        print(f"{half:<7}{len(chosen):>6}{tp:>5}{fp:>5}{fn:>5}{precision:>11.3f}{recall:>8.3f}")
    for line in errors if args.errors else [e for e in errors if e.startswith("false")]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
