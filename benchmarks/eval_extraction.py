"""Extraction quality: newsmon's path against plain trafilatura defaults, on real pages.

    python -m benchmarks.eval_extraction [--corpora ../shared/corpora] [--limit N]

- trafilatura-eval (990 annotated pages): share of `with` snippets found in title + text and
  of `without` snippets (boilerplate) absent from them.
- fundus test pages (258 articles from 181 publishers): title exact match, authors match (every
  expected name found), publication date on the same day, date with time of day and zone,
  body token F1, and whether a language was given.
Skips cleanly when the corpora are absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"\w+", re.UNICODE)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _ours(html: str, url: str) -> dict:
    from extractors.article import ExtractJob, extract
    from extractors.records import Article

    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    result = extract(ExtractJob(html, url, url, "eval", origin, datetime.now(UTC), "eval"))
    if not isinstance(result, Article):
        return {"text": "", "title": None, "authors": [], "date": None, "language": None}
    return {
        "text": result.text, "title": result.title, "authors": result.authors,
        "date": result.published_at.isoformat() if result.published_at else None,
        "language": result.language,
    }  # fmt: skip


def _plain(html: str, url: str) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return {"text": "", "title": None, "authors": [], "date": None, "language": None}
    authors = [a.strip() for a in re.split(r";", doc.author or "") if a.strip()]
    return {
        "text": doc.text or "",
        "title": doc.title,
        "authors": authors,
        "date": doc.date,
        "language": doc.language,
    }


def _both(item: tuple[str, str, str]) -> tuple[str, dict, dict]:
    key, html, url = item
    return key, _ours(html, url), _plain(html, url)


def trafilatura_eval(
    folder: Path, limit: int | None
) -> list[tuple[str, str, str, list[str], list[str]]]:
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    items = []
    for url, meta in data.items():
        for sub in ("cache", "eval"):
            path = folder / sub / (meta["file"] + ".gz")
            if path.is_file():
                html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
                items.append((url, html, url, meta.get("with", []), meta.get("without", [])))
                break
    return items[:limit] if limit else items


def fundus(folder: Path, limit: int | None) -> list[tuple[str, str, str, dict]]:
    mapping = json.loads((folder / "html_to_ground_truth.json").read_text(encoding="utf-8"))
    items = []
    for html_file, meta in mapping.items():
        truth_all = json.loads((folder / meta["ground_truth_file"]).read_text(encoding="utf-8"))
        truth = truth_all.get(meta["version"])
        if not truth:
            continue
        html = gzip.decompress((folder / html_file).read_bytes()).decode("utf-8", "replace")
        items.append((html_file, html, meta["url"], truth))
    return items[:limit] if limit else items


def body_text(body: dict) -> str:
    parts = list(body.get("summary", []))
    for section in body.get("sections", []):
        parts += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(parts)


def token_f1(expected: str, got: str) -> float:
    a, b = Counter(_WORD.findall(expected.casefold())), Counter(_WORD.findall(got.casefold()))
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(b.values()), overlap / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def _same_day(expected: str | None, got: str | None) -> bool:
    if not expected or not got:
        return False
    try:
        e = datetime.fromisoformat(expected)
        g = datetime.fromisoformat(got)
    except ValueError:
        return False
    if e.tzinfo and g.tzinfo:
        return e.astimezone(UTC).date() == g.astimezone(UTC).date() or e.date() == g.date()
    return e.date() == g.date()


def _has_time(got: str | None) -> bool:
    return bool(got) and "T" in got and not got.endswith("T00:00:00+00:00")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--limit", type=int, default=None, help="pages per corpus (quick runs)")
    args = parser.parse_args(argv)
    teval, fund = args.corpora / "trafilatura-eval", args.corpora / "fundus-parser-test-data"
    if not teval.is_dir() and not fund.is_dir():
        print(f"no corpora at {args.corpora}: nothing to evaluate (skipped)")
        return 0
    workers = os.cpu_count() or 1
    if teval.is_dir():
        items = trafilatura_eval(teval, args.limit)
        with ProcessPoolExecutor(workers) as pool:
            results = {
                k: (o, p)
                for k, o, p in pool.map(_both, [(u, h, u) for u, h, _, _, _ in items], chunksize=8)
            }
        score = {
            "ours": [0, 0, 0, 0],
            "plain": [0, 0, 0, 0],
        }  # with found, with total, without absent, without total
        for url, _, _, with_, without in items:
            for name, got in zip(("ours", "plain"), results[url], strict=True):
                # The headline is a field of its own in both records, not part of the text.
                text = _norm(f"{got['title'] or ''}\n{got['text']}")
                score[name][0] += sum(_norm(s) in text for s in with_)
                score[name][1] += len(with_)
                score[name][2] += sum(_norm(s) not in text for s in without)
                score[name][3] += len(without)
        print(f"trafilatura-eval: {len(items)} pages")
        print(f"{'':<10}{'with found':>12}{'without absent':>16}")
        for name, (wf, wt, na, nt) in score.items():
            print(f"{name:<10}{wf / wt:>12.3f}{na / nt:>16.3f}")
    if fund.is_dir():
        items = fundus(fund, args.limit)
        with ProcessPoolExecutor(workers) as pool:
            results = {
                k: (o, p)
                for k, o, p in pool.map(_both, [(k, h, u) for k, h, u, _ in items], chunksize=4)
            }
        rows = {"ours": Counter(), "plain": Counter()}
        f1 = {"ours": [], "plain": []}
        for key, _, _, truth in items:
            for name, got in zip(("ours", "plain"), results[key], strict=True):
                r = rows[name]
                r["pages"] += 1
                if truth.get("title"):
                    r["title_n"] += 1
                    r["title"] += _norm(got["title"]) == _norm(truth["title"])
                expected_authors = [_norm(a) for a in truth.get("authors") or []]
                if expected_authors:
                    r["author_n"] += 1
                    found = " | ".join(_norm(a) for a in got["authors"])
                    r["author"] += all(a in found for a in expected_authors)
                if truth.get("publishing_date"):
                    r["date_n"] += 1
                    r["date"] += _same_day(truth["publishing_date"], got["date"])
                    r["time"] += _has_time(got["date"])
                r["language"] += bool(got["language"])
                if truth.get("body"):
                    f1[name].append(token_f1(body_text(truth["body"]), got["text"]))
        print(f"\nfundus: {len(items)} pages")
        print(
            f"{'':<10}{'title':>8}{'authors':>9}{'date day':>10}{'time+zone':>11}{'body F1':>9}{'language':>10}"
        )
        for name, r in rows.items():
            mean_f1 = sum(f1[name]) / len(f1[name]) if f1[name] else 0.0
            print(
                f"{name:<10}{r['title'] / r['title_n']:>8.3f}{r['author'] / r['author_n']:>9.3f}"
                f"{r['date'] / r['date_n']:>10.3f}{r['time'] / r['date_n']:>11.3f}{mean_f1:>9.3f}"
                f"{r['language'] / r['pages']:>10.3f}"
            )
    print(
        "\nours = newsmon's extraction (extractors.article.extract); plain = trafilatura.bare_extraction defaults"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
