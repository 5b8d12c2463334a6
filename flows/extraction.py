"""A run's extraction pool (extractors/workers.py): started when the run starts, shared by its
outlets, closed when it ends. A new run makes a new pool: its workers fork from the fork
server, which stays up for the life of the process, so only the first pool of a process waits
for trafilatura's imports; and each pool gets the run's rules as they are now."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, InvalidStateError
from concurrent.futures.process import BrokenProcessPool

from extractors.records import Article, ExtractJob, UrlFailure
from extractors.topics import Rule


class Extractor:
    def __init__(self, workers: int = 0, rules: Sequence[Rule] = ()) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.rules = tuple(rules)
        self._pool: Executor | None = None
        self._lock = threading.Lock()  # the starting thread and the event loop both make pools
        self._starting: Future[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the workers in a thread and return at once. Forking the first worker waits
        for the fork server to import trafilatura (seconds); discovery goes on meanwhile. A
        daemon thread: a run stopped meanwhile exits without waiting for those imports."""
        self._starting = Future()
        threading.Thread(
            target=self._start_workers, args=(self._starting,), name="newsmon-pool-start",
            daemon=True,
        ).start()  # fmt: skip

    def _start_workers(self, done: Future[None]) -> None:
        try:
            from extractors.workers import ready_fork_server

            ready_fork_server()  # no pool yet: closing meanwhile has nothing to wait for
            pool = self._current()
            for _ in range(self.workers):  # the pool forks a worker per submit while none is idle
                pool.submit(int)
        except BrokenProcessPool:
            self._discard()  # the first extraction starts a fresh one
        except BaseException as exc:  # noqa: BLE001 - handed to the first extraction to raise
            with contextlib.suppress(InvalidStateError):  # the run was stopped meanwhile
                done.set_exception(exc)
            return
        with contextlib.suppress(InvalidStateError):
            done.set_result(None)

    async def __call__(self, job: ExtractJob) -> Article | UrlFailure:
        starting = self._starting
        if starting is not None:
            # Submitting while the pool is still forking would block the loop on the fork server.
            try:
                await asyncio.wrap_future(starting)
            finally:
                self._starting = None  # a failed start is raised once; later calls start afresh
        try:
            from extractors.workers import process

            return await asyncio.get_running_loop().run_in_executor(self._current(), process, job)
        except BrokenProcessPool:
            self._discard()  # a worker died (out of memory, killed): the next call starts afresh
            raise

    def close(self) -> None:
        """Stop the workers (the run is over); a start still under way makes no pool after."""
        with self._lock:
            self._closed = True
        self._discard(wait=True)

    def _current(self) -> Executor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is closed")
            if self._pool is None:
                from extractors.workers import make_pool  # trafilatura: only once extracting

                self._pool = make_pool(self.workers, self.rules)
            return self._pool

    def _discard(self, wait: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
