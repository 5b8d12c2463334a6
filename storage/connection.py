"""Who may open the store when, and what happens when someone else holds it: the one place
that knows.

DuckDB lets one process hold a file read-write, and then nobody else may even read it. So the
store never keeps the file open: each read or write opens, works and closes, and
- an open retries with backoff while another process holds the file, for `wait_s`;
- a batch that still finds the file held goes to the spool (`Database.write`), and every
  write merges what the spool holds, in order, before its own batch: nothing is lost;
- a read that finds the file held fails (`StoreLocked`), or sees nothing where not knowing is
  safe (`Held.NOTHING`: which URLs are stored; fetching again is harmless), or reads a copy of
  the last checkpoint (`snapshot_when_held`, for `newsmon sql`);
- the schema is migrated once per Database (the first write, or the first read of a file an
  older newsmon wrote), not at every open.

Where the data lives is a Backend: an embedded DuckDB file here, or a DuckLake
(storage/lake.py). A backend says how to open a connection, where derived state (spool, story
index) lives, whether a writer locks everyone else out (`exclusive`), and how a transaction
runs: one BEGIN/COMMIT on the file; on a lake, one that no other writer overlaps and that is
redone when it lost a race (`run`). A lake whose catalog cannot be reached, or a write that
kept losing races, counts as held: the batch waits in the spool all the same.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb

from extractors.records import Batch
from storage import extensions, rows
from storage.schema import MIGRATIONS
from storage.spool import Spool

Connection = duckdb.DuckDBPyConnection
T = TypeVar("T")


class StoreError(Exception):
    """A storage problem worth one line to the user."""


class StoreLocked(StoreError):
    """Another process holds the store (for longer than we waited)."""


class Held(Enum):
    """What a read does when the store stays held."""

    RAISE = "raise"  # StoreLocked
    NOTHING = "nothing"  # read nothing (the reading() block gets None)


class Backend(Protocol):
    exclusive: bool  # a writer locks everyone else out (a DuckDB file); a lake does not

    def exists(self) -> bool: ...
    def connect(self, read_only: bool) -> Connection:
        """Open; StoreLocked when someone else holds it, StoreError for anything else."""
        ...

    def derived(self, suffix: str) -> Path:
        """Where state derived from the store lives (spool, story index files)."""
        ...

    def snapshot(self) -> contextlib.AbstractContextManager[Connection]:
        """A read of the last checkpointed state, while a writer holds the store."""
        ...

    def atomic(self, con: Connection) -> contextlib.AbstractContextManager[None]:
        """The block as one transaction: committed when it ends, rolled back when it raises."""
        ...

    def run(
        self, con: Connection, body: Callable[[Connection], T], redo: Callable[[], object]
    ) -> T:
        """`body` as one transaction; where a transaction can lose a race to another writer,
        `redo` is told and `body` runs again from the start."""
        ...


class DuckDBFile:
    """The store as one DuckDB file; spool and index files beside it (`<db>.spool/`, ...)."""

    exclusive = True
    _LOCK_MARKERS = ("could not set lock", "conflicting lock", "database is locked")

    def __init__(self, path: Path) -> None:
        self.path = path

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    def derived(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    def connect(self, read_only: bool) -> Connection:
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(
                str(self.path), read_only=read_only, config=extensions.connection_config()
            )
        except duckdb.Error as exc:
            # DuckDB has no exception type for a held file: its message is all there is.
            if any(marker in str(exc).lower() for marker in self._LOCK_MARKERS):
                message = f"{self.path} is held by another process ({_holder(exc)})"
                raise StoreLocked(message) from None
            raise StoreError(f"cannot open {self.path}: {one_line(exc)}") from None
        con.execute("SET TimeZone = 'UTC'")
        return con

    def atomic(self, con: Connection) -> contextlib.AbstractContextManager[None]:
        return atomic(con)

    def run(
        self, con: Connection, body: Callable[[Connection], T], redo: Callable[[], object]
    ) -> T:
        with atomic(con):
            return body(con)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Connection]:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / self.path.name
            shutil.copyfile(self.path, copy)
            con = DuckDBFile(copy).connect(read_only=True)
            try:
                yield con
            finally:
                con.close()


# One connection at a time per process: DuckDB shares one database instance between the
# connections of a process, and a read-only and a read-write open of one file clash.
_process_lock = threading.Lock()


class Database:
    """Connections to one store with the lock policy applied.

    `apply` writes one batch inside a transaction (the store's write path) and `committed`
    runs after each such commit; `on_upgrade` runs once per Database after the migrations, in
    a transaction, told whether an older schema was upgraded."""

    def __init__(
        self,
        backend: Backend,
        apply: Callable[[Connection, Batch], object],
        committed: Callable[[Connection], object] | None = None,
        on_upgrade: Callable[[Connection, bool], object] | None = None,
        wait_s: float = 2.0,
        redo: Callable[[], object] = lambda: None,
    ) -> None:
        self.backend = backend
        self._redo = redo  # a write is run again: drop what its lost attempt left in memory
        self.spool = Spool(backend.derived(".spool"))
        self.wait_s = wait_s
        self._apply = apply
        self._committed = committed
        self._on_upgrade = on_upgrade
        self._prepared = False  # migrated (and on_upgrade run) by this Database
        self._schema_checked = False  # a read found the schema current, or could not fix it

    # -- reading -----------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(
        self, wait_s: float | None = None, when_held: Held = Held.RAISE
    ) -> Iterator[Connection | None]:
        """A read-only connection; None when there is no store yet (or it stays held and
        `when_held` is NOTHING). SQL errors come out as one-line StoreErrors."""
        if not self.backend.exists():
            yield None
            return
        if not self._schema_checked:
            self._upgrade_if_needed()
        with contextlib.ExitStack() as stack:
            try:
                con: Connection | None = stack.enter_context(self._open(True, wait_s))
            except StoreLocked:
                if when_held is Held.RAISE:
                    raise
                con = None
            try:
                yield con
            except duckdb.Error as exc:
                raise StoreError(one_line(exc)) from None

    @contextlib.contextmanager
    def snapshot_when_held(self, wait_s: float) -> Iterator[tuple[Connection, str | None]]:
        """A read-only connection and no note; when a writer holds the store for longer than
        `wait_s`, a connection to a copy of its last checkpoint, and a note that says so."""
        with contextlib.ExitStack() as stack:
            note = None
            try:
                con = stack.enter_context(self._open(True, wait_s))
            except StoreLocked as exc:
                try:
                    con = stack.enter_context(self.backend.snapshot())
                except StoreError:
                    raise exc from None
                note = f"{exc}; showing the last checkpointed state"
            try:
                yield con, note
            except duckdb.Error as exc:
                raise StoreError(one_line(exc)) from None

    # -- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(
        self,
        wait_s: float | None = None,
        after_commit: Callable[[Connection], object] | None = None,
    ) -> Iterator[Connection]:
        """A read-write connection in a transaction, after migrating (once per Database) and
        merging the spool (always: the next writer merges): committed when the block ends,
        rolled back when it raises. `after_commit` runs on the connection once committed."""
        with self._open(read_only=False, wait_s=wait_s) as con:
            self._prepare(con)
            self._merge_spool(con)
            with self.backend.atomic(con):
                yield con
            if after_commit is not None:
                after_commit(con)

    def write(self, batch: Batch, wait_s: float | None = None) -> object | None:
        """Merge the spool, then apply the batch, each batch in its own transaction. When the
        store stays held, the batch waits in the spool instead and the result is None."""
        try:
            with self._open(read_only=False, wait_s=wait_s) as con:
                self._prepare(con)
                self._merge_spool(con)
                return self._apply_one(con, batch)
        except StoreLocked:
            self.spool.put(batch)
            return None

    def merge_spool(self) -> int:
        """Merge spooled batches now; how many (0 when the store is held)."""
        try:
            with self._open(read_only=False, wait_s=None) as con:
                self._prepare(con)
                return self._merge_spool(con)
        except StoreLocked:
            return 0

    def _merge_spool(self, con: Connection) -> int:
        merged = 0
        for claimed in self.spool.claim_all():
            self._apply_one(con, claimed.batch)
            claimed.done()  # after the commit: a crash before it leaves a claim to take back
            merged += 1
        return merged

    def _apply_one(self, con: Connection, batch: Batch) -> object:
        result = self.backend.run(con, lambda c: self._apply(c, batch), self._redo)
        if self._committed is not None:
            self._committed(con)
        return result

    # -- opening and migrating ---------------------------------------------------------
    @contextlib.contextmanager
    def _open(self, read_only: bool, wait_s: float | None) -> Iterator[Connection]:
        """Open with backoff while another process holds the store; close at the end."""
        deadline = time.monotonic() + (self.wait_s if wait_s is None else wait_s)
        delay = 0.05
        with _process_lock:
            while True:
                try:
                    con = self.backend.connect(read_only)
                    break
                except StoreLocked:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
            try:
                yield con
            finally:
                con.close()

    def _prepare(self, con: Connection) -> None:
        if not self._prepared:
            self._migrate(con)

    def _migrate(self, con: Connection) -> None:
        current = _version(con)
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number > current:
                with self.backend.atomic(con):
                    con.execute(sql)
                    con.execute("INSERT INTO schema_version VALUES (?)", [number])
        if current < len(MIGRATIONS):
            rows.forget_columns()
        if self._on_upgrade is not None:
            with self.backend.atomic(con):
                self._on_upgrade(con, 0 < current < len(MIGRATIONS))
        self._prepared = self._schema_checked = True

    def _upgrade_if_needed(self) -> None:
        """Before the first read: a file an older newsmon wrote is migrated first, if it can
        be now (if not, reads see the tables it has)."""
        self._schema_checked = True
        with contextlib.suppress(StoreError), self._open(read_only=True, wait_s=0) as con:
            if _version(con, create=False) >= len(MIGRATIONS):
                return
        with contextlib.suppress(StoreError), self.transaction(wait_s=0):
            pass


@contextlib.contextmanager
def atomic(con: Connection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _version(con: Connection, create: bool = True) -> int:
    if create:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchall()
    except duckdb.CatalogException:
        return 0
    return (row[0][0] or 0) if row else 0


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _holder(exc: BaseException) -> str:
    text = str(exc)
    marker = "is held in "
    if marker in text:
        return "held by " + text.split(marker, 1)[1].split(".", 1)[0].strip()[:120]
    return "locked"
