"""Full-text search: BM25 over title and text, kept current after each pass.

Why not `PRAGMA create_fts_index`: DuckDB's fts index is built once over a whole table and does
not follow inserts (its documentation says to rebuild it), one stemmer serves every document
while the store mixes English, Russian and Azerbaijani, and its default tokenizer keeps only
a-z, which drops every Cyrillic word. So newsmon keeps its own inverted index in the store and
uses the fts extension for what it does well, Snowball stemming (`stem()`), with BM25 in SQL.

Words are folded as the topic rules fold them (case, diacritics, ё/е, ə/e, ı/i; й stays й,
which the Russian stemmer needs). Each word is indexed under one analyzer:
- `ru`: words in Cyrillic script, any article: Snowball Russian (Азербайджана -> азербайджа);
- `en`: other words of English articles: Snowball English (relations -> relat);
- `raw`: everything else (Azerbaijani has no Snowball stemmer; Turkish's misses the -lər
  suffixes) as folded words, which a query matches by prefix (azerbaycan* finds
  Azərbaycanın, Azərbaycanda).

The index grows with each pass and is never rebuilt; an article rewritten in place has its
document taken out and indexed again (`replace`). Its postings live in two tables: a main
table sorted by term, whose zone maps let a lookup read only the row groups holding that term,
and a small unsorted tail of recent passes. The tail is merged into the main table when it
reaches an eighth of it, so each merge's cost is paid for by the growth since the last one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from extractors.records.desk import Fragment
from storage import extensions
from storage.rows import in_list

TITLE_WEIGHT = 2  # a title word counts as two words of text: titles say what a story is about
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
INDEX_CHUNK = 2000  # articles tokenized per statement group when catching up
MIN_TAIL_TO_MERGE = 200_000  # postings; below this a tail costs a query under a millisecond
TAIL_SHARE = 8  # merge the tail when it reaches 1/TAIL_SHARE of the main table

_WORD = re.compile(r"\w+")
_LETTERS = str.maketrans({"ı": "i", "ə": "e", "ß": "ss", "ё": "е"})
# Combining marks, except the breve of й (и + breve): the Russian stemmer knows й.
_MARKS = re.compile("[\u0300-\u0305\u0307-\u036f]|(?<![иИ])\u0306")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
STEMMERS = {"en": "english", "ru": "russian"}


class Analyzer:
    EN = "en"
    RU = "ru"
    RAW = "raw"


def fold(text: str) -> str:
    """Lower case without diacritics, as the topic rules compare words; й stays й. Works on a
    whole text at once (the normalisations run in C), keeping it one string per word."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed)).translate(_LETTERS)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def analyzer_of(word: str, language: str | None) -> str:
    if _CYRILLIC.search(word):
        return Analyzer.RU
    if language == "en" and not word.isdigit():
        return Analyzer.EN
    return Analyzer.RAW


_STEM_CACHE: dict[tuple[str, str], str] = {}  # stems never change: shared by every connection
STEM_CACHE_MAX = 500_000  # words; then the cache starts again


