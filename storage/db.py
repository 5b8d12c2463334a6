"""The DuckDB store: the only code that speaks SQL.

DuckDB lets one process hold a file read-write, and then nobody else may even read it. So the
store never keeps the file open: each read or write opens, works and closes. A write that
finds the file held by someone else (the duckdb CLI, a notebook, `newsmon sql`) goes to the
spool instead and is merged by the next writer that gets the lock; nothing is lost.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import TypeAdapter

from extractors.records import (
    Alert,
    Article,
    Batch,
    Channel,
    Delivery,
    HealthEvent,
    HealthState,
    HealthStatus,
    LastRun,
    Outcome,
    Outlet,
    OutletHistory,
    OutletReport,
    PollState,
    QueryResult,
    RunStatus,
    SourceKind,
    SourceOrigin,
    SourceState,
    TopicScore,
    UrlAlias,
    UrlFailure,
    WriteResult,
)
from extractors.urls import url_key
from storage import alerts as outbox
from storage import health, stories, topics
from storage.schema import MIGRATIONS
from storage.spool import Spool
from storage.stories import Placement, StoryAssigner
from storage.story_index import StoryIndex


class StoreError(Exception):
    """A storage problem worth one line to the user."""


class StoreLocked(StoreError):
    pass


GIVE_UP_AFTER = 5  # attempts at a failing article URL


@dataclass(frozen=True)
class _SavedOutcomes:
    """Delivery results that waited for the file in a side file."""

    outcomes: list[Outcome]
    retry_base_s: float
    max_attempts: int


@cache
def _saved_outcomes() -> TypeAdapter[_SavedOutcomes]:
    return TypeAdapter(_SavedOutcomes)


_LOCK_MARKERS = ("could not set lock", "conflicting lock", "database is locked")
_process_lock = threading.Lock()


def _is_lock_error(exc: BaseException) -> bool:
    return any(marker in str(exc).lower() for marker in _LOCK_MARKERS)


class Store:
    def __init__(self, path: Path | str, lock_wait_s: float = 2.0) -> None:
        self.path = Path(path)
        self.spool = Spool(self.path.with_name(self.path.name + ".spool"))
        self.index_dir = self.path.with_name(self.path.name + ".index")
        self.lock_wait_s = lock_wait_s
        # The story index as this store's last write left it, with the table's state then.
        self._index: tuple[tuple[object, ...], StoryIndex] | None = None

    # -- connections ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(
        self, read_only: bool, wait_s: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open, yield, close. Retries briefly while another process holds the lock."""
        deadline = time.monotonic() + (self.lock_wait_s if wait_s is None else wait_s)
        delay = 0.05
        with _process_lock:
            while True:
                try:
                    if not read_only:
                        self.path.parent.mkdir(parents=True, exist_ok=True)
                    con = duckdb.connect(str(self.path), read_only=read_only)
                    break
                except duckdb.Error as exc:
                    if not _is_lock_error(exc):
                        raise StoreError(f"cannot open {self.path}: {_one_line(exc)}") from None
                    if time.monotonic() >= deadline:
                        raise StoreLocked(
                            f"{self.path} is held by another process ({_holder(exc)})"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
            try:
                con.execute("SET TimeZone = 'UTC'")
                yield con
            finally:
                con.close()

    def _migrate(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
        current = row[0] or 0 if row else 0
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            con.execute("BEGIN TRANSACTION")
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?)", [number])
            con.execute("COMMIT")
        if 0 < current < len(MIGRATIONS):
            # Articles stored before a migration get their fingerprints and stories now.
            self._rebuild_story_index(con)

    def rebuild_story_index(self) -> int:
        """Re-create missing fingerprints and LSH rows from the stored texts (and place
        articles stored before deduplication existed). Returns how many articles it indexed."""
        with self._connect(read_only=False) as con:
            self._migrate(con)
            indexed = self._rebuild_story_index(con)
            if not indexed:
                StoryIndex(self.index_dir).rebuild(con)
            return indexed

    def _rebuild_story_index(self, con: duckdb.DuckDBPyConnection) -> int:
        missing = con.execute(
            """SELECT count(*) FROM articles a
               WHERE NOT EXISTS (SELECT 1 FROM article_fingerprints f WHERE f.article_id = a.id)"""
        ).fetchall()[0][0]
        if not missing:
            return 0
        cursor = con.execute(
            """SELECT id, outlet_id, url, canonical_url, text, content_hash, fetched_at, story_id
               FROM articles a
               WHERE NOT EXISTS (SELECT 1 FROM article_fingerprints f WHERE f.article_id = a.id)
               ORDER BY fetched_at, id"""
        )
        rows = cursor.fetchall()
        self._index = None  # what follows changes the table under any kept index
        index = self._open_index(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for start in range(0, len(rows), 1000):
                assigner = StoryAssigner(con, index)
                updates = []
                for id_, outlet_id, url, canonical, text, chash, fetched_at, story_id in rows[
                    start : start + 1000
                ]:
                    article = _stored_article(
                        id_, outlet_id, url, canonical, text, chash, fetched_at
                    )
                    if story_id is not None:
                        assigner.keep(article, story_id)
                        continue
                    placement = assigner.place(article)
                    if placement.alias_of is not None:
                        # Stored before dedup existed: keep the row, put it in the story.
                        placement.alias_of = None
                        placement.duplicate_of = placement.story_id
                    updates.append((placement.story_id, placement.duplicate_of, id_))
                assigner.index_rows()
                if updates:
                    con.executemany(
                        "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE id = ?", updates
                    )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        index.rebuild(con)
        return len(rows)

    def _open_index(self, con: duckdb.DuckDBPyConnection) -> StoryIndex:
        """The index as the table stands. The one this store's last write left is reused when
        the table has not changed since: reloading the unmerged fingerprints at every write
        made a long pass quadratic (a sixth of the ingest process's CPU at 2,000 pages)."""
        if self._index is not None and self._index[0] == self._index[1].state(con):
            return self._index[1]
        self._index = None
        index = StoryIndex(self.index_dir)
        index.open(con)
        return index

    def initialise(self) -> None:
        """Create or migrate the schema and merge what the spool holds (needs the lock)."""
        with self._connect(read_only=False) as con:
            self._migrate(con)
            self._merge_spool(con)

    # -- writing -------------------------------------------------------------------------
    def write(self, batch: Batch) -> WriteResult:
        try:
            with self._connect(read_only=False) as con:
                self._migrate(con)
                self._merge_spool(con)
                if _index_incomplete(con):
                    self._rebuild_story_index(con)
                stored = self._apply(con, batch)
                return WriteResult(stored=stored, spooled=False)
        except StoreLocked:
            self.spool.put(batch)
            return WriteResult(stored=len(batch.articles), spooled=True)

    def merge_spool(self) -> int:
        """Merge spooled batches now; returns how many were merged (0 if the file is held)."""
        try:
            with self._connect(read_only=False) as con:
                self._migrate(con)
                return self._merge_spool(con)
        except StoreLocked:
            return 0

    def _merge_spool(self, con: duckdb.DuckDBPyConnection) -> int:
        merged = 0
        for claimed in self.spool.claim_all():
            self._apply(con, claimed.batch)
            claimed.done()
            merged += 1
        return merged

    def _apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> int:
        con.execute("BEGIN TRANSACTION")
        try:
            self._upsert_outlets(con, batch.outlets)
            stored, assigner = self._insert_articles(con, batch)
            self._insert_fetches(con, batch)
            self._upsert_reports(con, batch.reports)
            self._upsert_sources(con, batch.sources)
            health.write_polls(con, batch.polls)
            self._record_failures(con, batch.failures)
            con.execute("COMMIT")
        except BaseException:
            self._index = None  # it holds fingerprints the rollback took back
            con.execute("ROLLBACK")
            raise
        assigner.index.maybe_merge(con)  # only committed fingerprints go into the files
        self._index = (assigner.index.state(con), assigner.index)
        return stored

    def _record_failures(
        self, con: duckdb.DuckDBPyConnection, failures: Sequence[UrlFailure]
    ) -> None:
        for f in failures:
            con.execute(
                """INSERT INTO url_failures
                       (url_key, outlet_id, url, reason, kind, attempts, last_failed_at, retry_at)
                   VALUES (?, ?, ?, ?, ?, 1, ?, ?::TIMESTAMPTZ + INTERVAL 1 HOUR)
                   ON CONFLICT (url_key) DO UPDATE SET reason = excluded.reason,
                       kind = excluded.kind,
                       attempts = url_failures.attempts + 1,
                       last_failed_at = excluded.last_failed_at,
                       retry_at = excluded.last_failed_at + to_seconds(
                           CASE WHEN url_failures.attempts + 1 >= ? THEN 3650 * 86400
                                ELSE least(86400, 3600 * pow(4, url_failures.attempts)) END)""",
                [url_key(f.url), f.outlet_id, f.url, f.failure.message, f.failure.kind.value,
                 f.failed_at, f.failed_at, GIVE_UP_AFTER],
            )  # fmt: skip

    def _upsert_outlets(self, con: duckdb.DuckDBPyConnection, outlets: Sequence[Outlet]) -> None:
        now = datetime.now(UTC)
        for o in outlets:
            con.execute(
                """INSERT INTO outlets VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                   homepage = excluded.homepage, language = excluded.language,
                   updated_at = excluded.updated_at""",
                [o.id, o.name, o.homepage, o.language, now],
            )

    def _insert_articles(
        self, con: duckdb.DuckDBPyConnection, batch: Batch
    ) -> tuple[int, StoryAssigner]:
        """Insert the batch's new articles with their story; returns how many rows were added.

        Articles already stored (same id) are left alone, so replaying a batch adds nothing.
        """
        unique: dict[str, Article] = {}
        for a in sorted(batch.articles, key=lambda a: a.fetched_at):
            unique.setdefault(a.id, a)  # DuckDB keeps the first of duplicate keys silently
        existing = set()
        if unique:
            existing = {
                r[0]
                for r in con.execute(
                    "SELECT id FROM articles WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                    [list(unique)],
                ).fetchall()
            }
        assigner = StoryAssigner(con, self._open_index(con))
        placements = [assigner.place(a) for a in unique.values() if a.id not in existing]
        placements = [assigner.resolve(p) for p in placements]
        rows = [_article_row(p, batch.run_id) for p in placements if p.alias_of is None]
        if rows:
            con.register("incoming_articles", pa.Table.from_pylist(rows, schema=_ARTICLE_SCHEMA))
            try:
                con.execute(
                    "INSERT INTO articles BY NAME SELECT * FROM incoming_articles ON CONFLICT DO NOTHING"
                )
            finally:
                con.unregister("incoming_articles")
        assigner.index_rows()
        aliases = [
            UrlAlias(url, p.alias_of or p.article.id, p.article.outlet_id)
            for p in placements
            for url in (p.article.canonical_url, p.article.url, p.article.final_url)
            if url
        ]
        self._insert_aliases(con, aliases + batch.aliases)
        scored = [
            (p.article.id, t)
            for p in placements
            if p.alias_of is None
            for t in p.article.topics or []
        ]
        topics.write_topics(con, scored, datetime.now(UTC))
        per_outlet = Counter(row["outlet_id"] for row in rows)
        # The runs row must say what the pass really added, spooled or not: the report holds
        # what its earlier writes added, this write adds its own.
        for report in batch.reports:
            report.stored += per_outlet.get(report.outlet_id, 0)
        return len(rows), assigner

    def _insert_aliases(self, con: duckdb.DuckDBPyConnection, aliases: list[UrlAlias]) -> None:
        by_key: dict[str, UrlAlias] = {}
        for alias in aliases:
            by_key.setdefault(url_key(alias.url), alias)
        if not by_key:
            return
        table = pa.Table.from_pylist(
            [
                {"url_key": key, "article_id": a.article_id, "outlet_id": a.outlet_id}
                for key, a in by_key.items()
            ]
        )
        con.register("incoming_aliases", table)
        try:
            con.execute(
                "INSERT INTO article_urls BY NAME SELECT * FROM incoming_aliases ON CONFLICT DO NOTHING"
            )
            # A page that failed before and has now been stored is no longer failing.
            con.execute(
                "DELETE FROM url_failures WHERE url_key IN (SELECT url_key FROM incoming_aliases)"
            )
        finally:
            con.unregister("incoming_aliases")

    def _insert_fetches(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        if not batch.fetches:
            return
        rows = [
            {
                "run_id": batch.run_id, "outlet_id": f.outlet_id, "kind": f.kind, "url": f.url,
                "final_url": f.final_url, "status": f.status, "bytes": f.bytes,
                "elapsed_ms": round(f.elapsed_s * 1000, 3), "fetched_at": _utc(f.fetched_at),
                "error": f.failure.message if f.failure else None,
                "error_kind": f.failure.kind.value if f.failure else None,
            }
            for f in batch.fetches
        ]  # fmt: skip
        table = pa.Table.from_pylist(rows, schema=_FETCH_SCHEMA)
        con.register("incoming_fetches", table)
        try:
            con.execute("INSERT INTO fetches BY NAME SELECT * FROM incoming_fetches")
        finally:
            con.unregister("incoming_fetches")

    def _upsert_reports(
        self, con: duckdb.DuckDBPyConnection, reports: Sequence[OutletReport]
    ) -> None:
        for r in reports:
            con.execute(
                """INSERT INTO runs (run_id, outlet_id, started_at, finished_at, discovered,
                       fetched, stored, skipped, failed, status, error, extracted, dated)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (run_id, outlet_id) DO UPDATE SET
                   finished_at = excluded.finished_at, discovered = excluded.discovered,
                   fetched = excluded.fetched, stored = excluded.stored,
                   skipped = excluded.skipped, failed = excluded.failed,
                   status = excluded.status, error = excluded.error,
                   extracted = excluded.extracted, dated = excluded.dated""",
                [
                    r.run_id, r.outlet_id, _utc(r.started_at), _utc(r.finished_at), r.discovered,
                    r.fetched, r.stored, r.skipped, r.failed, r.status, r.error, r.extracted,
                    r.dated,
                ],
            )  # fmt: skip

    def _upsert_sources(
        self, con: duckdb.DuckDBPyConnection, sources: Sequence[SourceState]
    ) -> None:
        for s in sources:
            con.execute(
                """INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET outlet_id = excluded.outlet_id,
                   kind = excluded.kind,
                   origin = CASE WHEN sources.origin = 'config' THEN 'config' ELSE excluded.origin END,
                   etag = excluded.etag, last_modified = excluded.last_modified,
                   body_hash = excluded.body_hash, last_status = excluded.last_status,
                   last_error = excluded.last_error, last_checked = excluded.last_checked,
                   last_changed = coalesce(excluded.last_changed, sources.last_changed)""",
                [
                    s.url, s.outlet_id, s.kind, s.origin, s.etag, s.last_modified, s.body_hash,
                    s.last_status, s.last_error, _utc(s.last_checked), _utc(s.last_changed),
                ],
            )  # fmt: skip

    # -- reading -------------------------------------------------------------------------
    def _read(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection] | None:
        if not self.path.exists():
            return None
        return self._connect(read_only=True)

    def known_urls(self, urls: Sequence[str], waiting_at: datetime | None = None) -> set[str]:
        """Which of these URLs are already stored under any variant of their URL, or are
        waiting in the spool; with `waiting_at`, also those that failed before and are not due
        for another try at that time (one read for both)."""
        if not urls:
            return set()
        keys = {u: url_key(u) for u in urls}
        wanted = list(set(keys.values()))
        found = self.spool.known_keys() & set(keys.values())
        try:
            reader = self._read()
            if reader is not None:
                with reader as con:
                    if _has_table(con, "article_urls"):
                        rows = con.execute(
                            """SELECT url_key FROM article_urls
                               WHERE url_key IN (SELECT unnest(?::VARCHAR[]))""",
                            [wanted],
                        ).fetchall()
                        found |= {r[0] for r in rows}
                    if waiting_at is not None and _has_table(con, "url_failures"):
                        rows = con.execute(
                            """SELECT url_key FROM url_failures
                               WHERE retry_at > ? AND url_key IN (SELECT unnest(?::VARCHAR[]))""",
                            [waiting_at, wanted],
                        ).fetchall()
                        found |= {r[0] for r in rows}
        except StoreLocked:
            pass  # can't tell: fetching again is safe, writes are idempotent
        return {u for u, k in keys.items() if k in found}

    def sources(self, outlet_id: str) -> list[SourceState]:
        try:
            reader = self._read()
            if reader is None:
                return []
            with reader as con:
                if not _has_table(con, "sources"):
                    return []
                rows = con.execute(
                    """SELECT url, outlet_id, kind, origin, etag, last_modified, body_hash,
                              last_status, last_error, last_checked, last_changed
                       FROM sources WHERE outlet_id = ? ORDER BY kind, url""",
                    [outlet_id],
                ).fetchall()
        except StoreLocked:
            return []
        return [
            SourceState(url, outlet_id, SourceKind(kind), SourceOrigin(origin), *rest)
            for url, outlet_id, kind, origin, *rest in rows
        ]

    # -- topics and alerts ----------------------------------------------------------------
    def prepare_alerts(
        self,
        rule_ids: Sequence[str],
        window: timedelta,
        channels: Mapping[str, Sequence[Channel]],
        claim: Sequence[Channel] | None = None,
        stale: timedelta = timedelta(minutes=10),
    ) -> tuple[list[Alert], list[Delivery]]:
        """Create the alerts new matches call for, each with a delivery per channel of its rule
        (`channels` by rule id), and claim the deliveries due now (on `claim`, default all)."""
        now = datetime.now(UTC)
        with self._connect(read_only=False) as con:
            self._migrate(con)
            self._merge_spool(con)
            con.execute("BEGIN TRANSACTION")
            try:
                self._apply_saved_outcomes(con)
                created = outbox.create_alerts(con, rule_ids, window, channels, now)
                every = list({c.key: c for cs in channels.values() for c in cs}.values())
                due = outbox.claim_due(con, every if claim is None else claim, now, stale)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return created, due

    def record_outcomes(
        self, outcomes: Sequence[Outcome], retry_base: timedelta, max_attempts: int
    ) -> None:
        """Delivery results. If the file stays held, they wait in a side file so a sent alert is
        never taken for unsent."""
        try:
            with self._connect(read_only=False, wait_s=60) as con:
                con.execute("BEGIN TRANSACTION")
                outbox.record_outcomes(con, outcomes, retry_base, max_attempts)
                con.execute("COMMIT")
        except StoreLocked:
            saved = _SavedOutcomes(list(outcomes), retry_base.total_seconds(), max_attempts)
            with self._outcomes_file.open("ab") as f:
                f.write(_saved_outcomes().dump_json(saved) + b"\n")

    @property
    def _outcomes_file(self) -> Path:
        return self.path.with_name(self.path.name + ".outcomes.jsonl")

    def _apply_saved_outcomes(self, con: duckdb.DuckDBPyConnection) -> None:
        path = self._outcomes_file
        if not path.exists():
            return
        for line in path.read_bytes().splitlines():
            saved = _saved_outcomes().validate_json(line)
            retry = timedelta(seconds=saved.retry_base_s)
            outbox.record_outcomes(con, saved.outcomes, retry, saved.max_attempts)
        path.unlink()

    def last_sent(self, channel: str) -> datetime | None:
        with self._connect(read_only=True) as con:
            return outbox.last_sent(con, channel)

    def recent_reports(
        self, since: datetime, limit: int = 5000, matched_only: bool = False
    ) -> list[tuple[str, str, str | None, str | None, str, datetime]]:
        """Articles fetched since `since`, newest first (for joining stories across languages)."""
        with self._connect(read_only=True) as con:
            if not _has_table(con, "article_topics"):
                return []
            return stories.recent_reports(con, since, limit, matched_only)

    def merge_stories(self, merges: Sequence[tuple[str, str]]) -> None:
        """(old story, new story) pairs: the old story's copies join the new one."""
        if not merges:
            return
        with self._connect(read_only=False, wait_s=60) as con:
            self._migrate(con)
            con.execute("BEGIN TRANSACTION")
            try:
                for old, new in merges:
                    stories.merge_story(con, old, new)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def story_languages(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        """The languages each story's copies are in (most copies first)."""
        reader = self._read()
        if reader is None or not story_ids:
            return {}
        with reader as con:
            rows = con.execute(
                """SELECT story_id, list(language ORDER BY n DESC, language) FROM (
                       SELECT story_id, coalesce(language, '?') AS language, count(*) AS n
                       FROM articles WHERE story_id IN (SELECT unnest(?::VARCHAR[]))
                       GROUP BY ALL) GROUP BY story_id""",
                [list(story_ids)],
            ).fetchall()
        return {story: list(langs) for story, langs in rows}

    def recent_alerts(self, limit: int = 20) -> list:
        reader = self._read()
        if reader is None:
            return []
        with reader as con:
            if not _has_table(con, "alerts"):
                return []
            return outbox.recent_alerts(con, limit)

    def write_topics(self, scores: Sequence[tuple[str, TopicScore]]) -> None:
        """(article id, score) pairs, e.g. after a rule changed."""
        with self._connect(read_only=False) as con:
            self._migrate(con)
            topics.write_topics(con, scores, datetime.now(UTC))

    def iter_articles(self, batch_size: int = 2000) -> Iterator[list[tuple[str, str | None, str]]]:
        """(id, title, text) of every stored article, in batches (for re-scoring)."""
        offset = 0
        while True:
            with self._connect(read_only=True) as con:
                rows = con.execute(
                    "SELECT id, title, text FROM articles ORDER BY id LIMIT ? OFFSET ?",
                    [batch_size, offset],
                ).fetchall()
            if not rows:
                return
            yield rows
            offset += len(rows)

    def article_by_url(self, url: str) -> tuple[str, str | None, str] | None:
        reader = self._read()
        if reader is None:
            return None
        with reader as con:
            rows = con.execute(
                """SELECT a.id, a.title, a.text FROM article_urls u JOIN articles a ON a.id = u.article_id
                   WHERE u.url_key = ?""",
                [url_key(url)],
            ).fetchall()
        return rows[0] if rows else None

    def last_runs(self) -> dict[str, LastRun]:
        """Each outlet's latest run and its number of stored articles."""
        reader = self._read()
        if reader is None:
            return {}
        with reader as con:
            if not _has_table(con, "runs"):
                return {}
            rows = con.execute(
                """WITH last AS (
                       SELECT * FROM runs
                       QUALIFY row_number() OVER (PARTITION BY outlet_id ORDER BY started_at DESC) = 1)
                   SELECT l.outlet_id, l.finished_at, l.status, l.stored, l.error,
                          (SELECT count(*) FROM articles a WHERE a.outlet_id = l.outlet_id)
                   FROM last l"""
            ).fetchall()
        return {r[0]: LastRun(r[0], r[1], RunStatus(r[2]), *r[3:]) for r in rows}

    # -- polling and health ---------------------------------------------------------------
    def poll_states(self, wait_s: float = 30.0) -> dict[str, PollState]:
        """Raises StoreLocked if the file stays held: a scheduler must not take every outlet
        for due just because it could not read when they are."""
        if not self.path.exists():
            return {}
        with self._connect(read_only=True, wait_s=wait_s) as con:
            return health.read_polls(con) if _has_table(con, "outlet_polls") else {}

    def published_since(self, outlet_id: str, since: datetime) -> int | None:
        """None when the file is held: the caller keeps the pace it had."""
        try:
            reader = self._read()
            if reader is None:
                return 0
            with reader as con:
                return health.published_since(con, outlet_id, since)
        except StoreLocked:
            return None

    def health_history(self, now: datetime, window: timedelta) -> dict[str, OutletHistory]:
        """Each outlet's runs, requests and new articles within `window`."""
        reader = self._read()
        if reader is None:
            return {}
        with reader as con:
            if not _has_table(con, "outlet_health"):
                return {}
            return health.history(con, now, window)

    def record_health(
        self,
        states: Sequence[HealthState],
        quiet: set[HealthStatus],
        claim_attempts: int = 0,
        stale: timedelta = timedelta(minutes=10),
    ) -> tuple[list[HealthEvent], list[HealthEvent]]:
        """Store the states (changes become events) and, when claim_attempts > 0, claim the
        events whose notification is owed. Returns (new events, claimed events)."""
        now = datetime.now(UTC)
        with self._connect(read_only=False, wait_s=30) as con:
            self._migrate(con)
            con.execute("BEGIN TRANSACTION")
            try:
                created = health.record_states(con, states, now, quiet)
                claimed = (
                    health.claim_events(con, now, stale, claim_attempts) if claim_attempts else []
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return created, claimed

    def finish_health_events(self, outcomes: Sequence[tuple[str, str | None]]) -> None:
        """(event_id, error or None) for each notification attempt."""
        now = datetime.now(UTC)
        with self._connect(read_only=False, wait_s=60) as con:
            for event_id, error in outcomes:
                health.finish_event(con, event_id, error, now)

    def health_events(self, limit: int = 20) -> list[tuple]:
        reader = self._read()
        if reader is None:
            return []
        with reader as con:
            if not _has_table(con, "health_events"):
                return []
            return health.recent_events(con, limit)

    def query(self, sql: str, wait_s: float = 15.0) -> QueryResult:
        """Run read-only SQL. If a writer holds the file longer than `wait_s`, read a snapshot
        copy of the last checkpoint instead of failing."""
        if not self.path.exists():
            raise StoreError(
                f"no database at {self.path} (run `newsmon run` or `newsmon demo` first)"
            )
        try:
            with self._connect(read_only=True, wait_s=wait_s) as con:
                return _run_query(con, sql)
        except StoreLocked as exc:
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / self.path.name
                shutil.copyfile(self.path, copy)
                try:
                    con = duckdb.connect(str(copy), read_only=True)
                except duckdb.Error:
                    raise exc from None
                try:
                    result = _run_query(con, sql)
                finally:
                    con.close()
            note = f"{exc}; showing the last checkpointed state"
            return QueryResult(result.columns, result.rows, note)


def _index_incomplete(con: duckdb.DuckDBPyConnection) -> bool:
    """Cheap check that every article has its fingerprint (the index was not dropped)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM articles) > (SELECT count(*) FROM article_fingerprints)"
    ).fetchall()
    return bool(row[0][0])


def _stored_article(
    id_: str, outlet_id: str, url: str, canonical: str, text: str, chash: str, fetched_at: datetime
) -> Article:
    return Article(
        id=id_, outlet_id=outlet_id, url=url, canonical_url=canonical, title=None, authors=[],
        published_at=None, date_source=None, fetched_at=fetched_at, language=None,
        description=None, tags=[], sitename=None, text=text, word_count=len(text.split()),
        content_hash=chash, extractor_version="", discovered_via="",
    )  # fmt: skip


def _article_row(p: Placement, run_id: str) -> dict[str, Any]:
    a = p.article
    return {
        "id": a.id, "outlet_id": a.outlet_id, "url": a.url, "canonical_url": a.canonical_url,
        "title": a.title, "authors": a.authors, "published_at": _utc(a.published_at),
        "date_source": a.date_source, "fetched_at": _utc(a.fetched_at), "language": a.language,
        "description": a.description, "tags": a.tags, "sitename": a.sitename, "text": a.text,
        "word_count": a.word_count, "content_hash": a.content_hash,
        "extractor_version": a.extractor_version, "discovered_via": a.discovered_via,
        "run_id": run_id, "story_id": p.story_id, "duplicate_of": p.duplicate_of,
    }  # fmt: skip


def _run_query(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    con.execute("SET TimeZone = 'UTC'")
    try:
        cursor = con.execute(sql)
    except duckdb.Error as exc:
        raise StoreError(_one_line(exc)) from None
    if cursor.description is None:
        return QueryResult([], [])
    columns = [d[0] for d in cursor.description]
    return QueryResult(columns, cursor.fetchall())


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()[0]
    return bool(row and row[0])


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _holder(exc: BaseException) -> str:
    text = str(exc)
    marker = "is held in "
    if marker in text:
        return "held by " + text.split(marker, 1)[1].split(".", 1)[0].strip()[:120]
    return "locked"


_TS = pa.timestamp("us", tz="UTC")
_ARTICLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("outlet_id", pa.string()), ("url", pa.string()),
        ("canonical_url", pa.string()), ("title", pa.string()), ("authors", pa.list_(pa.string())),
        ("published_at", _TS), ("date_source", pa.string()), ("fetched_at", _TS),
        ("language", pa.string()), ("description", pa.string()), ("tags", pa.list_(pa.string())),
        ("sitename", pa.string()), ("text", pa.string()), ("word_count", pa.int32()),
        ("content_hash", pa.string()), ("extractor_version", pa.string()),
        ("discovered_via", pa.string()), ("run_id", pa.string()), ("story_id", pa.string()),
        ("duplicate_of", pa.string()),
    ]
)  # fmt: skip
_FETCH_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()), ("outlet_id", pa.string()), ("kind", pa.string()),
        ("url", pa.string()), ("final_url", pa.string()), ("status", pa.int32()),
        ("bytes", pa.int64()), ("elapsed_ms", pa.float64()), ("fetched_at", _TS),
        ("error", pa.string()), ("error_kind", pa.string()),
    ]
)  # fmt: skip
