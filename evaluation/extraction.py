"""Extraction quality: newsmon's records against plain trafilatura's, on real pages.

    python -m evaluation.extraction [--corpora ../shared/corpora] [--only NAME ...]
                                    [--limit N] [--dump FILE.jsonl] [--no-cache]

Corpora (each skipped when absent; all absent: nothing to do, exit 0):
- trafilatura-eval: 990 annotated pages (news, blogs, institutional; many languages).
- fundus: 258 news articles from 181 publishers in 45 countries.
- wcxb-dev: 793 article pages of 2025-26, split for good by a hash of each page's id into a
  development half (look at these pages when hunting for causes) and a held-out half (never
  looked at: it tells whether a change helps pages nobody has seen).

Figures, each over the pages whose ground truth has the field:
- title: the headline exactly (case, whitespace, Unicode compatibility forms and typographic
  quotes, dashes and invisible hyphens folded).
- author: every name given is one the ground truth names (no labels, site names or extras) and
  every full name of the ground truth is given (single-word credentials such as "MD" aside).
- date: the publication date within one day (time zones shift the day at the edges).
- body F1: token F1 of the text against the annotated main content.
- with / without: share of must-have snippets found in title + text, and of boilerplate
  snippets absent from them.
Plain trafilatura (bare_extraction defaults) is cached per trafilatura version in .eval-cache/.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".eval-cache"
_WORD = re.compile(r"\w+", re.UNICODE)
_NAME_SEPARATORS = re.compile(r"\s*(?:[,;&|/]|\band\b|\bund\b|\bи\b|\bvə\b)\s*", re.I)
FIGURES = ("title", "author", "date", "body F1", "with", "without")


@dataclass
class Truth:
    title: str | None = None
    authors: str | list[str] | None = None
    date: str | None = None
    body: str | None = None
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)


@dataclass
class Page:
    corpus: str
    key: str
    url: str
    html: str
    truth: Truth


def _gunzip(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


def trafilatura_eval(folder: Path) -> Iterator[Page]:
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    for url, meta in data.items():
        path = next(
            (
                p
                for sub in ("cache", "eval")
                if (p := folder / sub / (meta["file"] + ".gz")).is_file()
            ),
            None,
        )
        if path is None:
            continue
        truth = Truth(
            meta.get("title") or None, meta.get("author") or None, meta.get("date") or None,
            None, meta.get("with", []), meta.get("without", []),
        )  # fmt: skip
        yield Page("trafilatura-eval", url, url, _gunzip(path), truth)


def fundus(folder: Path) -> Iterator[Page]:
    mapping = json.loads((folder / "html_to_ground_truth.json").read_text(encoding="utf-8"))
    for html_file, meta in mapping.items():
        truth_all = json.loads((folder / meta["ground_truth_file"]).read_text(encoding="utf-8"))
        expected = truth_all.get(meta["version"])
        if not expected:
            continue
        body = _fundus_body(expected["body"]) if expected.get("body") else None
        truth = Truth(
            expected.get("title") or None, expected.get("authors") or None,
            expected.get("publishing_date") or None, body,
        )  # fmt: skip
        yield Page("fundus", html_file, meta["url"], _gunzip(folder / html_file), truth)


def _fundus_body(body: dict) -> str:
    parts = list(body.get("summary", []))
    for section in body.get("sections", []):
        parts += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(parts)


def wcxb_half(file_id: str) -> str:
    """A page's half of wcxb-dev, fixed by its id alone (so it never moves between runs)."""
    return "dev" if hashlib.sha256(file_id.encode()).digest()[0] % 2 == 0 else "held-out"


