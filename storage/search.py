"""Querying the full-text index: a query's words and the index terms each stands for, then
the articles holding every word, ranked by BM25 in SQL. The index is written by
storage/search_index.py, words are analyzed by storage/search_words.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from storage.search_words import CYRILLIC, Analyzer, Stems, analyzer_of, fold

K1, B = 1.2, 0.75  # BM25's usual constants (DuckDB's fts uses the same)
MIN_PREFIX = 4  # shorter words match only whole words: "rus" should not find "rustam"
# Snowball Russian leaves some forms of one noun apart (Азербайджана -> азербайджа, Азербайджаном
# -> азербайджан), so a query's Russian stem also matches as a prefix when it is this long;
# shorter stems (мир, газ) would pull in unrelated words.
RU_PREFIX_MIN = 5
# Azerbaijani case and plural endings (folded: ı->i, ə->e), longest first. A query word loses at
# most one before it is matched as a prefix, so "Rusiyanın" also finds "Rusiya" and "Rusiyada".
AZ_SUFFIXES = (
    "larinin", "lerinin", "larin", "lerin", "lari", "leri", "nin", "nun", "dan", "den", "nan",
    "nen", "lar", "ler", "da", "de", "ya", "ye", "in", "un", "a", "e", "i", "u",
)  # fmt: skip
MAX_EXPANSIONS = 200  # words one prefix may stand for (the most frequent are kept)


@dataclass(frozen=True)
class QueryWord:
    """One word of a query and the index terms it stands for."""

    text: str  # as folded
    prefix: bool  # the user asked for a prefix (word*)
    candidates: tuple[tuple[str, str, bool], ...]  # (analyzer, term, match as prefix)


def parse_query(query: str, stems: Stems) -> list[QueryWord]:
    """Words of a query; `word*` asks for a prefix in every language."""
    parsed: list[tuple[str, bool]] = []
    for match in re.finditer(r"(\w+)(\*?)", query):
        parsed.append((fold(match.group(1)), bool(match.group(2))))
    stems.fill(
        (a, w) for w, _ in parsed for a in (Analyzer.EN, Analyzer.RU) if analyzer_of(w, "en") == a
    )
    out: list[QueryWord] = []
    seen: set[str] = set()
    for w, star in parsed:
        if w in seen:
            continue
        seen.add(w)
        if star:
            cands = tuple((a, w, True) for a in (Analyzer.EN, Analyzer.RU, Analyzer.RAW))
        elif CYRILLIC.search(w):
            stem = stems.term(Analyzer.RU, w)
            if len(stem) > RU_PREFIX_MIN:
                stem = stem[:-1]  # азербайджан (from -ом) must still reach азербайджа (from -а)
            cands = ((Analyzer.RU, stem, len(stem) >= RU_PREFIX_MIN),)
        elif w.isdigit():
            cands = ((Analyzer.RAW, w, False),)
        else:
            raw = _trim_suffix(w)
            cands = (
                (Analyzer.EN, stems.term(Analyzer.EN, w), False),
                (Analyzer.RAW, raw, len(raw) >= MIN_PREFIX),
            )
        out.append(QueryWord(w, star, cands))
    return out


def _trim_suffix(word: str) -> str:
    for suffix in AZ_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_PREFIX:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Filters:
    """What a search or a list may be narrowed to; None means any."""

    outlet: str | None = None
    language: str | None = None
    rule: str | None = None
    since: object | None = None  # datetime, inclusive
    until: object | None = None  # datetime, exclusive


NO_FILTERS = Filters()


def rule_hit(article_id: str) -> str:
    """The condition that the article whose id is the column `article_id` matched a rule (?)."""
    return f"""EXISTS (SELECT 1 FROM article_topics t
                       WHERE t.article_id = {article_id} AND t.rule_id = ? AND t.matched)"""


def filter_sql(
    filters: Filters,
    *,
    outlet: str | None = None,
    language: str | None = None,
    dated: str | None = None,
    rule: str | None = None,
) -> tuple[str, list]:
    """`filters` as one SQL condition and its parameters, given the columns each filter reads
    (`rule`: a condition with one ? for the rule's id); a filter with no column is not applied."""
    clauses, params = ["TRUE"], []
    for column, value in ((outlet, filters.outlet), (language, filters.language)):
        if column and value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if dated and filters.since is not None:
        clauses.append(f"{dated} >= ?")
        params.append(filters.since)
    if dated and filters.until is not None:
        clauses.append(f"{dated} < ?")
        params.append(filters.until)
    if rule and filters.rule:
        clauses.append(rule)
        params.append(filters.rule)
    return " AND ".join(clauses), params


@dataclass(frozen=True)
class Ranked:
    article_id: str
    score: float


@dataclass(frozen=True)
class Matches:
    ranked: list[Ranked]
    total: int
    terms: dict[str, set[tuple[str, str]]]  # query word -> the (analyzer, term) pairs it found


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    filters: Filters = NO_FILTERS,
    limit: int = 20,
    offset: int = 0,
    stems: Stems | None = None,
) -> Matches:
    """Articles holding every word of the query, best BM25 score first."""
    stems = stems or Stems(con)
    qwords = parse_query(query, stems)
    if not qwords:
        return Matches([], 0, {})
    found = _resolve(con, qwords)
    terms = {w: {(a, t) for _, a, t, _ in hits} for w, hits in found.items()}
    if any(not found[q.text] for q in qwords):
        return Matches([], 0, terms)
    word_index = {q.text: i for i, q in enumerate(qwords)}
    termids = {tid: word_index[word] for word, hits in found.items() for tid, _, _, _ in hits}
    n, avgdl = con.execute("SELECT count(*), coalesce(avg(len), 1) FROM search_docs").fetchall()[0]
    weights = pa.table(
        {
            "termid": pa.array(list(termids), pa.int32()),
            "word": pa.array(list(termids.values()), pa.int32()),
        }
    )
    # The term ids go into the SQL as literals (integers read from the index): a constant IN
    # list is pushed into the scan, where the main table's zone maps skip other terms' rows.
    ids = ", ".join(str(t) for t in sorted(termids))
    where, params = filter_sql(
        filters, outlet="d.outlet_id", language="d.language", dated="d.published_at",
        rule=rule_hit("d.article_id"),
    )  # fmt: skip
    # All the terms one query word stands for (a stem's forms, a prefix's words) count as one
    # term of BM25: their frequencies add up in a document, and its document frequency is the
    # number of documents holding any of them. Scored apart, a word's rarer forms would each
    # bring a high idf and outrank the article that repeats the word itself.
    sql = f"""WITH post AS (
                  SELECT termid, docid, tf FROM search_postings WHERE termid IN ({ids})
                  UNION ALL
                  SELECT termid, docid, tf FROM search_tail WHERE termid IN ({ids})),
              per_word AS (
                  SELECT p.docid, w.word, sum(p.tf) AS tf
                  FROM post p JOIN query_weights w USING (termid) GROUP BY ALL),
              word_df AS (SELECT word, count(*) AS df FROM per_word GROUP BY word),
              scored AS (
                  SELECT pw.docid,
                         sum(ln(1 + ({n} - f.df + 0.5) / (f.df + 0.5)) * pw.tf * ({K1} + 1)
                             / (pw.tf + {K1} * (1 - {B} + {B} * d.len / {avgdl}))) AS score
                  FROM per_word pw JOIN word_df f USING (word)
                  JOIN search_docs d USING (docid)
                  WHERE {where}
                  GROUP BY pw.docid
                  HAVING count(*) = {len(qwords)})
              SELECT d.article_id, s.score, count(*) OVER () AS total
              FROM scored s JOIN search_docs d USING (docid)
              ORDER BY s.score DESC, d.article_id LIMIT ? OFFSET ?"""
    con.register("query_weights", weights)
    try:
        rows = con.execute(sql, [*params, limit, offset]).fetchall()
        if not rows and offset:  # past the last page: still say how many there are
            first = con.execute(sql, [*params, 1, 0]).fetchall()
            total = first[0][2] if first else 0
        else:
            total = rows[0][2] if rows else 0
    finally:
        con.unregister("query_weights")
    return Matches([Ranked(r[0], r[1]) for r in rows], total, terms)


