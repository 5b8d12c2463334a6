"""`newsmon serve`: scheduled ingest runs and a daily health report as Prefect deployments.

Prefect schedules only through a server. With PREFECT_API_URL set, that server is used (the
compose stack); without it, serve starts a private one (SQLite under the data directory) as its
own child process and stops it on the way out. One serve per data directory: two schedulers on
one store would poll every outlet twice.
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
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx

from flows.config import Config

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
    data_dir: Path, port: int, tick_s: float = 60.0, timeout_s: float = 120.0
) -> Iterator[str]:
    """A Prefect server of our own on 127.0.0.1:port; yields its API URL."""
    home = (data_dir / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if _port_taken(port):
        raise ServeError(f"port {port} on 127.0.0.1 is taken; choose another with --port")
    env = {
        # Create scheduled runs promptly (Prefect's default looks once a minute).
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(max(5, min(60, int(tick_s / 2)))),
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
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


def deployments(
    config: Config, db: Path, outlet_ids: list[str] | None, tick_s: float | None = None
) -> list:
    """The scheduled work: ingest every tick (each run polls only the outlets that are due,
    then sends alerts and checks health) and the daily health report."""
    from prefect.types.entrypoint import EntrypointType

    from flows.ingest import health_report, ingest

    ids = outlet_ids or [o.id for o in config.outlets]
    tick = tick_s or config.schedule.tick_s(ids)
    common = {"config_path": str(config.path.resolve()), "db_path": str(db.resolve())}
    found = [
        ingest.to_deployment(
            name="newsmon-ingest",
            interval=timedelta(seconds=tick),
            parameters={**common, "outlet_ids": outlet_ids, "due_only": True},
            description=f"Poll the due outlets of {config.path.name}, then alerts and health.",
            paused=False,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
    ]
    if config.schedule.health_report:
        hour, minute = config.schedule.health_report.split(":")
        found.append(
            health_report.to_deployment(
                name="newsmon-health-report",
                cron=f"{int(minute)} {int(hour)} * * *",
                parameters=common,
                description="Daily source health report to the alert channels.",
                paused=False,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return found


def serve(
    config: Config,
    db: Path,
    port: int,
    outlet_ids: list[str] | None = None,
    tick_s: float | None = None,
    announce: callable = print,  # type: ignore[valid-type]
) -> None:
    """Blocks until Ctrl-C (or SIGTERM); raises ServeError for what stops it from starting."""
    data_dir = db.resolve().parent
    ids = outlet_ids or [o.id for o in config.outlets]
    tick = tick_s or config.schedule.tick_s(ids)
    with single_instance(data_dir):
        given = os.environ.get("PREFECT_API_URL")
        server = (
            contextlib.nullcontext(given) if given else local_prefect_server(data_dir, port, tick)
        )
        with server as url, _terminate_as_interrupt():
            assert url is not None
            # Flow runs execute in child processes, which take the server from the environment.
            os.environ["PREFECT_API_URL"] = url
            from prefect import serve as prefect_serve
            from prefect.settings import PREFECT_API_URL, temporary_settings

            from flows.ingest import ingest
            from flows.pipeline import release_pool

            with temporary_settings(updates={PREFECT_API_URL: url}):
                planned = deployments(config, db, outlet_ids, tick)
                ui = url.removesuffix("/api")
                announce(
                    f"newsmon serve: {len(ids)} outlet(s) into {db}; looking for due outlets "
                    f"every {tick / 60:g} min"
                    + (
                        f", health report daily at {config.schedule.health_report} UTC"
                        if config.schedule.health_report
                        else ""
                    )
                )
                announce(
                    f"Prefect: {ui} {'(given)' if given else '(local, data in ' + str(data_dir / 'prefect') + ')'}"
                )
                announce("Ctrl-C stops.")
                # The due outlets now, rather than one tick from now.
                asyncio.run(
                    ingest(
                        config_path=str(config.path.resolve()), db_path=str(db.resolve()),
                        outlet_ids=outlet_ids, due_only=True,
                    )
                )  # fmt: skip
                release_pool()  # scheduled runs extract in their own processes
                # Prefect's runner stops on SIGTERM by exiting; it leaves a harmless warning.
                warnings.filterwarnings("ignore", message="coroutine 'Runner.astop'")
                # One run at a time: a slow pass delays the next tick instead of overlapping it.
                prefect_serve(*planned, limit=1, print_starting_message=False)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """`docker stop` sends SIGTERM: shut down as cleanly as on Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
