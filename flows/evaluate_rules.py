"""Precision and recall of the topic rules on the labelled multilingual set.

    newsmon eval-rules [--rule ID] [--config FILE] [--corpora DIR]

The set is tests/topics_eval/set.jsonl (written for evaluation: positives like the seeds, hard
negatives such as Armenia–Azerbaijan talks or Russia–Ukraine war news). When ../shared/corpora
is present, the real azernews articles labelled in tests/topics_eval/corpus_labels.json are
scored too (their texts are read there, never copied).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from extractors.topics import Rule, score

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "tests" / "topics_eval" / "set.jsonl"
CORPUS_LABELS = ROOT / "tests" / "topics_eval" / "corpus_labels.json"
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


def load_set(path: Path = SET) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
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
        match = score(rule, item.title, item.text)
        tally = tallies.setdefault(item.lang, Tally())
        if match.matched and item.label:
            tally.tp += 1
        elif match.matched:
            tally.fp += 1
            tally.errors.append(
                f"false alarm {item.id} [{item.category}] score {match.score}: {', '.join(match.terms[:6])}"
            )
        elif item.label:
            tally.fn += 1
            tally.errors.append(
                f"missed {item.id} [{item.category}] score {match.score}: {', '.join(match.terms[:6]) or 'no terms'}"
            )
        else:
            tally.tn += 1
    return tallies


def report(rule: Rule, name: str, tallies: dict[str, Tally]) -> list[str]:
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
    for lang in sorted(tallies):
        lines += [f"  {e}" for e in tallies[lang].errors]
    return lines


def main(rule: Rule, corpora: Path | None = None) -> int:
    items = load_set()
    print("\n".join(report(rule, f"Labelled set {SET.relative_to(ROOT)}", evaluate(rule, items))))
    extra = load_corpus(corpora or DEFAULT_CORPORA)
    if extra:
        print()
        print(
            "\n".join(
                report(rule, "Real azernews articles (../shared/corpora)", evaluate(rule, extra))
            )
        )
    else:
        print("\n(no ../shared/corpora: labelled set only)")
    return 0