class Stems:
    """Snowball stems from DuckDB's fts extension, asked once per distinct word. The extension
    is loaded on the first word not known yet (loading it costs a connection tens of ms)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.cache = _STEM_CACHE
        self.loaded = False

    def fill(self, pairs: Iterable[tuple[str, str]]) -> None:
        missing = {p for p in pairs if p not in self.cache and p[0] in STEMMERS}
        if not missing:
            return
        if len(self.cache) > STEM_CACHE_MAX:
            self.cache.clear()
        if not self.loaded:
            extensions.load(self.con, "fts")
            self.loaded = True
        for analyzer, stemmer in STEMMERS.items():
            batch = sorted(w for a, w in missing if a == analyzer)
            if not batch:
                continue
            # An Arrow column, not a list parameter: DuckDB converts a Python list value by value.
            self.con.register("stem_words", pa.table({"w": pa.array(batch, pa.string())}))
            try:
                rows = self.con.execute(
                    f"SELECT w, stem(w, '{stemmer}') FROM stem_words"
                ).fetchall()
            finally:
                self.con.unregister("stem_words")
            self.cache.update(((analyzer, w), s) for w, s in rows)

    def term(self, analyzer: str, word: str) -> str:
        return self.cache.get((analyzer, word), word) if analyzer in STEMMERS else word


# -- writing -----------------------------------------------------------------------------------
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


# -- reading -----------------------------------------------------------------------------------
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
        elif _CYRILLIC.search(w):
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
    where, params = _filter_sql(filters)
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
    """Each query word's index terms: (termid, analyzer, term, df)."""
    found: dict[str, list[tuple[int, str, str, int]]] = {}
    for q in qwords:
        hits: list[tuple[int, str, str, int]] = []
        for analyzer, term, prefix in q.candidates:
            if prefix:
                rows = con.execute(
                    """SELECT termid, analyzer, term, df FROM search_terms
                       WHERE analyzer = ? AND starts_with(term, ?)
                       ORDER BY df DESC, term LIMIT ?""",
                    [analyzer, term, MAX_EXPANSIONS],
                ).fetchall()
            else:
                rows = con.execute(
                    "SELECT termid, analyzer, term, df FROM search_terms WHERE analyzer = ? AND term = ?",
                    [analyzer, term],
                ).fetchall()
            hits.extend(rows)
        found[q.text] = hits
    return found


def _filter_sql(filters: Filters) -> tuple[str, list]:
    clauses, params = ["TRUE"], []
    if filters.outlet:
        clauses.append("d.outlet_id = ?")
        params.append(filters.outlet)
    if filters.language:
        clauses.append("d.language = ?")
        params.append(filters.language)
    if filters.since is not None:
        clauses.append("d.published_at >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("d.published_at < ?")
        params.append(filters.until)
    if filters.rule:
        clauses.append(
            """EXISTS (SELECT 1 FROM article_topics t
                       WHERE t.article_id = d.article_id AND t.rule_id = ? AND t.matched)"""
        )
        params.append(filters.rule)
    return " AND ".join(clauses), params


def lag(con: duckdb.DuckDBPyConnection) -> int:
    """Articles stored but not indexed yet (the next pass indexes them)."""
    return con.execute(
        "SELECT (SELECT count(*) FROM articles) - (SELECT count(*) FROM search_docs)"
    ).fetchall()[0][0]


# -- snippets ----------------------------------------------------------------------------------
SNIPPET_WORDS = 36


def highlight(
    text: str, language: str | None, terms: set[tuple[str, str]], stems: Stems, window: int = 0
) -> list[Fragment]:
    """`text` cut to the `window` words with most query words (all of it when window is 0),
    split into plain and hit fragments. Words are analyzed as the index analyzed them."""
    spans = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
    keys = [(analyzer_of(w, language), w) for _, _, w in spans]
    stems.fill(keys)
    hits = [(a, stems.term(a, w)) in terms for a, w in keys]
    lo, hi = 0, len(spans)
    if window and len(spans) > window:
        best, best_at = -1, 0
        running = sum(hits[:window])
        for start in range(0, len(spans) - window + 1):
            if start:
                running += hits[start + window - 1] - hits[start - 1]
            if running > best:
                best, best_at = running, start
        lo, hi = best_at, best_at + window
    if not spans:
        return [Fragment(text, False)] if text else []
    begin = 0 if lo == 0 else spans[lo][0]
    end = len(text) if hi == len(spans) else spans[hi - 1][1]
    out: list[Fragment] = []
    if lo > 0:
        out.append(Fragment("… ", False))
    pos = begin
    for i in range(lo, hi):
        if hits[i]:
            s, e, _ = spans[i]
            if s > pos:
                out.append(Fragment(text[pos:s], False))
            out.append(Fragment(text[s:e], True))
            pos = e
    if end > pos:
        out.append(Fragment(text[pos:end], False))
    if hi < len(spans):
        out.append(Fragment(" …", False))
    return out
