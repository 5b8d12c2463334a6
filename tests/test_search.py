"""Full-text search over a real store: the labelled set, incremental updates, snippets."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.records import ArticleChange, Batch, ChangedField, Version
from storage import extensions, search, search_index, search_snippets, search_words
from storage.db import Store
from storage.history import History
from tests.support.factories import make_article

LABELLED = tomllib.loads(
    (Path(__file__).parent / "search_eval" / "labelled.toml").read_text(encoding="utf-8")
)


def _article(doc: dict, n: int):  # noqa: ANN202
    return make_article(
        f"https://{doc['language']}.example/{doc['id']}",
        outlet_id=f"outlet-{doc['language']}",
        text=doc["text"],
        title=doc["title"],
        language=doc["language"],
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
    )


def _store(tmp_path: Path, docs: list[dict]) -> tuple[Store, dict[str, str]]:
    store = Store(tmp_path / "s.duckdb")
    articles = [_article(d, i) for i, d in enumerate(docs)]
    store.write(Batch(run_id="r1", articles=articles))
    return store, {a.id: d["id"] for a, d in zip(articles, docs, strict=True)}


def _read(store: Store) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(store.path), read_only=True, config=extensions.connection_config())


def _ids(con: duckdb.DuckDBPyConnection, q: str, names: dict[str, str], **kw: object) -> list[str]:
    return [names[r.article_id] for r in search.search(con, q, **kw).ranked]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    store, names = _store(tmp_path_factory.mktemp("labelled"), LABELLED["doc"])
    assert store.update_search_index() == len(LABELLED["doc"])
    con = _read(store)
    yield con, names
    con.close()


@pytest.mark.parametrize("query", LABELLED["query"], ids=lambda q: q["q"])
def test_labelled_queries_find_the_inflected_forms_and_rank_the_most_relevant_first(
    labelled, query: dict
) -> None:
    con, names = labelled
    found = _ids(con, query["q"], names, limit=50)
    assert set(query["found"]) <= set(found), found
    assert not set(query.get("not_found", [])) & set(found), found
    assert found[0] == query["first"], found


def test_every_word_of_the_query_is_required(labelled) -> None:
    con, names = labelled
    assert _ids(con, "Азербайджан снегопад", names) == []
    assert _ids(con, "Москве снегопад", names) == ["ru-weather"]


def test_filters_narrow_the_results(labelled) -> None:
    con, names = labelled
    assert _ids(con, "Baku", names, filters=search.Filters(language="en")) != []
    assert _ids(con, "Baku", names, filters=search.Filters(outlet="outlet-ru")) == []
    everything = search.search(con, "Азербайджан", limit=1)
    assert everything.total == 3 and len(everything.ranked) == 1
    assert search.search(con, "Азербайджан", limit=5, offset=10).total == 3


def test_the_index_grows_with_each_pass_without_being_rebuilt(tmp_path: Path, monkeypatch) -> None:
    docs = LABELLED["doc"]
    store, names = _store(tmp_path, docs[:4])
    assert store.update_search_index() == 4
    with _read(store) as con:
        first_ids = con.execute("SELECT docid, article_id FROM search_docs ORDER BY 1").fetchall()
        found = _ids(con, "Москве", names)
        assert found[0] == "ru-weather" and set(found) == {
            "ru-weather",
            "ru-corridor",
            "ru-relations",
        }
    more = [_article(d, 10 + i) for i, d in enumerate(docs[4:])]
    store.write(Batch(run_id="r2", articles=more))
    names.update({a.id: d["id"] for a, d in zip(more, docs[4:], strict=True)})
    assert store.update_search_index() == len(docs) - 4
    assert store.update_search_index() == 0
    with _read(store) as con:
        ids = con.execute("SELECT docid, article_id FROM search_docs ORDER BY 1").fetchall()
        assert ids[:4] == first_ids  # the first pass's documents were kept, not re-indexed
        assert search_index.lag(con) == 0
        assert con.execute("SELECT count(*) FROM search_postings").fetchall()[0][0] == 0
        before = {q["q"]: _ids(con, q["q"], names) for q in LABELLED["query"]}
        df = dict(con.execute("SELECT term, df FROM search_terms WHERE analyzer = 'en'").fetchall())
        assert df["baku"] == 2  # counted over both passes
    # Merging the tail into the sorted main table changes where postings live, not answers.
    monkeypatch.setattr(search_index, "MIN_TAIL_TO_MERGE", 1)
    with store.db.transaction() as con:
        assert search_index._maybe_merge(con)
    with _read(store) as con:
        assert con.execute("SELECT count(*) FROM search_tail").fetchall()[0][0] == 0
        after = {q["q"]: _ids(con, q["q"], names) for q in LABELLED["query"]}
    assert after == before


def test_snippet_marks_the_inflected_forms_the_query_found(labelled) -> None:
    con, names = labelled
    matches = search.search(con, "Азербайджан", limit=1)
    terms = set().union(*matches.terms.values())
    stems = search_words.Stems(con)
    doc = next(d for d in LABELLED["doc"] if d["id"] == "ru-corridor")
    fragments = search_snippets.highlight(doc["text"], "ru", terms, stems, window=12)
    hits = [f.text for f in fragments if f.hit]
    assert hits and {"Азербайджана", "Азербайджан"} & set(hits)
    assert all(h.lower().startswith("азербайджан") for h in hits)
    assert fragments[0].text == "… " or fragments[0].text.startswith("Правительства")


def test_fold_keeps_the_short_i_and_drops_diacritics() -> None:
    assert search_words.fold("Российский") == "российский"
    assert search_words.fold("Ёлка") == "елка"
    assert search_words.fold("Əliyev İlham Bakı") == "eliyev ilham baki"


def test_a_rewritten_article_replaces_its_document_in_the_index(tmp_path: Path) -> None:
    """Revisits and re-extraction rewrite an article in place (storage/history.py); a search
    must then find its new words and no longer its old ones, the index not being rebuilt."""
    docs = LABELLED["doc"]
    store, names = _store(tmp_path, docs)
    assert store.update_search_index() == len(docs)
    ids = {name: article_id for article_id, name in names.items()}
    with _read(store) as con:
        kept = con.execute("SELECT docid, article_id FROM search_docs ORDER BY 1").fetchall()
        df_before = dict(con.execute("SELECT term, df FROM search_terms").fetchall())
        assert _ids(con, "товарооборота", names) == ["ru-corridor"]
        assert _ids(con, "konfrans", names) == ["az-conference"]
        assert _ids(con, "паромной", names) == _ids(con, "Qarabağın", names) == []
    assert kept[-1][1] == ids["az-conference"]  # the highest document number: rewritten first
    by_name = {d["id"]: d for d in docs}
    revisited = dataclasses.replace(
        _article(by_name["az-conference"], 8),
        title="Qarabağda dəmir yolu açıldı", text="Qarabağ dəmir yolu xətti istifadəyə verilib.",
    )  # fmt: skip
    reextracted = dataclasses.replace(
        _article(by_name["ru-corridor"], 0),
        title="Паромная переправа через Каспий", text="Паромная переправа закрыта до весны.",
    )  # fmt: skip
    history = History(store)
    change = ArticleChange((ChangedField.TITLE, ChangedField.TEXT), "title and text changed")
    assert history.record_revisits([], [Version(revisited, change)]) == 1
    assert history.rewrite([reextracted]) == 1

    with _read(store) as con:
        assert _ids(con, "паромной", names) == ["ru-corridor"]  # a form the new text inflects
        assert _ids(con, "Qarabağın", names) == ["az-conference"]
        assert _ids(con, "товарооборота", names) == []
        assert _ids(con, "konfrans", names) == []
        assert "ru-corridor" not in _ids(con, "Москве", names)
        now = con.execute("SELECT docid, article_id FROM search_docs ORDER BY 1").fetchall()
        df_after = dict(con.execute("SELECT term, df FROM search_terms").fetchall())
        assert search_index.lag(con) == 0
    # One document per article; the others kept theirs (nothing was indexed again).
    assert sorted(a for _, a in now) == sorted(a for _, a in kept)
    rewritten = {ids["ru-corridor"], ids["az-conference"]}
    assert [k for k in now if k[1] not in rewritten] == [k for k in kept if k[1] not in rewritten]
    assert df_after["москв"] == df_before["москв"] - 1  # the old text's words no longer count
    assert df_after["паромн"] == 1
