"""Writing the full-text index: each pass's new articles added, rewritten ones replaced.

Why not `PRAGMA create_fts_index`: DuckDB's fts index is a snapshot of a whole table, built from
scratch; it follows neither inserts nor updates (its documentation says to build it again), and
one stemmer serves every document while the store mixes English, Russian and Azerbaijani. So
newsmon keeps its own inverted index in the store and uses the fts extension for what it does
well, Snowball stemming (storage/search_words.py), with BM25 in SQL (storage/search.py).

The index grows with each pass and is never rebuilt; an article rewritten in place has its
document taken out and indexed again (`replace`). Its postings live in two tables: a main
table sorted by term, whose zone maps let a lookup read only the row groups holding that term,
and a small unsorted tail of recent passes. The tail is merged into the main table when it
reaches an eighth of it, so each merge's cost is paid for by the growth since the last one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from storage.rows import in_list
from storage.search_words import Stems, analyzer_of, words

TITLE_WEIGHT = 2  # a title word counts as two words of text: titles say what a story is about
INDEX_CHUNK = 2000  # articles tokenized per statement group when catching up
MIN_TAIL_TO_MERGE = 200_000  # postings; below this a tail costs a query under a millisecond
TAIL_SHARE = 8  # merge the tail when it reaches 1/TAIL_SHARE of the main table


def update(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> int:
    """Index the articles not indexed yet, oldest first (at most `limit`); returns how many.
    Runs inside the caller's transaction."""
    todo = con.execute(
        """SELECT a.id, a.fetched_at FROM articles a
           WHERE NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.article_id = a.id)
           ORDER BY a.fetched_at, a.id"""
        + ("" if limit is None else f" LIMIT {int(limit)}")
    ).fetchall()
    if not todo:
        return 0
    stems = Stems(con)
    for start in range(0, len(todo), INDEX_CHUNK):
        chunk = todo[start : start + INDEX_CHUNK]
        con.register("index_ids", pa.table({"id": pa.array([i for i, _ in chunk], pa.string())}))
        try:
            # The fetch-time bounds let DuckDB skip the row groups of older articles (rows are
            # stored in fetch order): an id lookup alone would read every stored text.
            rows = con.execute(
                f"""SELECT {_INDEXED} FROM articles a
                   WHERE a.fetched_at BETWEEN ? AND ? AND a.id IN (SELECT id FROM index_ids)
                   ORDER BY a.fetched_at, a.id""",
                [chunk[0][1], chunk[-1][1]],
            ).fetchall()
        finally:
            con.unregister("index_ids")
        _index_chunk(con, stems, rows)
    _maybe_merge(con)
    return len(todo)


