"""SQL for going back in time: rows to re-extract, revisits and article versions, and the
backfill queue. Each method of `History` is one read or one transaction of the store
(storage/connection.py: the lock policy, the spool, migrations); rewritten rows go through the
article write path (storage/articles.py), which keeps their story and replaces their
fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from extractors.records import (
    ArchiveRef,
    Article,
    Candidate,
    RevisitState,
    Route,
    StoredArticle,
    Version,
)
from storage import rows
from storage.articles import Articles
from storage.connection import Connection

if TYPE_CHECKING:
    from storage.db import Store

WAIT_S = 30.0  # history is nobody's hurry: wait this long for a pass that holds the file


class QueueState(StrEnum):
    PENDING = "pending"
    DONE = "done"  # stored, or known already, or outside the range, or failing


_COLUMNS = (
    "id", "outlet_id", "url", "title", "text", "content_hash", "published_at", "fetched_at",
    "discovered_via", "extractor_version", "warc_file", "warc_offset",
)  # fmt: skip


def _stored(row: tuple) -> StoredArticle:
    *head, warc_file, warc_offset = row
    ref = ArchiveRef(warc_file, int(warc_offset)) if warc_file is not None else None
    return StoredArticle(*head, archived=ref)


def _of_outlets(sql: str, params: list[object], outlet_ids: Sequence[str]) -> str:
    if outlet_ids:
        params.append(list(outlet_ids))
        return sql + " AND outlet_id IN (SELECT unnest(?::VARCHAR[]))"
    return sql


class History:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # -- re-extraction ---------------------------------------------------------------------
    def stale(
        self, version: str, outlet_ids: Sequence[str] = (), since: datetime | None = None
    ) -> list[StoredArticle]:
        """Rows made by another extractor version (with a record to extract them from)."""
        params: list[object] = [version]
        sql = f"""SELECT {", ".join(_COLUMNS)} FROM articles
                  WHERE extractor_version <> ? AND warc_file IS NOT NULL"""
        sql = _of_outlets(sql, params, outlet_ids)
        if since is not None:
            sql += " AND coalesce(published_at, fetched_at) >= ?"
            params.append(since)
        with self.db.reading(WAIT_S) as con:
            if con is None:
                return []
            return [
                _stored(r) for r in con.execute(sql + " ORDER BY fetched_at, id", params).fetchall()
            ]

    def unarchived(self, version: str, outlet_ids: Sequence[str] = ()) -> int:
        """Rows of another extractor version that have no record (stored before the archive)."""
        params: list[object] = [version]
        sql = "SELECT count(*) FROM articles WHERE extractor_version <> ? AND warc_file IS NULL"
        sql = _of_outlets(sql, params, outlet_ids)
        with self.db.reading(WAIT_S) as con:
            return int(con.execute(sql, params).fetchall()[0][0]) if con is not None else 0

    def rewrite(self, articles: Sequence[Article]) -> int:
        """Re-extracted rows, in place; quiet: a new reading of an old page starts no alert."""
        with self.db.transaction(WAIT_S) as con:
            return self.store.articles.rewrite(con, articles, quiet=True)

    # -- revisits and versions -------------------------------------------------------------
    def fresh(
        self, outlet_id: str, born_after: datetime
    ) -> list[tuple[StoredArticle, RevisitState | None]]:
        """The outlet's articles first fetched after `born_after`, with their revisit state."""
        with self.db.reading(WAIT_S) as con:
            return fresh(con, outlet_id, born_after) if con is not None else []

    def record_revisits(self, states: Sequence[RevisitState], versions: Sequence[Version]) -> int:
        """Store revisit states and new versions; returns how many versions were added."""
        with self.db.transaction(WAIT_S) as con:
            return record_revisits(con, self.store.articles, states, versions)

    # -- backfill --------------------------------------------------------------------------
    def backfill_started(self, outlet_id: str, since: date, until: date) -> datetime | None:
        """Begin (or resume) a backfill; returns when its discovery was finished, if it was."""
        key = {"outlet_id": outlet_id, "since": since, "until": until}
        with self.db.transaction(WAIT_S) as con:
            rows.insert_new(con, "backfills", [{**key, "started_at": datetime.now(UTC)}], list(key))
            found = con.execute(
                "SELECT discovered_at FROM backfills WHERE outlet_id = ? AND since = ? AND until = ?",
                list(key.values()),
            ).fetchall()
        return found[0][0] if found else None

    def enqueue(
        self, outlet_id: str, since: date, until: date, candidates: Sequence[Candidate]
    ) -> None:
        """The candidates discovery found; marks the discovery finished."""
        queued = [
            rows.row(c, ("url", "source_url", "title", "published_at"), outlet_id=outlet_id,
                     via=c.via.value, state=QueueState.PENDING.value)
            for c in candidates
        ]  # fmt: skip
        with self.db.transaction(WAIT_S) as con:
            rows.insert_new(con, "backfill_queue", queued, ["outlet_id", "url"])
            self._mark(con, "discovered_at", outlet_id, since, until)

    def pending(self, outlet_id: str, since: datetime, end: datetime) -> list[Candidate]:
        """Queued URLs of the outlet within the range (or undated), newest first."""
        with self.db.reading(WAIT_S) as con:
            if con is None:
                return []
            found = con.execute(
                """SELECT url, via, source_url, title, published_at FROM backfill_queue
                   WHERE outlet_id = ? AND state = ?
                     AND (published_at IS NULL OR (published_at >= ? AND published_at < ?))
                   ORDER BY published_at DESC NULLS LAST, url""",
                [outlet_id, QueueState.PENDING.value, since, end],
            ).fetchall()
        return [
            Candidate(url, outlet_id, Route(via), source, title, published)
            for url, via, source, title, published in found
        ]

    def done(self, outlet_id: str, urls: Sequence[str]) -> None:
        with self.db.transaction(WAIT_S) as con:
            con.execute(
                """UPDATE backfill_queue SET state = ?
                   WHERE outlet_id = ? AND url IN (SELECT unnest(?::VARCHAR[]))""",
                [QueueState.DONE.value, outlet_id, list(urls)],
            )

    def backfill_finished(self, outlet_id: str, since: date, until: date) -> None:
        with self.db.transaction(WAIT_S) as con:
            self._mark(con, "finished_at", outlet_id, since, until)

    @staticmethod
    def _mark(con: Connection, column: str, outlet_id: str, since: date, until: date) -> None:
        con.execute(
            f"UPDATE backfills SET {column} = ? WHERE outlet_id = ? AND since = ? AND until = ?",
            [datetime.now(UTC), outlet_id, since, until],
        )


