"""How well story deduplication groups copies of one story, measured on labelled documents.

Every document becomes one article in a fresh temporary DuckDB store, written the way the
pipeline writes (several runs, one `Batch` per outlet and run, in a seeded shuffled order), so
the real `StoryAssigner` places it. Then every pair of documents is scored: predicted "same
story" = same `story_id` in the store (a same-outlet repost that became a URL alias counts
under the article it points to), truth = same `cluster` label. Reported: pairwise precision,
recall and F1, the false merges (pairs of different clusters put into one story), the missed
pairs, and how many false merges join two documents of one topic (different articles about the
same events, which is where a deduplicator is most tempted to merge).

The labelled set lives in `tests/dedup_eval/` (see its README); `tests/dedup_eval/build.py`
regenerates its syndication variants with the transformations defined here. When the shared
corpora are present (`../shared/corpora` next to the repository, or a path given), the set is
extended at run time with real texts read from there, never copied into the project: the 28
azernews.az articles and a sample of fundus ground-truth bodies (Russian and English), as extra
distinct documents plus variants generated from a seeded subset of them.

    python -m flows.evaluate_dedup [--corpora PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from pathlib import Path

from extractors.article import article_id, content_hash
from extractors.article_text import normalize_text
from extractors.fingerprint import (
    LEAD_SHINGLE,
    SAME_STORY_CONTAINMENT,
    SAME_STORY_JACCARD,
    SHINGLE,
    SNIPPET_LEAD_SHARE,
    SNIPPET_MIN_HITS,
    Fingerprint,
    fingerprint,
    is_snippet,
    jaccard,
    same_story,
    snippet_joins,
)
from extractors.records import Article, Batch
from extractors.urls import url_key
from storage.db import Store

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SET = REPO / "tests" / "dedup_eval"
DEFAULT_CORPORA = REPO.parent / "shared" / "corpora"
SAME_TOPIC = "azerbaijan-russia"


# -- documents ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Document:
    id: str
    cluster: str  # story label: documents with one label are copies of one story
    outlet: str
    kind: str  # original | real-copy | variant | snippet | distinct | wire-snippet | repost
    text: str
    source: str = ""  # where the text comes from and how it was transformed
    title: str | None = None
    language: str = "en"
    topic: str | None = None
    transforms: tuple[str, ...] = ()
    author: str | None = None


def load_set(path: Path = DEFAULT_SET) -> list[Document]:
    """The committed labelled set: `labels.json` plus the text files it names."""
    labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
    docs = []
    for entry in labels["documents"]:
        text = (path / entry["file"]).read_text(encoding="utf-8")
        docs.append(
            Document(
                id=entry["id"],
                cluster=entry["cluster"],
                outlet=entry["outlet"],
                kind=entry["kind"],
                text=text.strip("\n"),
                source=entry.get("source", ""),
                title=entry.get("title"),
                language=entry.get("language", "en"),
                topic=entry.get("topic"),
                transforms=tuple(entry.get("transforms", [])),
                author=entry.get("author"),
            )
        )
    return docs


# -- syndication variants ----------------------------------------------------------------------
# Word substitutions a copy editor or a rewriting aggregator makes (both directions where it
# reads naturally). Applied as whole words; the first letter's case is kept.
SUBSTITUTIONS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("relations", "ties"), ("ties", "relations"), ("said", "stated"), ("stated", "said"),
        ("country", "nation"), ("countries", "nations"), ("several", "a number of"),
        ("many", "numerous"), ("major", "key"), ("important", "significant"),
        ("significant", "considerable"), ("recent", "latest"), ("appear", "seem"),
        ("appears", "seems"), ("decision", "move"), ("tensions", "frictions"),
        ("crisis", "standoff"), ("talks", "negotiations"), ("officials", "authorities"),
        ("began", "started"), ("help", "assist"), ("very", "highly"), ("reports", "news"),
        ("flooded", "awash"), ("comes", "arrives"), ("particularly", "especially"),
        ("believe", "think"), ("trying", "seeking"), ("hit", "reached"), ("this week", "in recent days"),
        ("criticise", "criticize"), ("defence", "defense"), ("organisation", "organization"),
        ("recognise", "recognize"), ("Ekaterinburg", "Yekaterinburg"), ("Kiev", "Kyiv"),
        ("centre", "center"), ("move", "step"), ("long-delayed", "long-stalled"),
        ("moving forward", "advancing"), ("entered", "began"), ("deep", "sharp"),
        ("political observer", "political analyst"),
        ("around", "about"), ("warned", "cautioned"), ("amid", "during"),
        ("went down", "crashed"), ("accept responsibility", "take responsibility"),
        ("waiting", "hoping"), ("deteriorating", "worsening"), ("promising", "hopeful"),
    ],
    "ru": [
        ("отношения", "связи"), ("заявил", "сообщил"), ("заявила", "сообщила"),
        ("чаще всего", "как правило"), ("всё чаще", "всё больше"), ("однако", "впрочем"),
        ("эксперты", "аналитики"), ("имеют в виду", "подразумевают"), ("резко", "заметно"),
        ("сейчас", "теперь"), ("считает", "полагает"), ("значительная", "существенная"),
        ("говорят", "рассуждают"), ("страны", "государства"), ("ещё", "уже"),
        ("по словам", "как отмечает"), ("президент", "глава государства"),
    ],
    "az": [
        ("münasibətlər", "əlaqələr"), ("ciddi", "əhəmiyyətli"), ("bildirib", "qeyd edib"),
        ("ölkə", "dövlət"), ("aydındır", "bəllidir"), ("yaşayır", "keçirir"),
        ("ən gərgin", "ən ağır"), ("xeyli", "çox"), ("Ekspertlərin", "Analitiklərin"),
        ("həlak olub", "dünyasını dəyişib"), ("tələb edir", "istəyir"), ("lakin", "ancaq"),
    ],
}  # fmt: skip

EDITOR_NOTES = {
    "en": [
        "Editor's note: The views expressed in this article are the author's own and do not necessarily reflect the editorial policy of this outlet.",
        "Editor's note: This article has been updated to include reactions from officials in Baku and Moscow.",
    ],
    "ru": ["Мнение автора может не совпадать с позицией редакции."],
    "az": ["Redaksiyadan: Müəllifin mövqeyi redaksiyanın mövqeyi ilə üst-üstə düşməyə bilər."],
}
# What an aggregator adds to every story about the Baku–Moscow rift: the same paragraph lands
# in copies of different stories, a realistic source of shared text between them.
BACKGROUND = {
    "en": [
        "Relations between Baku and Moscow have been strained since December 2024, when an Azerbaijan Airlines passenger jet crashed near Aktau after being damaged over Grozny. Azerbaijan says the plane was hit by Russian air defence and has demanded that Moscow admit responsibility, punish those involved and pay compensation.",
        "Azerbaijan and Russia signed a Declaration on Allied Interaction in February 2022, two days before Russia's full-scale invasion of Ukraine. Russian peacekeepers deployed in Karabakh after the 2020 war left the region in 2024.",
    ],
    "ru": [
        "Отношения между Баку и Москвой осложнились после крушения самолёта AZAL под Актау в декабре 2024 года. Азербайджан настаивает, что лайнер был повреждён российской ПВО над Грозным, и требует признания вины, наказания виновных и компенсаций."
    ],
    "az": [
        "Qeyd edək ki, Azərbaycan ilə Rusiya arasında münasibətlər 2024-cü ilin dekabrında AZAL təyyarəsinin Aktau yaxınlığında qəzaya uğramasından sonra gərginləşib."
    ],
}
PREFIX_BOILERPLATE = {"en": "({name}) -- ", "ru": "({name}) — ", "az": "({name}) — "}
TOP_BOILERPLATE = {
    "en": ["This article was originally published by {name}.", "Source: {name}"],
    "ru": ["Материал впервые опубликован изданием {name}."],
    "az": ["Məqalə ilk dəfə {name} saytında dərc olunub."],
}
BOTTOM_BOILERPLATE = {
    "en": [
        "Source: {name}",
        "Read more: {url}",
        "Follow us on Telegram",
        "Follow us on Telegram for the latest news from Azerbaijan and the region.",
    ],
    "ru": ["Источник: {name}", "Читайте также: {url}", "Подписывайтесь на наш Telegram-канал"],
    "az": ["Mənbə: {name}", "Ətraflı: {url}", "Telegram kanalımıza abunə olun"],
}
DATELINES = {
    "en": [
        "MOSCOW (Sputnik) - ",
        "BAKU (Reuters) - ",
        "MOSCOW/BAKU (Reuters) -",
        "BAKU, July 8 (Trend) - ",
    ],
    "ru": ["МОСКВА, 8 июл – РИА Новости. ", "БАКУ, 8 июля. /ТАСС/. "],
    "az": ["Bakı, 8 iyul, AZƏRTAC. ", "Bakı. Trend: "],
}
BYLINE_FALLBACK = ["Dr. Leyla Hasanova", "Staff Writer", "Orxan Quliyev"]
HEADLINE_PREFIX = {"en": ["Analysis: ", "Opinion | ", "", ""], "ru": ["Мнение: ", ""], "az": ["Təhlil: ", ""]}  # fmt: skip
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
# Applied in this order whatever order a recipe lists them in; "snippet" replaces the text.
TRANSFORMS = ("cut", "added", "copyedit", "headline", "boilerplate", "flatten", "snippet")


def _table(language: str, table: dict) -> list:
    return table.get(language) or table["en"]


# Contexts where a substitution would break the sentence ("how many" -> "how numerous",
# "was hit by" -> "was reached by", "deep-water" -> "sharp-water"): (before, after) lookarounds.
_GUARDS: dict[str, tuple[str, str]] = {
    "comes": ("", r"(?! to\b)"),
    "very": ("", r"(?! (?:best|first|last|same|own|much|many|few|well|end|beginning)\b)"),
    "several": ("", r"(?! times\b)"),
    "many": (r"(?<!how )(?<!so )(?<!too )(?<!as )", r"(?! of\b)"),
    "help": ("", r"(?= (?:to|with)\b|[.,])"),
    "hit": ("", r"(?= (?:a|an|the|new)\b)"),
    "move": (r"(?<=a |e )", ""),
    "around": ("", r"(?= (?:\d|\$))"),
    "reports": ("", r"(?= (?:about|of|from|on)\b)"),
    "recent": ("", r"(?! (?:years|days|weeks|months|decades)\b)"),
    "ещё": ("", r"(?! не\b)"),
}


def substitute(text: str, language: str, count: int, rng: random.Random) -> tuple[str, int]:
    """Replace up to `count` words or phrases with their substitutes; returns the new text and
    how many replacements were made."""
    spans: list[tuple[int, int, str]] = []
    for old, new in _table(language, SUBSTITUTIONS):
        before, after = _GUARDS.get(old, ("", ""))
        pattern = re.compile(rf"(?<!-){before}\b{re.escape(old)}\b(?!-){after}", re.IGNORECASE)
        for m in pattern.finditer(text):
            word = m.group(0)
            repl = new[0].upper() + new[1:] if word[0].isupper() else new
            spans.append((m.start(), m.end(), repl))
    rng.shuffle(spans)
    chosen: list[tuple[int, int, str]] = []
    for span in spans:
        if len(chosen) >= count:
            break
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    for start, end, repl in sorted(chosen, reverse=True):
        text = text[:start] + repl + text[end:]
    return text, len(chosen)


def snippet_of(text: str, rng: random.Random, language: str, author: str | None) -> str:
    """A teaser: the first 25–60 words and an ellipsis, sometimes after a byline ("By Dr. X",
    no punctuation, as wire pages print it) or a news agency dateline."""
    words = text.split()
    n = rng.randint(25, 60)
    if len(words) < n + 10:
        n = max(10, len(words) // 2)
    lead = " ".join(words[:n]).rstrip(".,;:–—-\"'”’»")
    style = rng.choice(["plain", "byline", "dateline"])
    prefix = ""
    if style == "byline":
        prefix = f"By {author or rng.choice(BYLINE_FALLBACK)} "
    elif style == "dateline":
        prefix = rng.choice(_table(language, DATELINES))
    return prefix + lead + rng.choice(["...", "...", "…"])


def make_variant(
    base: Document,
    doc_id: str,
    outlet: str,
    transforms: Sequence[str],
    rng: random.Random,
    *,
    source_name: str | None = None,
    title: str | None = None,
) -> Document:
    """A syndicated copy of `base` as another outlet (or the same one) would publish it."""
    unknown = set(transforms) - set(TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown transforms {sorted(unknown)}")
    lang = base.language if base.language in SUBSTITUTIONS else "en"
    name = source_name or base.outlet
    paragraphs = [p for p in base.text.split("\n") if p.strip()]
    new_title = base.title
    notes: list[str] = []
    for step in TRANSFORMS:
        if step not in transforms:
            continue
        if step == "cut" and len(paragraphs) >= 4:
            k = min(rng.choice([1, 2]), len(paragraphs) - 3)
            gone = sorted(rng.sample(range(1, len(paragraphs)), k))
            paragraphs = [p for i, p in enumerate(paragraphs) if i not in gone]
            notes.append(f"cut paragraphs {[g + 1 for g in gone]}")
        elif step == "added":
            pool = list(_table(lang, EDITOR_NOTES))
            if base.topic == SAME_TOPIC:
                pool += _table(lang, BACKGROUND)
            extra = rng.choice(pool)
            if extra in _table(lang, BACKGROUND):  # background goes after the first paragraphs
                at = rng.randint(1, min(3, len(paragraphs)))
            else:  # an editor's note opens or closes the text
                at = rng.choice([0, len(paragraphs)])
            paragraphs.insert(at, extra)
            notes.append(f"added paragraph at {at + 1}")
        elif step == "copyedit":
            body = "\n".join(paragraphs).translate(_QUOTES)
            body = body.replace(" – ", " - ").replace(" — ", " - ").replace("—", " - ")
            body, n = substitute(body, lang, rng.randint(2, 5), rng)
            paragraphs = body.split("\n")
            if rng.random() < 0.5:
                paragraphs = [re.sub(r"\. (?=[A-ZА-ЯƏ])", ".  ", p, count=2) for p in paragraphs]
            notes.append(f"copy-edited ({n} substitutions, straight quotes)")
        elif step == "headline":
            if title:
                new_title = title
            else:
                new_title, n = substitute(base.title or "", lang, 2, rng)
                prefixes = [p for p in _table(lang, HEADLINE_PREFIX) if p or n]
                new_title = rng.choice(prefixes) + new_title
            # the lead: the first real paragraph, not a kicker line such as "This is a commentary"
            at = next((i for i, p in enumerate(paragraphs) if len(p.split()) >= 15), 0)
            paragraphs[at], n = substitute(paragraphs[at], lang, rng.randint(2, 4), rng)
            notes.append(f"new headline, {n} words of the lead (paragraph {at + 1}) changed")
        elif step == "boilerplate":
            url = f"https://{base.outlet}.example/news/{base.id}"
            choice = rng.choice(["prefix", "top", "bottom", "bottom2"])
            if choice == "prefix":
                paragraphs[0] = _table(lang, PREFIX_BOILERPLATE).format(name=name) + paragraphs[0]
            elif choice == "top":
                paragraphs.insert(0, rng.choice(_table(lang, TOP_BOILERPLATE)).format(name=name))
            else:
                lines = rng.sample(
                    _table(lang, BOTTOM_BOILERPLATE), 2 if choice == "bottom2" else 1
                )
                paragraphs += [line.format(name=name, url=url) for line in lines]
            notes.append(f"boilerplate ({choice})")
        elif step == "flatten":
            paragraphs = [" ".join(paragraphs)]
            notes.append("paragraphs flattened")
        elif step == "snippet":
            paragraphs = [snippet_of(" ".join(paragraphs), rng, lang, base.author)]
            notes.append("lead snippet")
    kind = "snippet" if "snippet" in transforms else ("repost" if not transforms else "variant")
    return replace(
        base,
        id=doc_id,
        outlet=outlet,
        kind=kind,
        text="\n".join(paragraphs),
        title=new_title,
        transforms=tuple(t for t in TRANSFORMS if t in transforms),
        source=f"{base.id}: " + ("; ".join(notes) or "same text"),
    )


# Recipes for generated variants of corpus texts (the committed set lists its own in build.py).
RECIPES: list[tuple[str, ...]] = [
    ("headline", "boilerplate"),
    ("cut", "copyedit"),
    ("snippet",),
    ("added", "boilerplate"),
    ("flatten",),
    ("headline", "cut"),
    ("copyedit", "boilerplate"),
]
REPRINT_OUTLETS = ["caspian-digest", "southcaucasus-review", "newsfeed-en", "wire-briefs"]


# -- real corpora (read at run time, never copied) ---------------------------------------------
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


# -- evaluation --------------------------------------------------------------------------------
def _url(doc: Document) -> str:
    return f"https://{doc.outlet}.example/news/{doc.id}"


def _article(doc: Document, fetched_at: datetime) -> Article:
    url = _url(doc)
    return Article(
        id=article_id(url),
        outlet_id=doc.outlet,
        url=url,
        canonical_url=url,
        title=doc.title,
        authors=[doc.author] if doc.author else [],
        published_at=None,
        date_source=None,
        fetched_at=fetched_at,
        language=doc.language,
        description=None,
        tags=[],
        sitename=doc.outlet,
        text=doc.text,
        word_count=len(doc.text.split()),
        content_hash=content_hash(doc.text),
        extractor_version="eval",
        discovered_via="eval",
        final_url=url,
    )


@dataclass(frozen=True)
class Placement:
    stories: dict[str, str]  # document id -> story id
    rows: int  # article rows stored (same-outlet reposts become aliases, not rows)
    batches: int


def _scratch_dir() -> str | None:
    """A RAM-backed folder for the throwaway store when there is one (the store opens and closes
    its file on every write); None = the system default."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def assign_stories(documents: Sequence[Document], seed: int = 0, shuffle: bool = True) -> Placement:
    """Ingest the documents into a fresh store as the pipeline would: in a seeded shuffled order
    (or as given), cut into runs of 4–12 documents, each run writing one batch per outlet.
    Returns each document's story."""
    rng = random.Random(seed)
    order = list(documents)
    if shuffle:
        rng.shuffle(order)
    start = datetime(2025, 7, 10, 6, 0, tzinfo=UTC)
    articles = {d.id: _article(d, start + timedelta(seconds=i)) for i, d in enumerate(order)}
    batches = 0
    with tempfile.TemporaryDirectory(prefix="newsmon-eval-", dir=_scratch_dir()) as tmp:
        store = Store(Path(tmp) / "eval.duckdb")
        position, run = 0, 0
        while position < len(order):
            chunk = order[position : position + rng.randint(4, 12)]
            position += len(chunk)
            run += 1
            per_outlet: dict[str, list[Article]] = defaultdict(list)
            for doc in chunk:
                per_outlet[doc.outlet].append(articles[doc.id])
            for outlet_articles in per_outlet.values():
                store.write(Batch(f"eval-{run:03d}", articles=outlet_articles))
                batches += 1
        links = store.query(
            """SELECT u.url_key, coalesce(a.story_id, a.id)
               FROM article_urls u JOIN articles a ON a.id = u.article_id"""
        ).rows
        rows = store.query("SELECT count(*) FROM articles").rows[0][0]
    story_of_key = dict(links)
    stories = {d.id: story_of_key[url_key(articles[d.id].url)] for d in documents}
    return Placement(stories, rows, batches)


