"""Real texts from the shared corpora (read at run time, never copied into the project)."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path

from evaluation.dedup.documents import SAME_TOPIC, Document
from evaluation.dedup.variants import RECIPES, REPRINT_OUTLETS, make_variant


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def _azernews(folder: Path) -> list[Document]:
    seen: set[str] = set()
    docs = []
    for path in sorted(folder.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            link = item.get("link") or ""
            paragraphs = [" ".join(p.split()) for p in item.get("content") or [] if p.strip()]
            if link in seen or not paragraphs:
                continue
            seen.add(link)
            text = "\n".join(paragraphs)
            number = re.sub(r"\D", "", link.rsplit("/", 1)[-1]) or _slug(item["title"])
            russia = re.search(r"\b(Russia|Russian|Kremlin|Moscow)\b", text)
            docs.append(
                Document(
                    id=f"azernews-{number}",
                    cluster=f"azernews-{number}",
                    outlet="azernews",
                    kind="distinct",
                    text=text,
                    source=f"corpora/azernews-scraped-text/{path.name}: {link}",
                    title=item.get("title"),
                    language="en",
                    topic=SAME_TOPIC if russia else "azerbaijan",
                    author=item.get("author") or None,
                )
            )
    return docs


def _fundus(folder: Path, seed: int, sample: int) -> list[Document]:
    from extractors.article import detect_language

    index = json.loads((folder / "html_to_ground_truth.json").read_text(encoding="utf-8"))
    by_language: dict[str, list[Document]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for page, meta in sorted(index.items()):
        key = (meta["ground_truth_file"], meta["version"])
        if key in seen:
            continue
        seen.add(key)
        try:
            truth = json.loads((folder / key[0]).read_text(encoding="utf-8"))[key[1]]
        except (OSError, KeyError, ValueError):
            continue
        body = truth.get("body") or {}
        paragraphs = list(body.get("summary") or [])
        for section in body.get("sections") or []:
            paragraphs += list(section.get("headline") or []) + list(
                section.get("paragraphs") or []
            )
        paragraphs = [" ".join(p.split()) for p in paragraphs if p and p.strip()]
        text = "\n".join(paragraphs)
        if len(text.split()) < 80:
            continue
        language = detect_language(text)
        if language not in ("en", "ru"):
            continue
        name = f"fundus-{_slug(page.rsplit('/', 1)[-1].split('.')[0])}"
        authors = truth.get("authors") or []
        by_language[language].append(
            Document(
                id=name,
                cluster=name,
                outlet=f"fundus-{_slug(meta['publisher'])}",
                kind="distinct",
                text=text,
                source=f"corpora/fundus-parser-test-data/{page} (ground-truth body)",
                title=truth.get("title"),
                language=language,
                topic=None,
                author=authors[0] if authors else None,
            )
        )
    rng = random.Random(f"{seed}:fundus")
    english = by_language["en"]
    return by_language["ru"] + rng.sample(english, min(sample, len(english)))


def corpus_documents(corpora: Path, seed: int = 0, fundus_sample: int = 24) -> list[Document]:
    """Real texts from the shared corpora plus seeded variants of a subset; [] when absent."""
    originals: list[Document] = []
    if (corpora / "azernews-scraped-text").is_dir():
        originals += _azernews(corpora / "azernews-scraped-text")
    if (corpora / "fundus-parser-test-data" / "html_to_ground_truth.json").is_file():
        originals += _fundus(corpora / "fundus-parser-test-data", seed, fundus_sample)
    rng = random.Random(f"{seed}:corpus-variants")
    variants = []
    for group in ("azernews", "fundus"):
        members = [d for d in originals if d.id.startswith(group)]
        for base in rng.sample(members, min(8, len(members))):
            for n, recipe in enumerate(rng.sample(RECIPES, rng.choice([1, 2]))):
                outlet = rng.choice(REPRINT_OUTLETS)
                doc_rng = random.Random(f"{seed}:{base.id}:{n}")
                variants.append(make_variant(base, f"{base.id}-v{n + 1}", outlet, recipe, doc_rng))
    return originals + variants
