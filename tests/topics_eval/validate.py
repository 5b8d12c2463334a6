"""Check the topic evaluation set: python tests/topics_eval/validate.py

Checks every *.jsonl set (valid JSON per line, schema, unique ids across the sets, minimum
counts per language and label in set.jsonl, 50-350 words, Azerbaijani letters in az texts,
Cyrillic in ru texts, a note on every borderline item) and corpus_labels.json (one entry per article of the azernews corpus, when
the corpus is present next to the repository). Prints counts; exits 1 on any problem.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpora" / "azernews-scraped-text"
LANGS = ("en", "ru", "az")
MIN_POS, MIN_NEG = 25, 30  # per language, over all sets
MIN_WORDS = 50  # short wire items are news too
KEYS = {"id", "lang", "label", "category", "title", "text"}
AZ_LETTERS = re.compile("[əğıöüçşİ]")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LATIN = re.compile("[a-z]", re.IGNORECASE)


def check_set(paths: list[Path]) -> list[str]:
    errors = []
    items = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"{path.name} line {n}: invalid JSON ({exc})")
    ids = Counter(item.get("id") for item in items)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    for item in items:
        iid = item.get("id")
        missing = KEYS - item.keys()
        extra = item.keys() - KEYS - {"note"}
        if missing or extra:
            errors.append(f"{iid}: missing {sorted(missing)}, unexpected {sorted(extra)}")
            continue
        if item["lang"] not in LANGS or not iid.startswith(item["lang"] + "-"):
            errors.append(f"{iid}: bad lang {item['lang']}")
        if item["label"] not in (0, 1):
            errors.append(f"{iid}: bad label {item['label']}")
        words = len(item["text"].split())
        if not MIN_WORDS <= words <= 350:
            errors.append(f"{iid}: {words} words")
        text = item["title"] + " " + item["text"]
        if item["lang"] == "az" and not AZ_LETTERS.search(text):
            errors.append(f"{iid}: no Azerbaijani letters")
        if item["lang"] == "ru" and len(CYRILLIC.findall(text)) < 4 * len(LATIN.findall(text)):
            errors.append(f"{iid}: not mostly Cyrillic")
        if item["category"] == "borderline" and not item.get("note"):
            errors.append(f"{iid}: borderline item without a note")
    counts = Counter((item.get("lang"), item.get("label")) for item in items)
    for lang in LANGS:
        pos, neg = counts[(lang, 1)], counts[(lang, 0)]
        print(f"{lang}: {pos} positives, {neg} negatives")
        if pos < MIN_POS or neg < MIN_NEG:
            errors.append(f"{lang}: needs >= {MIN_POS} positives and >= {MIN_NEG} negatives")
    return errors


def check_corpus_labels(path: Path) -> list[str]:
    labels = json.loads(path.read_text(encoding="utf-8"))
    errors = [
        f"{key}: bad entry"
        for key, entry in labels.items()
        if entry.get("label") not in (0, 1) or not entry.get("category") or not entry.get("note")
    ]
    positives = sum(entry.get("label") == 1 for entry in labels.values())
    print(f"corpus_labels: {len(labels)} articles, {positives} positive")
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}; coverage not checked")
        return errors
    expected = {}
    for file in sorted(CORPUS.glob("*.json")):
        for index, article in enumerate(json.loads(file.read_text(encoding="utf-8"))):
            expected[f"{file.name}#{index}"] = article.get("link")
    errors += [f"corpus article {key} has no label" for key in expected.keys() - labels.keys()]
    errors += [f"label {key} matches no corpus article" for key in labels.keys() - expected.keys()]
    errors += [
        f"{key}: link differs from the corpus"
        for key in labels.keys() & expected.keys()
        if labels[key].get("link") != expected[key]
    ]
    return errors


if __name__ == "__main__":
    sets = sorted(HERE.glob("*.jsonl"))
    problems = check_set(sets) + check_corpus_labels(HERE / "corpus_labels.json")
    for problem in problems:
        print("ERROR:", problem)
    sys.exit(1 if problems else 0)
