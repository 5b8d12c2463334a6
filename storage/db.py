"""The store: the only code that speaks SQL, behind one object.

Each method is one read or one transaction (storage/connection.py: the lock policy, the
spool, migrations) around functions over an open connection, one module per concern:
- storage/articles.py  articles and stories: the only write path for articles
- storage/topics.py    topic scores
- storage/runs.py      outlets, runs, the request log, sources, failing URLs
- storage/health.py    polling state and source health
- storage/alerts.py    the alert outbox
- storage/queries.py   read-only SQL for people
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from extractors.records import (
    Alert,
    Batch,
    Channel,
    Deliveries,
    Delivery,
    HealthEvent,
    HealthState,
    HealthStatus,
    LakeSettings,
    LastRun,
    Outcome,
    OutletHistory,
    OutletReport,
    OutletState,
    PollState,
    QueryResult,
    TopicScore,
    WriteResult,
)
from extractors.urls import url_key
from storage import alerts as outbox
from storage import health, history, queries, runs, search_index, stories, topics
from storage.articles import Articles, known_keys, paragraph_keys
from storage.connection import (
    Connection,
    Database,
    DuckDBFile,
    Held,
    StoreError,
    StoreLocked,
    one_line,
)
from storage.lake import LakeBackend
from storage.story_index import StoryIndex

__all__ = ["Store", "StoreError", "StoreLocked"]


@dataclass(frozen=True)
class Reading:
    con: Connection
    note: str | None  # set when reading a snapshot because a writer holds the file


# Threads of a desk or search connection. A page's queries are small: on a machine whose cores
# are busy (a pass writing beside the desk, other requests, other programs) a second thread
# mostly waits for the first at each step of a parallel plan (benchmarks/README.md, the desk).
READ_THREADS = 1


class Store:
    """The DuckDB file at `path`; or, given `lake`, a DuckLake (storage/lake.py), and then
    `path` only names this process's files beside it (spool, story index)."""

    def __init__(
        self, path: Path | str, lock_wait_s: float = 2.0, lake: LakeSettings | None = None
    ) -> None:
        self.path = Path(path)
        self.lake = LakeBackend(lake, self.path) if lake is not None else None
        backend = self.lake or DuckDBFile(self.path)
        self.index_dir = backend.derived(".index")
        self.articles = Articles(self.index_dir)
        self.db = Database(
            backend, self._apply, self.articles.committed, self.articles.upgrade, lock_wait_s,
            redo=self.articles.forget,
        )  # fmt: skip
        self.spool = self.db.spool
        self._passes: Counter[tuple[str, str]] = Counter()  # (run, outlet) -> stored or spooled

    def close(self) -> None:
        """Let go of a lake's connections and leases (a DuckDB file is never kept open)."""
        if self.lake is not None:
            self.lake.close()

    # -- writing -----------------------------------------------------------------------
    def write(self, batch: Batch) -> WriteResult:
        """One batch in one transaction, after what the spool holds. Its reports come back as
        written, `stored` counted. When the file stays held the batch is spooled, and `stored`
        is what this Store has written or spooled of the pass: what it will be once merged,
        unless another process stored some of those articles first."""
        result = self.db.write(batch)
        if isinstance(result, WriteResult):
            return result
        for a in batch.articles:
            self._passes[(batch.run_id, a.outlet_id)] += 1
        reports = [
            dataclasses.replace(r, stored=self._passes[(r.run_id, r.outlet_id)], spooled=True)
            for r in batch.reports
        ]
        return WriteResult(len(batch.articles), spooled=True, reports=reports)

    def _apply(self, con: Connection, batch: Batch) -> WriteResult:
        now = datetime.now(UTC)
        try:
            runs.write_outlets(con, batch.outlets, now)
            stored = self.articles.write(
                con, batch.run_id, batch.articles, batch.aliases, batch.quiet
            )
            runs.write_fetches(con, batch.run_id, batch.fetches)
            reports = runs.write_reports(con, batch.reports)
            runs.write_sources(con, batch.sources)
            health.write_polls(con, batch.polls)
            runs.write_failures(con, batch.failures)
            for d in batch.deliveries:
                outbox.record_outcomes(
                    con, d.outcomes, timedelta(seconds=d.retry_s), d.max_attempts
                )
            if batch.revisits or batch.versions:
                history.record_revisits(con, self.articles, batch.revisits, batch.versions)
        except BaseException:
            self.articles.forget()
            raise
        for outlet_id, n in stored.items():
            self._passes[(batch.run_id, outlet_id)] += n
        return WriteResult(stored.total(), spooled=False, reports=reports)

    def initialise(self) -> None:
        """Create or migrate the schema and merge what the spool holds (needs the lock)."""
        self.db.merge_spool()

    def merge_spool(self) -> int:
        """Merge spooled batches now; how many (0 if the file is held)."""
        return self.db.merge_spool()

    def rebuild_story_index(self) -> int:
        """Re-create missing fingerprints and index files from the stored texts (and place
        articles stored before deduplication existed). Returns how many articles it indexed."""
        with self.db.transaction() as con:
            indexed = self.articles.rebuild(con)
            if not indexed:
                StoryIndex(self.index_dir).rebuild(con)
            return indexed

    def write_topics(self, scores: Sequence[tuple[str, TopicScore]]) -> None:
        """(article id, score) pairs, e.g. after a rule changed."""
        with self.db.transaction() as con:
            topics.write_topics(con, scores, datetime.now(UTC))

    # -- what a pass reads ---------------------------------------------------------------
    def outlet_state(
        self,
        outlet_id: str,
        since: datetime,
        fresh_after: datetime | None = None,
        paragraphs_of: int = 0,
    ) -> OutletState:
        """What a pass needs to know of its outlet, in one read: its sources as last seen, its
        articles published since `since`, (with `fresh_after`) those first fetched after that,
        to revisit, and the paragraph keys of its latest `paragraphs_of` articles, to learn its
        page chrome from. A held file: no remembered sources, no count, nothing to revisit,
        no chrome (learned again next time)."""
        if not self.db.backend.exists():
            return OutletState([], 0)
        with self.db.reading(when_held=Held.NOTHING) as con:
            if con is None:
                return OutletState([], None)
            return OutletState(
                runs.read_sources(con, outlet_id),
                health.published_since(con, outlet_id, since),
                history.fresh(con, outlet_id, fresh_after) if fresh_after else [],
                paragraph_keys(con, outlet_id, paragraphs_of) if paragraphs_of else [],
            )

    def unseen(self, urls: Sequence[str], at: datetime | None = None) -> list[str]:
        """The URLs not stored under any variant and not waiting in the spool; with `at`,
        also not failed lately and waiting for a later retry. A held file knows nothing:
        fetching again is safe, the write settles duplicates."""
        keys = {u: url_key(u) for u in urls}
        found = self.spool.known_keys() & set(keys.values()) if keys else set()
        if keys:
            with self.db.reading(when_held=Held.NOTHING) as con:
                if con is not None:
                    found |= known_keys(con, list(set(keys.values())), at)
        return [u for u in urls if keys[u] not in found]

    def poll_states(self, wait_s: float = 30.0) -> dict[str, PollState]:
        """Raises StoreLocked if the file stays held: a scheduler must not take every outlet
        for due just because it could not read when they are."""
        with self.db.reading(wait_s) as con:
            return health.read_polls(con) if con is not None else {}

    # -- alerts ------------------------------------------------------------------------
    def prepare_alerts(
        self,
        rule_ids: Sequence[str],
        window: timedelta,
        channels: Mapping[str, Sequence[Channel]],
        claim: Sequence[Channel] | None = None,
        stale: timedelta = timedelta(minutes=10),
    ) -> tuple[list[Alert], list[Delivery]]:
        """Create the alerts new matches call for, each with a delivery per channel of its rule
        (`channels` by rule id), and claim the deliveries due now (on `claim`, default all).
        The spool, merged first, may hold outcomes of earlier deliveries."""
        now = datetime.now(UTC)
        with self.db.transaction() as con:
            created = outbox.create_alerts(con, rule_ids, window, channels, now)
            every = list({c.key: c for cs in channels.values() for c in cs}.values())
            due = outbox.claim_due(con, every if claim is None else claim, now, stale)
        return created, due

    def record_outcomes(
        self,
        outcomes: Sequence[Outcome],
        retry_base: timedelta,
        max_attempts: int,
        wait_s: float = 60.0,
    ) -> None:
        """Delivery results. If the file stays held they wait in the spool, so a sent alert is
        never taken for unsent."""
        sent = Deliveries(list(outcomes), retry_base.total_seconds(), max_attempts)
        self.db.write(Batch(deliveries=[sent]), wait_s=wait_s)

    def last_sent(self, channel: str) -> datetime | None:
        with self.db.reading() as con:
            return outbox.last_sent(con, channel) if con is not None else None

    def recent_reports(
        self, since: datetime, limit: int = 5000, matched_only: bool = False
    ) -> list[tuple[str, str, str | None, str | None, str, datetime]]:
        """Articles fetched since `since`, newest first (for joining stories across languages)."""
        with self.db.reading() as con:
            return stories.recent_reports(con, since, limit, matched_only) if con else []

    def merge_stories(self, merges: Sequence[tuple[str, str]]) -> None:
        """(old story, new story) pairs: the old story's copies join the new one."""
        if not merges:
            return
        # One transaction per merge: a lake cannot change a row twice in one transaction, as a
        # chain of merges (a into b, then b into c) would.
        for old, new in merges:
            with self.db.transaction(wait_s=60) as con:
                stories.merge_story(con, old, new)

    def story_languages(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        """The languages each story's copies are in (most copies first)."""
        if not story_ids:
            return {}
        with self.db.reading() as con:
            return stories.story_languages(con, story_ids) if con else {}

    def recent_alerts(self, limit: int = 20) -> list[tuple[Alert, int, list[tuple]]]:
        with self.db.reading() as con:
            return outbox.recent_alerts(con, limit) if con is not None else []

    # -- health ------------------------------------------------------------------------
    def health_history(self, now: datetime, window: timedelta) -> dict[str, OutletHistory]:
        """Each outlet's runs, requests and new articles within `window`."""
        with self.db.reading() as con:
            return health.history(con, now, window) if con is not None else {}

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
        with self.db.transaction(wait_s=30) as con:
            created = health.record_states(con, states, now, quiet)
            claimed = health.claim_events(con, now, stale, claim_attempts) if claim_attempts else []
        return created, claimed

    def finish_health_events(self, outcomes: Sequence[tuple[str, str | None]]) -> None:
        """(event_id, error or None) for each notification attempt."""
        now = datetime.now(UTC)
        with self.db.transaction(wait_s=60) as con:
            for event_id, error in outcomes:
                health.finish_event(con, event_id, error, now)

    def health_events(self, limit: int = 20) -> list[tuple]:
        with self.db.reading() as con:
            return health.recent_events(con, limit) if con is not None else []

    # -- for people ----------------------------------------------------------------------
    def update_search_index(self, chunk: int = 20_000) -> int:
        """Add the articles stored since the last update to the full-text index; how many. A
        store never indexed catches up in transactions of `chunk`. 0 when the file is held:
        the next pass indexes them."""
        indexed = 0
        try:
            while True:
                with self.db.transaction() as con:
                    added = search_index.update(con, limit=chunk)
                indexed += added
                if added < chunk:
                    return indexed
        except StoreLocked:
            return indexed

    @contextlib.contextmanager
    def reading(self, wait_s: float = 15.0) -> Iterator[Reading]:
        """A read-only connection for the desk and `newsmon search`; when a writer holds the file
        longer than `wait_s`, its last checkpointed state with a note saying so. A lake is
        read at its latest snapshot. One DuckDB thread (READ_THREADS)."""
        if self.lake is not None:
            try:
                with self.lake.reader() as con:
                    yield Reading(con, None)
            except duckdb.Error as exc:
                raise StoreError(one_line(exc)) from None
            return
        if not self.path.exists():
            raise StoreError(
                f"no database at {self.path} (run `newsmon run` or `newsmon demo` first)"
            )
        with self.db.snapshot_when_held(wait_s) as (con, note):
            con.execute(f"SET threads = {READ_THREADS}")
            yield Reading(con, note)

    def query(self, sql: str, wait_s: float = 15.0) -> QueryResult:
        """Run read-only SQL. If a writer holds the file longer than `wait_s`, read a snapshot
        copy of the last checkpoint instead of failing. On a lake, only queries run."""
        if self.lake is not None:
            queries.only_reads(sql)
            try:
                with self.lake.reader() as con:
                    return queries.run(con, sql, None)
            except duckdb.Error as exc:
                raise StoreError(one_line(exc)) from None
        if not self.path.exists():
            raise StoreError(
                f"no database at {self.path} (run `newsmon run` or `newsmon demo` first)"
            )
        with self.db.snapshot_when_held(wait_s) as (con, note):
            return queries.run(con, sql, note)

    def runs_of(self, run_id: str) -> list[OutletReport]:
        """The `runs` rows of one pass: every worker's share of it."""
        with self.db.reading() as con:
            return runs.runs_of(con, run_id) if con is not None else []

    def last_runs(self) -> dict[str, LastRun]:
        """Each outlet's latest run and its number of stored articles."""
        with self.db.reading() as con:
            return runs.last_runs(con) if con is not None else {}

    def article_by_url(self, url: str) -> tuple[str, str | None, str, str | None] | None:
        with self.db.reading() as con:
            return queries.article_by_url(con, url) if con is not None else None

    def iter_articles(
        self, batch_size: int = 2000
    ) -> Iterator[list[tuple[str, str | None, str, str | None]]]:
        """(id, title, text, language) of every stored article, in batches (for re-scoring)."""
        after = None
        while True:
            with self.db.reading() as con:
                page = queries.articles_page(con, after, batch_size) if con is not None else []
            if not page:
                return
            yield page
            after = page[-1][0]