@dataclass(frozen=True)
class PairDiagnosis:
    exact: bool  # same content hash
    est_jaccard: float  # MinHash estimate, as the store sees it
    jaccard: float  # exact Jaccard of the 5-word shingle sets
    containment: float  # exact: shared shingles / shingles of the smaller text
    est_containment: float  # the store's estimate from est_jaccard and set sizes
    shingles: tuple[int, int]
    shared_bands: int  # LSH bands in common (0: never a near-duplicate candidate)
    lead_hits: int  # lead shingles in common
    lead_counts: tuple[int, int]
    snippets: tuple[bool, bool]
    near_rule: bool  # same_story() on the pair
    snippet_rule: bool  # snippet_joins() either way

    def explain(self) -> str:
        rule = (
            "exact copy"
            if self.exact
            else "near rule fires"
            if self.near_rule
            else "snippet rule fires"
            if self.snippet_rule
            else "no rule fires"
        )
        snip = "/".join("snippet" if s else "full" for s in self.snippets)
        return (
            f"{rule}: est J={self.est_jaccard:.2f} (exact {self.jaccard:.2f}, needs "
            f"{SAME_STORY_JACCARD}), containment est {self.est_containment:.2f} (exact "
            f"{self.containment:.2f}, needs {SAME_STORY_CONTAINMENT}), shingles "
            f"{self.shingles[0]}/{self.shingles[1]}, bands {self.shared_bands}, lead hits "
            f"{self.lead_hits} of {self.lead_counts[0]}/{self.lead_counts[1]} ({snip}; a snippet needs "
            f"{SNIPPET_MIN_HITS} and {SNIPPET_LEAD_SHARE:.0%} of its own)"
        )