def wcxb(folder: Path) -> Iterator[Page]:
    for path in sorted((folder / "ground-truth").glob("*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        expected = meta["ground_truth"]
        file_id = path.stem  # one page's ground truth lacks its own file_id
        html = folder / "html" / f"{file_id}.html.gz"
        if not html.is_file():
            continue
        truth = Truth(
            expected.get("title") or None, expected.get("author") or None,
            expected.get("publish_date") or None, expected.get("main_content") or None,
            expected.get("with") or [], expected.get("without") or [],
        )  # fmt: skip
        url = meta.get("url") or f"https://unknown.invalid/{file_id}"
        yield Page(f"wcxb-dev/{wcxb_half(file_id)}", file_id, url, _gunzip(html), truth)


CORPORA = {
    "trafilatura-eval": ("trafilatura-eval", trafilatura_eval),
    "fundus": ("fundus-parser-test-data", fundus),
    "wcxb-dev": ("wcxb-dev", wcxb),
}


# --- the two extractors --------------------------------------------------------------------


def ours(html: str, url: str) -> dict:
    from extractors.article import ExtractJob, extract
    from extractors.records import Article

    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    result = extract(ExtractJob(html, url, url, "eval", origin, datetime.now(UTC), "eval"))
    if not isinstance(result, Article):
        return {"text": "", "title": None, "authors": [], "date": None}
    return {
        "text": result.text, "title": result.title, "authors": result.authors,
        "date": result.published_at.isoformat() if result.published_at else None,
    }  # fmt: skip


def plain(html: str, url: str) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return {"text": "", "title": None, "authors": [], "date": None}
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return {"text": doc.text or "", "title": doc.title, "authors": authors, "date": doc.date}


def _run(job: tuple[str, str, bool]) -> tuple[dict, dict | None]:
    html, url, with_plain = job
    return ours(html, url), plain(html, url) if with_plain else None


# --- scoring -------------------------------------------------------------------------------


def _fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def _words(text: str) -> str:
    """Lower-case words only, padded so that `in` matches whole words."""
    return " " + " ".join(_WORD.findall(_fold(text))) + " "


# Typographic variants that annotators and pages write either way ("We’ve" / "We've").
_TYPOGRAPHY = str.maketrans(
    {"’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
     "–": "-", "—": "-", "…": "...", "\u200b": None, "\u00ad": None}
)  # fmt: skip


def title_right(expected: str, got: str | None) -> bool:
    return _fold(expected.translate(_TYPOGRAPHY)) == _fold((got or "").translate(_TYPOGRAPHY))


def author_right(expected: str | list[str], got: list[str]) -> bool:
    parts = expected if isinstance(expected, list) else _NAME_SEPARATORS.split(expected)
    parts = [p for p in (_words(p) for p in parts) if p.strip()]
    if not got or not parts:
        return False
    given = [_words(name) for name in got]
    everything = " ".join(parts)
    if any(name.strip() and name not in everything for name in given):
        return False  # a name the ground truth does not have: a label, a site, an extra
    full_names = [p for p in parts if len(p.split()) >= 2] or parts
    found = " ".join(given)
    return all(p in found for p in full_names)


def date_right(expected: str, got: str | None) -> bool:
    e, g = _day(expected), _day(got)
    return e is not None and g is not None and abs((e - g).days) <= 1


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None


def token_f1(expected: str, got: str) -> float:
    a = Counter(_WORD.findall(expected.casefold()))
    b = Counter(_WORD.findall(got.casefold()))
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(b.values()), overlap / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def score(truth: Truth, got: dict) -> dict[str, tuple[float, int]]:
    """Per figure: (points, pages or snippets counted) for one page."""
    out: dict[str, tuple[float, int]] = {}
    if truth.title:
        out["title"] = (float(title_right(truth.title, got["title"])), 1)
    if truth.authors:
        out["author"] = (float(author_right(truth.authors, got["authors"])), 1)
    if truth.date and _day(truth.date):
        out["date"] = (float(date_right(truth.date, got["date"])), 1)
    if truth.body:
        out["body F1"] = (token_f1(truth.body, got["text"]), 1)
    # The headline is a field of its own in both records, not part of the text.
    text = _fold(f"{got['title'] or ''}\n{got['text']}")
    if truth.with_:
        out["with"] = (float(sum(_fold(s) in text for s in truth.with_)), len(truth.with_))
    if truth.without:
        absent = sum(_fold(s) not in text for s in truth.without)
        out["without"] = (float(absent), len(truth.without))
    return out


# --- running -------------------------------------------------------------------------------


def _cache_file() -> Path:
    import trafilatura

    return CACHE / f"plain-trafilatura-{trafilatura.__version__}.json.gz"


def _load_cache(use: bool) -> dict[str, dict]:
    path = _cache_file()
    if not use or not path.is_file():
        return {}
    return json.loads(gzip.decompress(path.read_bytes()))


def _save_cache(cache: dict[str, dict]) -> None:
    CACHE.mkdir(exist_ok=True)
    _cache_file().write_bytes(gzip.compress(json.dumps(cache).encode()))


def _cache_key(page: Page) -> str:
    return f"{page.corpus.split('/')[0]}:{page.key}:{hashlib.sha1(page.html.encode()).hexdigest()[:12]}"


def evaluate(
    pages: list[Page], use_cache: bool = True, dump: Path | None = None
) -> dict[str, dict[str, dict[str, list[float]]]]:
    """{corpus: {"newsmon"|"trafilatura": {figure: [points, count]}}}."""
    cache = _load_cache(use_cache)
    jobs = [(p.html, p.url, _cache_key(p) not in cache) for p in pages]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        results = list(pool.map(_run, jobs, chunksize=4))
    totals: dict[str, dict[str, dict[str, list[float]]]] = {}
    out = dump.open("w", encoding="utf-8") if dump else None
    for page, (mine, theirs) in zip(pages, results, strict=True):
        key = _cache_key(page)
        if theirs is None:
            theirs = cache[key]
        cache[key] = theirs
        row = {}
        for system, got in (("newsmon", mine), ("trafilatura", theirs)):
            figures = score(page.truth, got)
            row[system] = {"got": got, "score": figures}
            into = totals.setdefault(page.corpus, {}).setdefault(system, {})
            for name, (points, count) in figures.items():
                into.setdefault(name, [0.0, 0])
                into[name][0] += points
                into[name][1] += count
        if out:
            truth = asdict(page.truth)
            record = {"corpus": page.corpus, "key": page.key, "url": page.url, "truth": truth}
            out.write(json.dumps(record | row, ensure_ascii=False) + "\n")
    if out:
        out.close()
    if use_cache:
        _save_cache(cache)
    return totals


def table(totals: dict[str, dict[str, dict[str, list[float]]]], pages: Counter) -> str:
    head = f"{'corpus':<18}{'pages':>6}  {'extractor':<12}" + "".join(f"{f:>9}" for f in FIGURES)
    lines = [head, "-" * len(head)]
    for corpus in sorted(totals, key=_corpus_order):
        for index, system in enumerate(("newsmon", "trafilatura")):
            figures = totals[corpus].get(system, {})
            cells = "".join(f"{_ratio(figures.get(f)):>9}" for f in FIGURES)
            label = (corpus, str(pages[corpus])) if index == 0 else ("", "")
            lines.append(f"{label[0]:<18}{label[1]:>6}  {system:<12}{cells}")
        counts = totals[corpus].get("newsmon", {})
        lines.append(
            f"{'':<26}pages with each: "
            + ", ".join(f"{f} {int(counts[f][1])}" for f in FIGURES[:4] if counts.get(f))
        )
    return "\n".join(lines)


def _ratio(figure: list[float] | None) -> str:
    return f"{figure[0] / figure[1]:.3f}" if figure and figure[1] else "-"


def _corpus_order(name: str) -> tuple[int, str]:
    order = ["trafilatura-eval", "fundus", "wcxb-dev/dev", "wcxb-dev/held-out"]
    return (order.index(name) if name in order else len(order), name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument(
        "--only", nargs="*", default=None,
        help="corpora or halves to run, e.g. wcxb-dev/dev fundus (default: all)",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="pages per corpus (quick runs)")
    parser.add_argument("--dump", type=Path, default=None, help="per-page results as JSON lines")
    parser.add_argument("--no-cache", action="store_true", help="re-run plain trafilatura")
    args = parser.parse_args(argv)
    pages: list[Page] = []
    for name, (folder, load) in CORPORA.items():
        if not (args.corpora / folder).is_dir():
            continue
        found = [
            p for p in load(args.corpora / folder)
            if args.only is None or p.corpus in args.only or name in args.only
        ]  # fmt: skip
        pages += found[: args.limit] if args.limit else found
    if not pages:
        print(f"no corpora at {args.corpora}: nothing to evaluate (skipped)")
        return 0
    totals = evaluate(pages, use_cache=not args.no_cache, dump=args.dump)
    print(table(totals, Counter(p.corpus for p in pages)))
    print(
        "\nnewsmon = extractors.article.extract; trafilatura = trafilatura.bare_extraction "
        "defaults with metadata. date = within one day; body F1 = token F1 of the text."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