def _add_version(con: Connection, v: Version) -> bool:
    """Keep a changed version; the first change also keeps the row as it was, as version 1.
    A version whose text and title are already the latest adds nothing (False)."""
    a = v.article
    latest = con.execute(
        "SELECT max(version) FROM article_versions WHERE article_id = ?", [a.id]
    ).fetchall()[0][0]
    if latest is None:
        con.execute(
            """INSERT INTO article_versions
               SELECT id, 1, fetched_at, title, text, content_hash, [], NULL, warc_file, warc_offset
               FROM articles WHERE id = ?""",
            [a.id],
        )
        latest = 1
    else:
        same = con.execute(
            """SELECT count(*) FROM article_versions
               WHERE article_id = ? AND version = ? AND content_hash = ?
                 AND title IS NOT DISTINCT FROM ?""",
            [a.id, latest, a.content_hash, a.title],
        ).fetchall()[0][0]
        if same:
            return False
    ref = a.archived
    rows.insert(
        con, "article_versions",
        [{"article_id": a.id, "version": latest + 1, "fetched_at": a.fetched_at, "title": a.title,
          "text": a.text, "content_hash": a.content_hash,
          "changed": [f.value for f in v.change.fields], "summary": v.change.summary,
          "warc_file": ref.file if ref else None, "warc_offset": ref.offset if ref else None}],
    )  # fmt: skip
    return True


def fresh(
    con: Connection, outlet_id: str, born_after: datetime
) -> list[tuple[StoredArticle, RevisitState | None]]:
    """The outlet's articles first fetched after `born_after`, with their revisit state."""
    found = con.execute(
        f"""SELECT {", ".join("a." + c for c in _COLUMNS)},
                   r.revisits, r.last_visit, r.etag, r.last_modified
            FROM articles a LEFT JOIN article_revisits r ON r.article_id = a.id
            WHERE a.outlet_id = ? AND a.fetched_at > ? AND a.duplicate_of IS NULL
            ORDER BY a.fetched_at""",
        [outlet_id, born_after],
    ).fetchall()
    out = []
    for row in found:
        stored = _stored(row[: len(_COLUMNS)])
        revisits, last_visit, etag, last_modified = row[len(_COLUMNS) :]
        state = None
        if revisits is not None:
            state = RevisitState(stored.id, revisits, last_visit, etag, last_modified)
        out.append((stored, state))
    return out


def record_revisits(
    con: Connection,
    articles: Articles,
    states: Sequence[RevisitState],
    versions: Sequence[Version],
) -> int:
    """Revisit states and new versions (the row takes each); how many versions were added."""
    rows.upsert(con, "article_revisits", [vars(s) for s in states], key=["article_id"])
    changed = [v.article for v in versions if _add_version(con, v)]
    articles.rewrite(con, changed, quiet=False)
    return len(changed)
