"""Ingest labelled documents into a throwaway store and score the stories it forms, pair by pair."""

from __future__ import annotations

import os
import random
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from pathlib import Path

from evaluation.dedup.documents import Document
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
