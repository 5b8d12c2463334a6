"""Leases in the lake's catalog: PostgreSQL advisory locks, held by a connection of their own.

- The **write lease** queues the processes that write the store, so that their transactions
  rarely overlap and none redoes its work after a conflict. Correctness does not rest on it
  (storage/lake.py: overlapping writes conflict and are redone); it saves the work.
- An **outlet lease** makes sure one worker at a time polls an outlet, whatever else goes
  wrong upstream (a pass that overlaps the next, a run handed out twice).

Advisory locks rather than rows in a table: PostgreSQL frees them the moment the holder's
connection ends, so a worker that dies (killed, out of memory, its machine gone) gives its
outlets back at once, with no expiry time to wait out and no heartbeat to keep up. They cost
no table, and a hundred thousand outlets cost nothing until they are polled. A lock is taken
by an autocommit session (`pg_advisory_lock`), not inside a transaction, so no transaction
stays open for the minutes an outlet's poll takes.

A DuckDB-file catalog can only be used by one process, so its leases are plain thread locks
(`LocalLeases`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import psycopg

NAMESPACE = 0x6E6D  # first key of every newsmon advisory lock ("nm"); the second says which
WRITE_KEY = 0


class LeaseError(Exception):
    """The catalog could not be asked for a lease, in one line."""


class Leases(Protocol):
    def write(self) -> AbstractContextManager[bool]: ...
    def outlet(self, outlet_id: str) -> AbstractContextManager[bool]: ...
    def close(self) -> None: ...


def outlet_key(outlet_id: str) -> int:
    """A stable signed 32-bit key per outlet. Two outlets that share one only wait for each
    other, which is safe."""
    key = zlib.crc32(outlet_id.encode()) & 0x7FFFFFFF
    return key or 1  # 0 is the write lease


class PostgresLeases:
    """Leases held by this process's sessions with the catalog's PostgreSQL."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        # A session's advisory locks are re-entrant, so two threads of this process sharing it
        # would both "hold" one: threads are kept apart here first.
        self._local = LocalLeases()
        self._write = _Session(conninfo)
        self._outlets = _Session(conninfo)

    @contextmanager
    def write(self) -> Iterator[bool]:
        """Wait for the write lease, hold it for the block."""
        with self._local.write(), self._write.locked(WRITE_KEY, wait=True) as held:
            yield held

    @contextmanager
    def outlet(self, outlet_id: str) -> Iterator[bool]:
        """Yields True when this process now polls the outlet, False when another does."""
        with self._local.outlet(outlet_id) as mine:
            if not mine:
                yield False
                return
            with self._outlets.locked(outlet_key(outlet_id), wait=False) as held:
                yield held

    def close(self) -> None:
        self._write.close()
        self._outlets.close()


class _Session:
    """One autocommit connection and the advisory locks it holds. Calls on it are serialised;
    the blocking wait for the write lease has a session of its own."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection:
        import psycopg  # only a shared lake needs it

        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise LeaseError(
                    f"cannot reach the catalog for a lease: {_one_line(exc)}"
                ) from None
        return self._conn

    def _call(self, sql: str, key: int) -> bool:
        import psycopg

        with self._lock:
            try:
                row = self._connection().execute(sql, (NAMESPACE, key)).fetchone()
            except psycopg.OperationalError as exc:
                self._conn = None  # gone; every lock it held went with it
                raise LeaseError(f"lost the catalog session: {_one_line(exc)}") from None
        return bool(row[0]) if row and row[0] is not None else True

    @contextmanager
    def locked(self, key: int, wait: bool) -> Iterator[bool]:
        if wait:
            self._call("SELECT pg_advisory_lock(%s, %s) IS NULL", key)
            held = True
        else:
            held = self._call("SELECT pg_try_advisory_lock(%s, %s)", key)
        try:
            yield held
        finally:
            if held:
                with suppress(LeaseError):  # the session is gone, and the lock with it
                    self._call("SELECT pg_advisory_unlock(%s, %s)", key)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class LocalLeases:
    """Leases within one process: a DuckDB-file catalog admits one process anyway."""

    def __init__(self) -> None:
        self._write = threading.Lock()
        self._guard = threading.Lock()
        self._outlets: set[str] = set()

    @contextmanager
    def write(self) -> Iterator[bool]:
        with self._write:
            yield True

    @contextmanager
    def outlet(self, outlet_id: str) -> Iterator[bool]:
        with self._guard:
            held = outlet_id not in self._outlets
            self._outlets.add(outlet_id)
        try:
            yield held
        finally:
            if held:
                with self._guard:
                    self._outlets.discard(outlet_id)

    def close(self) -> None:
        pass


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