def replace(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> int:
    """Rewritten articles (re-extracted, or changed when revisited): the document of each one
    indexed already is taken out of the index and indexed again from its row as it is now, in
    the caller's transaction, so that a search no longer finds the old words. An article not
    indexed yet is left to the next update. Returns how many documents were replaced."""
    if not article_ids:
        return 0
    old = con.execute(
        f"SELECT docid, article_id FROM search_docs WHERE article_id IN ({in_list(article_ids)})"
    ).fetchall()
    if not old:
        return 0
    # Integers read from the index, as literals: a constant IN list is pushed into the scans.
    # Postings are sorted by term, so finding a document's scans the docid column: once to
    # count what goes, once to delete it; the few rows a revisit or a re-extraction chunk
    # rewrites do not make that worth a second index by document.
    docids = ", ".join(str(d) for d, _ in old)
    gone = con.execute(
        f"""SELECT termid, count(*) FROM (
                SELECT termid FROM search_postings WHERE docid IN ({docids})
                UNION ALL SELECT termid FROM search_tail WHERE docid IN ({docids}))
            GROUP BY termid"""
    ).fetchall()
    # A document has one posting per term: each posting gone is one document fewer.
    con.register(
        "gone_terms",
        pa.table({"termid": pa.array([t for t, _ in gone], pa.int32()),
                  "n": pa.array([n for _, n in gone], pa.int32())}),
    )  # fmt: skip
    try:
        con.execute(
            """UPDATE search_terms t SET df = t.df - g.n FROM gone_terms g
               WHERE t.termid = g.termid"""
        )
    finally:
        con.unregister("gone_terms")
    for table in ("search_postings", "search_tail", "search_docs"):
        con.execute(f"DELETE FROM {table} WHERE docid IN ({docids})")
    ids = [a for _, a in old]
    rows = con.execute(
        f"""SELECT {_INDEXED} FROM articles a WHERE a.id IN ({in_list(ids)})
            ORDER BY a.fetched_at, a.id"""
    ).fetchall()
    _index_chunk(con, Stems(con), rows)
    return len(old)


_INDEXED = "a.id, a.title, a.text, a.language, a.outlet_id, a.published_at, a.fetched_at"


def _index_chunk(con: duckdb.DuckDBPyConnection, stems: Stems, rows: Sequence[tuple]) -> None:
    first = con.execute("SELECT coalesce(max(docid), 0) + 1 FROM search_docs").fetchall()[0][0]
    docs: list[dict] = []
    counts: list[Counter[tuple[str, str]]] = []
    for offset, (article_id, title, text, language, outlet_id, published, fetched) in enumerate(
        rows
    ):
        c: Counter[tuple[str, str]] = Counter()
        for weight, part in ((TITLE_WEIGHT, title or ""), (1, text or "")):
            for w, n in Counter(words(part)).items():  # counted in C, analyzed once per word
                c[(analyzer_of(w, language), w)] += weight * n
        counts.append(c)
        docs.append(
            {
                "docid": first + offset, "article_id": article_id, "len": sum(c.values()),
                "language": language, "outlet_id": outlet_id,
                "published_at": published or fetched,
            }
        )  # fmt: skip
    stems.fill(key for c in counts for key in c)
    postings: Counter[tuple[int, str, str]] = Counter()
    for doc, c in zip(docs, counts, strict=True):
        for (analyzer, w), tf in c.items():
            postings[(doc["docid"], analyzer, stems.term(analyzer, w))] += tf
    df = Counter((analyzer, term) for _, analyzer, term in postings)
    con.register("incoming_docs", pa.Table.from_pylist(docs, schema=_DOC_SCHEMA))
    con.register(
        "incoming_terms",
        pa.table(
            {
                "analyzer": [a for a, _ in df],
                "term": [t for _, t in df],
                "df": pa.array(list(df.values()), pa.int32()),
            }
        ),
    )
    con.register(
        "incoming_postings",
        pa.table(
            {
                "docid": pa.array([d for d, _, _ in postings], pa.int32()),
                "analyzer": [a for _, a, _ in postings],
                "term": [t for _, _, t in postings],
                "tf": pa.array(list(postings.values()), pa.int32()),
            }
        ),
    )
    try:
        con.execute("INSERT INTO search_docs BY NAME SELECT * FROM incoming_docs")
        con.execute(
            """UPDATE search_terms t SET df = t.df + i.df FROM incoming_terms i
               WHERE t.analyzer = i.analyzer AND t.term = i.term"""
        )
        con.execute(
            """INSERT INTO search_terms (analyzer, term, termid, df)
               SELECT i.analyzer, i.term,
                      (SELECT coalesce(max(termid), 0) FROM search_terms)
                        + row_number() OVER (ORDER BY i.analyzer, i.term),
                      i.df
               FROM incoming_terms i
               WHERE NOT EXISTS (SELECT 1 FROM search_terms t
                                 WHERE t.analyzer = i.analyzer AND t.term = i.term)"""
        )
        con.execute(
            """INSERT INTO search_tail
               SELECT t.termid, p.docid, p.tf FROM incoming_postings p
               JOIN search_terms t ON t.analyzer = p.analyzer AND t.term = p.term
               ORDER BY t.termid, p.docid"""
        )
    finally:
        for name in ("incoming_docs", "incoming_terms", "incoming_postings"):
            con.unregister(name)


def _maybe_merge(con: duckdb.DuckDBPyConnection, force: bool = False) -> bool:
    tail, main = con.execute(
        "SELECT (SELECT count(*) FROM search_tail), (SELECT count(*) FROM search_postings)"
    ).fetchall()[0]
    if not tail or (not force and (tail < MIN_TAIL_TO_MERGE or tail * TAIL_SHARE < main)):
        return False
    # Appending the sorted tail keeps the main table in runs; a real merge rewrites it in term
    # order, which is what lets a lookup skip the row groups of other terms.
    con.execute(
        """CREATE OR REPLACE TABLE search_postings AS
           SELECT * FROM (SELECT * FROM search_postings UNION ALL SELECT * FROM search_tail)
           ORDER BY termid, docid"""
    )
    con.execute("DELETE FROM search_tail")
    return True


_DOC_SCHEMA = pa.schema(
    [
        ("docid", pa.int32()), ("article_id", pa.string()), ("len", pa.int32()),
        ("language", pa.string()), ("outlet_id", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
    ]
)  # fmt: skip


def lag(con: duckdb.DuckDBPyConnection) -> int:
    """Articles stored but not indexed yet (the next pass indexes them)."""
    return con.execute(
        "SELECT (SELECT count(*) FROM articles) - (SELECT count(*) FROM search_docs)"
    ).fetchall()[0][0]
