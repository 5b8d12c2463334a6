"""Read-only SQL for people: any query (`newsmon sql`), an article by any of its URLs, and
every article's text in pages (re-scoring)."""

from __future__ import annotations

import duckdb

from extractors.records import QueryResult
from extractors.urls import url_key
from storage.connection import StoreError, one_line

Connection = duckdb.DuckDBPyConnection


_READS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def only_reads(sql: str) -> None:
    """A lake has no read-only file to open instead: anything but a query is refused."""
    try:
        kinds = {statement.type for statement in duckdb.extract_statements(sql)}
    except duckdb.Error as exc:
        raise StoreError(one_line(exc)) from None
    if kinds - _READS:
        raise StoreError("only queries (SELECT, EXPLAIN) can be run on the store")


def run(con: Connection, sql: str, note: str | None = None) -> QueryResult:
    cursor = con.execute(sql)
    if cursor.description is None:
        return QueryResult([], [], note)
    return QueryResult([d[0] for d in cursor.description], cursor.fetchall(), note)


def article_by_url(con: Connection, url: str) -> tuple[str, str | None, str, str | None] | None:
    """(id, title, text, language) of the article stored under any variant of this URL."""
    found = con.execute(
        """SELECT a.id, a.title, a.text, a.language FROM article_urls u JOIN articles a ON a.id = u.article_id
           WHERE u.url_key = ?""",
        [url_key(url)],
    ).fetchall()
    return found[0] if found else None


def articles_page(
    con: Connection, after: str | None, size: int
) -> list[tuple[str, str | None, str, str | None]]:
    """(id, title, text, language) of the next `size` articles by id after `after`."""
    return con.execute(
        "SELECT id, title, text, language FROM articles WHERE id > coalesce(?, '') ORDER BY id LIMIT ?",
        [after, size],
    ).fetchall()
