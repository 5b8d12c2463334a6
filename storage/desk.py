"""Read queries for the analyst's desk (`newsmon web`) and `newsmon search`.

Functions over an open read-only connection, taking typed filters and returning the typed rows
of extractors/records.py. Nothing here writes.

A story's original is its first stored copy, the article whose id is the story id; lists of
stories find the page they show among the originals (one row per story, no grouping of every
article) and then read the copies of those stories only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import duckdb

from extractors.records.alerts import DeliveryState
from extractors.records.desk import (
    AlertRow,
    DayCount,
    DeliveryRow,
    FetchError,
    OutletStatus,
    RuleHit,
    SearchHit,
    StoryCopy,
    StoryDetail,
    StoryRow,
)
from storage import search, search_snippets
from storage.rows import in_list
from storage.search import NO_FILTERS, Filters, filter_sql, rule_hit
from storage.search_words import Stems

MIN_COMPLETE_WORDS = 150  # a copy shorter than this is taken for a snippet when a longer one exists


@dataclass(frozen=True)
class Page:
    """One page of a list and how many rows the whole list has."""

    rows: list
    total: int
    offset: int
    limit: int


# -- stories ---------------------------------------------------------------------------------------
def stories(
    con: duckdb.DuckDBPyConnection, filters: Filters, limit: int = 25, offset: int = 0
) -> Page:
    """Stories newest first (by when their first copy was fetched). A filter on outlet,
    language or rule keeps a story when any of its copies passes; dates bound the first copy."""
    where, params = _copy_filter(filters)
    dates, date_params = filter_sql(filters, dated="o.fetched_at")
    rows = con.execute(
        f"""WITH kept AS (SELECT DISTINCT a.story_id FROM articles a WHERE {where})
            SELECT o.id, o.fetched_at, count(*) OVER () AS total
            FROM articles o JOIN kept k ON k.story_id = o.id
            WHERE {dates}
            ORDER BY o.fetched_at DESC, o.id LIMIT ? OFFSET ?""",
        [*params, *date_params, limit, offset],
    ).fetchall()
    total = rows[0][2] if rows else 0
    return Page(story_rows(con, [r[0] for r in rows]), total, offset, limit)


def story_rows(con: duckdb.DuckDBPyConnection, story_ids: Sequence[str]) -> list[StoryRow]:
    """The given stories, in the given order, with their copies' outlets, languages and rules."""
    if not story_ids:
        return []
    rows = con.execute(
        f"""SELECT a.story_id, min(a.fetched_at), min(a.published_at),
                  arg_min(a.title, a.fetched_at), list(DISTINCT a.outlet_id ORDER BY a.outlet_id),
                  list(DISTINCT a.language ORDER BY a.language)
                      FILTER (WHERE a.language IS NOT NULL),
                  count(*), list(a.id)
           FROM articles a WHERE a.story_id IN ({in_list(story_ids)})
           GROUP BY a.story_id"""
    ).fetchall()
    hits = _rule_hits(con, {article: r[0] for r in rows for article in r[7]})
    by_id = {
        r[0]: StoryRow(
            r[0], r[3], r[1], r[2], tuple(r[4]), tuple(r[5] or ()), r[6], hits.get(r[0], ())
        )
        for r in rows
    }
    return [by_id[s] for s in story_ids if s in by_id]


def _rule_hits(
    con: duckdb.DuckDBPyConnection, story_of: dict[str, str]
) -> dict[str, tuple[RuleHit, ...]]:
    """Per story, each matched rule with the terms of its best-scoring copy. By the copies'
    article ids, through the topics' primary key: no second scan of the articles."""
    if not story_of:
        return {}
    best: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for article_id, rule_id, score, terms in con.execute(
        f"""SELECT article_id, rule_id, score, terms FROM article_topics
            WHERE matched AND article_id IN ({in_list(list(story_of))})"""
    ).fetchall():
        key = (story_of[article_id], rule_id)
        if key not in best or score > best[key][0]:
            best[key] = (score, terms)
    out: dict[str, list[RuleHit]] = defaultdict(list)
    for (story_id, rule_id), (_, terms) in sorted(best.items()):
        out[story_id].append(RuleHit(rule_id, tuple(terms or ())))
    return {k: tuple(v) for k, v in out.items()}


