"""Story deduplication measured on the committed labelled set (tests/dedup_eval), plus focused
cases. No dependency on ../shared: the corpora extension is exercised by
`make eval-dedup` (evaluation/dedup), not here."""

from __future__ import annotations

import filecmp
import random
from pathlib import Path

import pytest

from evaluation.dedup.documents import DEFAULT_SET, Document, load_set
from evaluation.dedup.report import format_details, format_table
from evaluation.dedup.scoring import Scores, assign_stories, evaluate
from evaluation.dedup.variants import make_variant
from tests.dedup_eval import build


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return load_set(DEFAULT_SET)


@pytest.fixture(scope="module")
def scores(documents: list[Document]) -> Scores:
    return evaluate(documents, seed=0, name="committed set")


def by_id(documents: list[Document]) -> dict[str, Document]:
    return {d.id: d for d in documents}


def test_committed_set_meets_targets(scores: Scores, documents: list[Document]) -> None:
    report = format_table([scores]) + "\n" + format_details(scores, documents)
    assert scores.precision >= 0.99, report
    assert scores.recall >= 0.95, report
    assert scores.same_topic_false_merges == 0, report


def test_set_shape(documents: list[Document]) -> None:
    files = [p for p in DEFAULT_SET.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    size = sum(p.stat().st_size for p in files)
    assert size <= 300_000
    assert 40 <= len(documents) <= 70
    assert 20 <= len({d.cluster for d in documents}) <= 30
    assert len({d.id for d in documents}) == len(documents)
    distinct = [d for d in documents if d.kind == "distinct"]
    assert 8 <= len(distinct) <= 12
    assert {d.language for d in distinct} == {"en", "ru", "az"}
    assert all(200 <= len(d.text.split()) <= 500 for d in distinct)
    kinds = {d.kind for d in documents}
    assert {"original", "variant", "snippet", "real-copy", "repost", "wire-snippet"} <= kinds


def test_build_regenerates_the_committed_set(tmp_path: Path) -> None:
    build.build(src=DEFAULT_SET, out=tmp_path)
    assert (tmp_path / "labels.json").read_bytes() == (DEFAULT_SET / "labels.json").read_bytes()
    names = sorted(p.name for p in (DEFAULT_SET / "variants").glob("*.txt"))
    assert names == sorted(p.name for p in (tmp_path / "variants").glob("*.txt"))
    match, mismatch, errors = filecmp.cmpfiles(
        DEFAULT_SET / "variants", tmp_path / "variants", names, shallow=False
    )
    assert (mismatch, errors) == ([], [])


def stories(docs: list[Document]) -> dict[str, str]:
    """Ingest in the given order, one batch per document (distinct outlets)."""
    return assign_stories(docs, shuffle=False).stories


@pytest.mark.parametrize("snippet_first", [False, True])
def test_snippet_with_byline_joins_its_article(
    documents: list[Document], snippet_first: bool
) -> None:
    article = by_id(documents)["russian-house-reciprocity--aze-media"]
    lead = " ".join(article.text.split()[:40])
    snippet = Document(
        "teaser", article.cluster, "digest", "snippet", f"By Dr. Elmar Huseynov {lead}..."
    )
    order = [snippet, article] if snippet_first else [article, snippet]
    placed = stories(order)
    assert placed["teaser"] == placed[article.id]


@pytest.mark.parametrize(
    "pair",
    [
        ("zakharova-ally-demands--baku-observer", "zakharova-briefing-room--caspian-digest"),
        ("ru-mid-vyzval-posla--ru-briefs", "ru-russkiy-dom-myagkaya-sila--ru-aggregator"),
        ("kremlin-logic-baku-memory--baku-observer", "moscow-mends-fences--eurasianet"),
        ("russian-house-legal-address--baku-observer", "russian-house-reciprocity--aze-media"),
    ],
)
def test_op_eds_quoting_the_same_paragraph_stay_apart(
    documents: list[Document], pair: tuple[str, str]
) -> None:
    docs = by_id(documents)
    a, b = docs[pair[0]], docs[pair[1]]
    for order in ([a, b], [b, a]):
        placed = stories(order)
        assert placed[a.id] != placed[b.id]


def test_exact_copies(documents: list[Document]) -> None:
    base = by_id(documents)["anaklia-port--eurasianet"]
    other_outlet = Document("copy", base.cluster, "another-outlet", "variant", base.text)
    same_outlet = Document("repost", base.cluster, base.outlet, "repost", base.text)
    placement = assign_stories([base, other_outlet, same_outlet], shuffle=False)
    assert placement.stories["copy"] == placement.stories[base.id]
    assert placement.stories["repost"] == placement.stories[base.id]
    assert placement.rows == 2  # the same outlet's second URL is an alias, not a row


def test_snippet_between_edited_reprint_and_original_joins_the_story(
    documents: list[Document],
) -> None:
    docs = by_id(documents)
    order = [
        docs["vak-closure-2017--southcaucasus-review-copy"],  # headline changed, lead edited
        docs["vak-closure-2017--newsfeed-en-snippet"],
        docs["vak-closure-2017--commonspace"],
    ]
    placed = stories(order)
    assert len({placed[d.id] for d in order}) == 1


def test_variants_are_seeded() -> None:
    base = Document("b", "c", "o", "original", "\n".join(f"Paragraph {i} said relations." for i in range(6)), title="T")  # fmt: skip
    one = make_variant(base, "v", "x", ("cut", "copyedit", "headline"), random.Random(1))
    two = make_variant(base, "v", "x", ("cut", "copyedit", "headline"), random.Random(1))
    assert one == two and one.text != base.text and one.kind == "variant"
