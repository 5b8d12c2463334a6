"""`newsmon serve`: a run whenever some outlet is due and a daily health report, each recorded
as a Prefect flow run, until Ctrl-C or SIGTERM.

serve keeps its own schedule (a tick reads who is due from the store) rather than Prefect's:
Prefect's schedules create a flow run for every tick, and most ticks find nothing due. With
PREFECT_API_URL set (the compose stack, or the active Prefect profile), that server records
the runs; without it, serve starts a private one (SQLite under the data directory) as its own
child process, which dies with it, and stops it on the way out. One serve per data directory:
two schedulers on one store would poll every outlet twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

import httpx

from flows.config import Config
from flows.ingest import due_outlets
from flows.prefect_api import configured_api
from storage.db import Store, StoreError

LOCK_FILE = ".newsmon-serve.lock"


class ServeError(Exception):
    """Why serve cannot start, in one line."""


@contextlib.contextmanager
def single_instance(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    handle: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            raise ServeError(
                f"another `newsmon serve` (pid {pid}) is already running on {data_dir}/; "
                "stop it first, or give this one another --db"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


@contextlib.contextmanager
def local_prefect_server(
    data_dir: Path, port: int, timeout_s: float = 120.0, database_url: str | None = None
) -> Iterator[str]:
    """A Prefect server of our own on 127.0.0.1:port; yields its API URL. Its database is a
    SQLite file beside the store unless `database_url` (SQLAlchemy) names another."""
    home = (data_dir / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if _port_taken(port):
        raise ServeError(f"port {port} on 127.0.0.1 is taken; choose another with --port")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": database_url
        or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
    }
    env.pop("PREFECT_API_URL", None)
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Its own session, so a Ctrl-C reaches serve first and serve stops it in order;
            # and it dies with serve even if serve is killed outright.
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, process, timeout_s, log_path)
        yield url
    finally:
        _stop(process)


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):  # Linux only; elsewhere serve's finally must do
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_healthy(url: str, process: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(
                f"the local Prefect server exited with code {process.returncode}; see {log}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise ServeError(f"the local Prefect server did not answer within {timeout_s:.0f} s; see {log}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def next_report_at(hhmm: str | None, now: datetime) -> datetime | None:
    """When the daily health report is next due after `now` (UTC "HH:MM"; None = off)."""
    if not hhmm:
        return None
    hour, minute = (int(part) for part in hhmm.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


class Clock(Protocol):
    def now(self) -> datetime: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def serve_loop(
    config: Config,
    db: Path,
    outlet_ids: list[str] | None,
    tick_s: float,
    run: Callable[[], Awaitable[object]],
    report: Callable[[], Awaitable[object]],
    announce: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    """Every tick: a run when some outlet is due (none otherwise, so idle ticks leave no flow
    run behind), and the health report once a day. Until cancelled."""
    clock = clock or RealClock()
    store = Store(db, lake=config.lake)
    outlets = [o for o in config.outlets if not outlet_ids or o.id in outlet_ids]
    next_report = next_report_at(config.schedule.health_report, clock.now())
    while True:
        now = clock.now()
        try:
            polls = await asyncio.to_thread(store.poll_states, 30.0)
        except StoreError as exc:  # not knowing who is due, polling everyone would hammer them
            announce(f"{now:%H:%M} skipping this tick: cannot read the polling state: {exc}")
        else:
            chosen = due_outlets(config, outlets, polls, now)
            if chosen:
                await run()
            else:
                upcoming = min(outlets, key=lambda o: polls[o.id].next_due_at)
                at = polls[upcoming.id].next_due_at
                announce(f"{now:%H:%M} nothing due; next: {upcoming.id} at {at:%H:%M} UTC")
        if next_report is not None and clock.now() >= next_report:
            await report()
            next_report = next_report_at(config.schedule.health_report, clock.now())
        await clock.sleep(tick_s)


def serve(
    config: Config,
    db: Path,
    port: int,
    outlet_ids: list[str] | None = None,
    tick_s: float | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Blocks until Ctrl-C (or SIGTERM); raises ServeError for what stops it from starting."""
    data_dir = db.resolve().parent
    ids = outlet_ids or [o.id for o in config.outlets]
    tick = tick_s or config.schedule.tick_s(ids)
    with single_instance(data_dir):
        given = configured_api()
        server = contextlib.nullcontext(given) if given else local_prefect_server(data_dir, port)
        with server as url:
            assert url is not None
            os.environ["PREFECT_API_URL"] = url  # before Prefect is imported: it reads it once
            from flows.prefect_flows import health_report, ingest

            common = {"config_path": str(config.path.resolve()), "db_path": str(db.resolve())}

            async def run() -> None:  # each pass stops its extraction workers when it ends
                await ingest(**common, outlet_ids=outlet_ids, due_only=True)

            async def report() -> None:
                await health_report(**common)

            announce(
                f"newsmon serve: {len(ids)} outlet(s) into {db}; looking for due outlets "
                f"every {tick / 60:g} min"
                + (
                    f", health report daily at {config.schedule.health_report} UTC"
                    if config.schedule.health_report
                    else ""
                )
            )
            where = "(given)" if given else f"(local, data in {data_dir / 'prefect'})"
            announce(f"Prefect: {url.removesuffix('/api')} {where}")
            announce("Ctrl-C stops.")
            loop = serve_loop(config, db, outlet_ids, tick, run, report, announce)
            with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
                asyncio.run(_until_stopped(loop))


async def _until_stopped(work: Awaitable[None]) -> None:
    """`docker stop` sends SIGTERM: stop as cleanly as on Ctrl-C."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await work