def story(con: duckdb.DuckDBPyConnection, story_id: str) -> StoryDetail | None:
    rows = story_rows(con, [story_id])
    if not rows:
        return None
    copies = [
        StoryCopy(*r[:12], tuple(r[12] or ()))
        for r in con.execute(
            """SELECT a.id, a.outlet_id, o.name, a.url, a.title, a.published_at, a.date_source,
                      a.fetched_at, a.language, a.discovered_via, a.word_count, a.duplicate_of,
                      a.authors
               FROM articles a LEFT JOIN outlets o ON o.id = a.outlet_id
               WHERE a.story_id = ? ORDER BY a.fetched_at, a.id""",
            [story_id],
        ).fetchall()
    ]
    complete = [c for c in copies if c.word_count >= MIN_COMPLETE_WORDS]
    lead = (complete or sorted(copies, key=lambda c: -c.word_count))[0] if copies else None
    text = ""
    if lead is not None:
        text = con.execute("SELECT text FROM articles WHERE id = ?", [lead.article_id]).fetchall()[
            0
        ][0]
    alerts_ = alerts(con, limit=50, story_id=story_id).rows
    return StoryDetail(rows[0], tuple(copies), lead, text, tuple(alerts_))


# -- alerts ----------------------------------------------------------------------------------------
def alerts(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = NO_FILTERS,
    limit: int = 25,
    offset: int = 0,
    story_id: str | None = None,
) -> Page:
    where, params = filter_sql(
        filters, outlet="x.outlet_id", dated="x.created_at", rule="x.rule_id = ?"
    )
    if story_id:
        where += " AND x.story_id = ?"
        params.append(story_id)
    rows = con.execute(
        f"""SELECT x.alert_id, x.rule_id, x.story_id, x.article_id, x.created_at, x.title,
                   x.outlet_id, x.url, x.published_at, x.score, x.terms,
                   (SELECT count(*) FROM articles c WHERE c.story_id = x.story_id),
                   coalesce(a.description, split_part(a.text, chr(10), 1)),
                   count(*) OVER ()
            FROM alerts x LEFT JOIN articles a ON a.id = x.article_id
            WHERE {where}
            ORDER BY x.created_at DESC, x.alert_id LIMIT ? OFFSET ?""",
        [*params, limit, offset],
    ).fetchall()
    ids = [r[0] for r in rows]
    deliveries: dict[str, list[DeliveryRow]] = defaultdict(list)
    if ids:
        for alert_id, label, state, attempts, error, sent_at in con.execute(
            """SELECT alert_id, channel_label, state, attempts, last_error, sent_at
               FROM alert_deliveries WHERE alert_id IN (SELECT unnest(?::VARCHAR[]))
               ORDER BY channel_label""",
            [ids],
        ).fetchall():
            deliveries[alert_id].append(
                DeliveryRow(label, DeliveryState(state), attempts, error, sent_at)
            )
    out = [
        AlertRow(*r[:10], list(r[10] or ()), r[11], r[12], tuple(deliveries.get(r[0], ())))
        for r in rows
    ]
    return Page(out, rows[0][13] if rows else 0, offset, limit)


# -- search ----------------------------------------------------------------------------------------
def search_page(
    con: duckdb.DuckDBPyConnection,
    query: str,
    filters: Filters,
    limit: int = 20,
    offset: int = 0,
    snippet_words: int = search_snippets.SNIPPET_WORDS,
) -> Page:
    """Ranked hits with their snippets: the window of the text with most query words."""
    stems = Stems(con)
    matches = search.search(con, query, filters, limit, offset, stems)
    ids = [r.article_id for r in matches.ranked]
    rows = {
        r[0]: r
        for r in con.execute(
            f"""SELECT id, story_id, outlet_id, url, title, published_at, language, text
                FROM articles WHERE id IN ({in_list(ids)})"""
        ).fetchall()
    }
    terms = set().union(*matches.terms.values()) if matches.terms else set()
    hits = []
    for ranked in matches.ranked:
        id_, story_id, outlet, url, title, published, language, text = rows[ranked.article_id]
        hits.append(
            SearchHit(
                id_, story_id, outlet, url, title, published, language, ranked.score,
                tuple(search_snippets.highlight(title or "", language, terms, stems)),
                tuple(search_snippets.highlight(text, language, terms, stems, snippet_words)),
            )
        )  # fmt: skip
    return Page(hits, matches.total, offset, limit)


