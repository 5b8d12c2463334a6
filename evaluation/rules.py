"""Precision and recall of the topic rules on the labelled multilingual sets.

    make eval-rules                      # = python -m evaluation.rules
    python -m evaluation.rules [--config FILE] [--rule ID] [--sets original,hard] [--corpora DIR]

The sets live in tests/topics_eval/ (see its README): `original` (set.jsonl, 189 items), `hard`
(hard.jsonl, 60 hard negatives and positives the shipped rule was tuned on), `heldout1` (36
items written before any tuning; its first run is in the README, after which it was tuned on)
and `heldout2` (24 items written before the second round of tuning, never tuned on), and
`heldout3` (100 items written before the third round, never tuned on). `extended` is all of
them together. When ../shared/corpora is present, the real azernews
articles labelled in tests/topics_eval/corpus_labels.json are scored too (their texts are read
there, never copied). Evaluation reads tests/ and ../shared, so it lives outside the product.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from extractors.article import detect_language
from extractors.topics import Rule, score

ROOT = Path(__file__).resolve().parents[1]
SETS_DIR = ROOT / "tests" / "topics_eval"
SETS = {
    "original": "set.jsonl",
    "hard": "hard.jsonl",
    "heldout1": "heldout1.jsonl",
    "heldout2": "heldout2.jsonl",
    "heldout3": "heldout3.jsonl",
}
CORPUS_LABELS = SETS_DIR / "corpus_labels.json"
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"


@dataclass(frozen=True)
class Item:
    id: str
    lang: str
    label: int
    category: str
    title: str
    text: str


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load_set(name: str = "original") -> list[Item]:
    items = []
    for line in (SETS_DIR / SETS[name]).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            items.append(
                Item(d["id"], d["lang"], int(d["label"]), d["category"], d["title"], d["text"])
            )
    return items


def load_corpus(corpora: Path) -> list[Item]:
    folder = corpora / "azernews-scraped-text"
    if not folder.is_dir() or not CORPUS_LABELS.is_file():
        return []
    labels = json.loads(CORPUS_LABELS.read_text(encoding="utf-8"))
    items = []
    for key, meta in labels.items():
        name, _, index = key.partition("#")
        path = folder / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        records = data if isinstance(data, list) else [data]
        record = records[int(index or 0)]
        content = record.get("content", "")
        text = "\n".join(content) if isinstance(content, list) else str(content)
        items.append(
            Item(
                f"azernews:{key}",
                "en",
                int(meta["label"]),
                meta.get("category", ""),
                record.get("title", ""),
                text,
            )
        )
    return items


def evaluate(rule: Rule, items: list[Item]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for item in items:
        # As the pipeline scores it: with the language the extraction detects.
        match = score(rule, item.title, item.text, detect_language(f"{item.title}\n{item.text}"))
        tally = tallies.setdefault(item.lang, Tally())
        terms = ", ".join(match.terms[:6]) or "no terms"
        if match.matched and item.label:
            tally.tp += 1
        elif match.matched:
            tally.fp += 1
            tally.errors.append(
                f"false alarm {item.id} [{item.category}] score {match.score}: {terms}"
            )
        elif item.label:
            tally.fn += 1
            tally.errors.append(f"missed {item.id} [{item.category}] score {match.score}: {terms}")
        else:
            tally.tn += 1
    return tallies


def report(rule: Rule, name: str, tallies: dict[str, Tally], errors: bool = True) -> list[str]:
    lines = [
        f"{name} — rule {rule.id} ({rule.signature()})",
        f"{'lang':<6}{'items':>6}{'pos':>5}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}",
    ]
    for lang in sorted(tallies):
        t = tallies[lang]
        n = t.tp + t.fp + t.fn + t.tn
        lines.append(
            f"{lang:<6}{n:>6}{t.tp + t.fn:>5}{t.tp:>5}{t.fp:>5}{t.fn:>5}{t.precision:>11.3f}{t.recall:>8.3f}"
        )
    if errors:
        for lang in sorted(tallies):
            lines += [f"  {e}" for e in tallies[lang].errors]
    return lines


def run(rule: Rule, sets: list[str], corpora: Path | None = None) -> list[str]:
    lines: list[str] = []
    loaded = {name: load_set(name) for name in sets}
    for name, items in loaded.items():
        lines += report(rule, f"{name} ({SETS[name]})", evaluate(rule, items)) + [""]
    if len(loaded) > 1:
        every = [item for items in loaded.values() for item in items]
        title = f"extended ({' + '.join(loaded)})"
        lines += report(rule, title, evaluate(rule, every), errors=False) + [""]
    extra = load_corpus(corpora or DEFAULT_CORPORA)
    if extra:
        title = "real azernews articles (../shared/corpora)"
        lines += report(rule, title, evaluate(rule, extra))
    else:
        lines.append("(no ../shared/corpora: labelled sets only)")
    return lines


def main(argv: list[str] | None = None) -> int:
    from flows.config import ConfigError, load

    parser = argparse.ArgumentParser(prog="python -m evaluation.rules", description=__doc__)
    parser.add_argument("--config", type=Path, default=ROOT / "newsmon.toml")
    parser.add_argument("--rule", help="only this rule id")
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS)
    )
    parser.add_argument("--corpora", type=Path, default=None)
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    if unknown := [s for s in sets if s not in SETS]:
        parser.error(f"unknown set {unknown[0]!r} (known: {', '.join(SETS)})")
    try:
        rules = [r for r in load(args.config).rules if args.rule in (None, r.id)]
    except ConfigError as exc:
        parser.error(str(exc))
    if not rules:
        parser.error(f"{args.config}: no rule to evaluate")
    for rule in rules:
        print("\n".join(run(rule, sets, args.corpora)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