def _resolve(
    con: duckdb.DuckDBPyConnection, qwords: Sequence[QueryWord]
) -> dict[str, list[tuple[int, str, str, int]]]:
    """Each query word's index terms: (termid, analyzer, term, df). One scan of the terms for
    all the words: `search_terms` has no order a prefix could seek in, so each lookup of its
    own would read the whole table again."""
    cands = [(q.text, *c) for q in qwords for c in q.candidates]
    where = " OR ".join(
        "(analyzer = ? AND " + ("starts_with(term, ?))" if prefix else "term = ?)")
        for _, _, _, prefix in cands
    )
    params = [v for _, analyzer, term, _ in cands for v in (analyzer, term)]
    rows = con.execute(
        f"SELECT termid, analyzer, term, df FROM search_terms WHERE df > 0 AND ({where})", params
    ).fetchall()
    found: dict[str, list[tuple[int, str, str, int]]] = {q.text: [] for q in qwords}
    for word, analyzer, term, prefix in cands:
        hits = [
            r for r in rows
            if r[1] == analyzer and (r[2].startswith(term) if prefix else r[2] == term)
        ]  # fmt: skip
        if prefix:
            hits = sorted(hits, key=lambda r: (-r[3], r[2]))[:MAX_EXPANSIONS]
        found[word].extend(hits)
    return found