# -- outlets and coverage --------------------------------------------------------------------------
def outlets(con: duckdb.DuckDBPyConnection, now: datetime, days: int = 30) -> list[OutletStatus]:
    since = now - timedelta(days=days)
    week = now - timedelta(days=7)
    per_day: dict[str, list[DayCount]] = defaultdict(list)
    for outlet_id, day, count in con.execute(
        """SELECT outlet_id, fetched_at::DATE, count(*) FROM articles
           WHERE fetched_at >= ? GROUP BY ALL ORDER BY 1, 2""",
        [since],
    ).fetchall():
        per_day[outlet_id].append(DayCount(day, outlet_id, count))
    errors: dict[str, list[FetchError]] = defaultdict(list)
    for outlet_id, at, kind, url, status, error in con.execute(
        """SELECT outlet_id, fetched_at, kind, url, status, error FROM fetches
           WHERE error IS NOT NULL AND fetched_at >= ?
           QUALIFY row_number() OVER (PARTITION BY outlet_id ORDER BY fetched_at DESC) <= 5
           ORDER BY outlet_id, fetched_at DESC""",
        [since],
    ).fetchall():
        errors[outlet_id].append(FetchError(at, kind, url, status, error))
    rows = con.execute(
        """WITH ids AS (SELECT id FROM outlets UNION SELECT outlet_id FROM runs
                        UNION SELECT outlet_id FROM articles),
           art AS (SELECT outlet_id, count(*) AS n, count(*) FILTER (WHERE fetched_at >= ?) AS n7
                   FROM articles GROUP BY 1),
           req AS (SELECT outlet_id, count(*) AS n, count(*) FILTER (WHERE error IS NOT NULL) AS e
                   FROM fetches WHERE fetched_at >= ? GROUP BY 1),
           ok AS (SELECT outlet_id, max(finished_at) AS at FROM runs
                  WHERE status IN ('ok', 'partial') AND fetched > 0 GROUP BY 1)
           SELECT i.id, coalesce(o.name, i.id), o.homepage, coalesce(h.state, 'new'), h.since,
                  h.reason, ok.at, coalesce(art.n, 0), coalesce(art.n7, 0), coalesce(req.n, 0),
                  coalesce(req.e, 0)
           FROM ids i LEFT JOIN outlets o ON o.id = i.id
           LEFT JOIN outlet_health h ON h.outlet_id = i.id
           LEFT JOIN art ON art.outlet_id = i.id LEFT JOIN req ON req.outlet_id = i.id
           LEFT JOIN ok ON ok.outlet_id = i.id
           ORDER BY i.id""",
        [week, week],
    ).fetchall()
    return [
        OutletStatus(*r, tuple(per_day.get(r[0], ())), tuple(errors.get(r[0], ()))) for r in rows
    ]


def coverage(
    con: duckdb.DuckDBPyConnection, rule_id: str, last_day: date, days: int
) -> list[DayCount]:
    """Stories that matched `rule_id` per publication day and outlet (an outlet's copies of
    one story count once), over the `days` days up to and including `last_day`."""
    since = datetime.combine(last_day - timedelta(days=days - 1), time(), tzinfo=UTC)
    until = since + timedelta(days=days)
    rows = con.execute(
        """SELECT day, outlet_id, count(*) FROM (
               SELECT coalesce(a.published_at, a.fetched_at)::DATE AS day, a.outlet_id
               FROM article_topics t JOIN articles a ON a.id = t.article_id
               WHERE t.rule_id = ? AND t.matched
                 AND coalesce(a.published_at, a.fetched_at) >= ?
                 AND coalesce(a.published_at, a.fetched_at) < ?
               QUALIFY row_number() OVER (PARTITION BY a.story_id, a.outlet_id
                                          ORDER BY a.fetched_at) = 1)
           GROUP BY ALL ORDER BY 1, 2""",
        [rule_id, since, until],
    ).fetchall()
    return [DayCount(day, outlet, n) for day, outlet, n in rows]


def last_match_day(con: duckdb.DuckDBPyConnection, rule_id: str) -> date | None:
    """The latest publication day of an article `rule_id` matched."""
    row = con.execute(
        """SELECT max(coalesce(a.published_at, a.fetched_at))::DATE
           FROM article_topics t JOIN articles a ON a.id = t.article_id
           WHERE t.rule_id = ? AND t.matched""",
        [rule_id],
    ).fetchall()
    return row[0][0] if row else None


def choices(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """What the filters offer: outlets, languages and rules present in the store."""
    outlets_ = [
        r[0]
        for r in con.execute(
            "SELECT id FROM outlets UNION SELECT outlet_id FROM search_docs ORDER BY 1"
        ).fetchall()
    ]
    languages = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT language FROM search_docs WHERE language IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    rules = [
        r[0]
        for r in con.execute("SELECT DISTINCT rule_id FROM article_topics ORDER BY 1").fetchall()
    ]
    return {"outlet": outlets_, "language": languages, "rule": rules}


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- filters ---------------------------------------------------------------------------------------
def _copy_filter(filters: Filters) -> tuple[str, list]:
    """The copies (articles in a story) that pass the outlet, language and rule filters."""
    where, params = filter_sql(
        filters, outlet="a.outlet_id", language="a.language", rule=rule_hit("a.id")
    )
    return f"a.story_id IS NOT NULL AND {where}", params