@lru_cache(maxsize=4096)
def _fp(text: str) -> Fingerprint:
    return fingerprint(text)


@lru_cache(maxsize=4096)
def _shingle_set(text: str) -> frozenset[str]:
    """The 5-word shingles fingerprint() hashes (same word preparation)."""
    words = normalize_text(text).split()
    if is_snippet(text) and len(words) > LEAD_SHINGLE:
        words = words[:-1]
    if len(words) < SHINGLE:
        return frozenset([" ".join(words)] if words else [])
    return frozenset(" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def diagnose(a: str, b: str) -> PairDiagnosis:
    """Why the store would or would not put two texts into one story."""
    fa, fb = _fp(a), _fp(b)
    sa, sb = _shingle_set(a), _shingle_set(b)
    shared = len(sa & sb)
    j = jaccard(fa.minhash, fb.minhash)
    small, large = sorted((fa.shingles, fb.shingles))
    est_c = j * (small + large) / ((1 + j) * small) if small and j > 0 else 0.0
    hits = len(set(fa.lead_keys) & set(fb.lead_keys))
    snippet_rule = (fa.snippet and snippet_joins(len(fa.lead_keys), hits)) or (
        fb.snippet and snippet_joins(len(fb.lead_keys), hits)
    )
    return PairDiagnosis(
        exact=content_hash(a) == content_hash(b),
        est_jaccard=j,
        jaccard=shared / len(sa | sb) if sa | sb else 0.0,
        containment=shared / min(len(sa), len(sb)) if sa and sb else 0.0,
        est_containment=est_c,
        shingles=(fa.shingles, fb.shingles),
        shared_bands=len(set(fa.band_keys) & set(fb.band_keys)),
        lead_hits=hits,
        lead_counts=(len(fa.lead_keys), len(fb.lead_keys)),
        snippets=(fa.snippet, fb.snippet),
        near_rule=same_story(fa, fb.minhash, fb.shingles),
        snippet_rule=bool(snippet_rule),
    )


@dataclass(frozen=True)
class PairError:
    a: str
    b: str
    cluster_a: str
    cluster_b: str
    same_topic: bool


@dataclass
class Scores:
    name: str
    documents: int
    clusters: int
    stories: int
    rows: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    false_merges: list[PairError] = field(default_factory=list)
    missed: list[PairError] = field(default_factory=list)
    # cluster -> its documents grouped by predicted story, for clusters split over stories
    splits: dict[str, list[list[str]]] = field(default_factory=dict)
    # story -> its documents grouped by cluster, for stories holding several clusters
    merges: dict[str, list[list[str]]] = field(default_factory=dict)
    # kind -> (documents in the same story as their cluster's first document, documents)
    joined_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def same_topic_false_merges(self) -> int:
        return sum(e.same_topic for e in self.false_merges)


def score(name: str, documents: Sequence[Document], placement: Placement) -> Scores:
    ids = [d.id for d in documents]
    if len(set(ids)) != len(ids):
        raise ValueError("document ids must be unique")
    story = placement.stories
    result = Scores(
        name=name,
        documents=len(documents),
        clusters=len({d.cluster for d in documents}),
        stories=len(set(story.values())),
        rows=placement.rows,
        true_pairs=0,
        predicted_pairs=0,
        true_positives=0,
    )
    for a, b in combinations(documents, 2):
        truth, predicted = a.cluster == b.cluster, story[a.id] == story[b.id]
        result.true_pairs += truth
        result.predicted_pairs += predicted
        result.true_positives += truth and predicted
        if truth != predicted:
            error = PairError(
                a.id, b.id, a.cluster, b.cluster, a.topic is not None and a.topic == b.topic
            )
            (result.false_merges if predicted else result.missed).append(error)
    by_cluster: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_story: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for d in documents:
        by_cluster[d.cluster][story[d.id]].append(d.id)
        by_story[story[d.id]][d.cluster].append(d.id)
    result.splits = {c: list(s.values()) for c, s in by_cluster.items() if len(s) > 1}
    result.merges = {s: list(c.values()) for s, c in by_story.items() if len(c) > 1}
    first: dict[str, str] = {}
    for d in documents:
        first.setdefault(d.cluster, d.id)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in documents:
        if first[d.cluster] != d.id:
            counts[d.kind][0] += story[d.id] == story[first[d.cluster]]
            counts[d.kind][1] += 1
    result.joined_by_kind = {k: (v[0], v[1]) for k, v in sorted(counts.items())}
    return result


def evaluate(documents: Sequence[Document], seed: int = 0, name: str = "set") -> Scores:
    """Ingest `documents` into a fresh temporary store and score the stories it forms."""
    return score(name, documents, assign_stories(documents, seed))


# -- report ------------------------------------------------------------------------------------
def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_table(results: Sequence[Scores]) -> str:
    head = ["set", "docs", "clusters", "stories", "rows", "true pairs", "pred pairs",
            "precision", "recall", "F1", "false merges", "same-topic FM", "missed pairs"]  # fmt: skip
    body = [
        [r.name, r.documents, r.clusters, r.stories, r.rows, r.true_pairs, r.predicted_pairs,
         r.precision, r.recall, r.f1, len(r.false_merges), r.same_topic_false_merges,
         len(r.missed)]
        for r in results
    ]  # fmt: skip
    cells = [head] + [[_cell(v) for v in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _best_pair(
    docs: dict[str, Document], left: list[str], right: list[str]
) -> tuple[str, str, PairDiagnosis]:
    pairs = [(a, b, diagnose(docs[a].text, docs[b].text)) for a in left for b in right]
    return max(pairs, key=lambda p: (p[2].est_jaccard, p[2].lead_hits))


def format_details(result: Scores, documents: Sequence[Document], limit: int = 25) -> str:
    docs = {d.id: d for d in documents}
    lines = [f"[{result.name}] joined their cluster's first document, by kind:"]
    for kind, (joined, total) in result.joined_by_kind.items():
        lines.append(f"  {kind:<14} {joined}/{total}")
    if result.merges:
        lines.append(
            f"[{result.name}] false merges: {len(result.merges)} stories hold several clusters"
        )
        for story, groups in list(result.merges.items())[:limit]:
            lines.append(f"  story {story}: " + " + ".join(f"{{{', '.join(g)}}}" for g in groups))
            for x, y in combinations(range(len(groups)), 2):
                a, b, diag = _best_pair(docs, groups[x], groups[y])
                lines.append(f"    {a} ~ {b}: {diag.explain()}")
    if result.splits:
        lines.append(f"[{result.name}] missed: {len(result.splits)} clusters split over stories")
        for cluster, groups in list(result.splits.items())[:limit]:
            lines.append(
                f"  cluster {cluster}: " + " | ".join(f"{{{', '.join(g)}}}" for g in groups)
            )
            for x, y in combinations(range(len(groups)), 2):
                a, b, diag = _best_pair(docs, groups[x], groups[y])
                lines.append(f"    {a} ~ {b}: {diag.explain()}")
                if diag.exact or diag.near_rule or diag.snippet_rule:
                    lines.append(
                        "      (this pair matches on its own: the split comes from the arrival "
                        "order; a document joins one story; only snippet-started stories are merged later)"
                    )
    if not result.merges and not result.splits:
        lines.append(f"[{result.name}] no errors")
    return "\n".join(lines)


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
        prog="python -m flows.evaluate_dedup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--corpora", type=Path, default=None, help="shared corpora folder")
    parser.add_argument("--set", dest="set_dir", type=Path, default=None, help="labelled set")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed of the ingest order")
    parser.add_argument("--orders", type=int, default=1, help="evaluate this many shuffles")
    args = parser.parse_args(argv)
    return main(args.corpora, set_dir=args.set_dir, seed=args.seed, orders=args.orders)


if __name__ == "__main__":
    sys.exit(cli())
