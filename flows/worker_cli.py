"""`newsmon worker`: take ingest runs from a Prefect work pool and write them into the lake.

Run one on each machine (or `docker compose up --scale worker=3`). Each worker has its own
config file and data directory (spool, story index), and shares the lake and the Prefect
server with the others. The passes come from `newsmon serve` or `newsmon run` with the same
`[workers] pool` (flows/fleet.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, db_path, fail, load_config, say
from flows.config import DEFAULT_CONFIG


def worker(
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
    pool: Annotated[
        str | None, typer.Option(help="Work pool (default: the config's [workers] pool).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Runs this worker takes on at once.", min=1)] = 1,
) -> None:
    """Take ingest runs from a Prefect work pool (needs PREFECT_API_URL and a shared lake)."""
    cfg = load_config(config)
    assert cfg is not None
    pool = pool or cfg.workers.pool
    if not pool:
        raise fail("no work pool: give --pool or set [workers] pool in the config")
    if cfg.lake is None or not cfg.lake.shared:
        raise fail(
            'a worker writes a shared store: set [store] backend = "ducklake" with a '
            '"postgres:..." catalog'
        )
    if not os.environ.get("PREFECT_API_URL"):
        raise fail("a worker needs the Prefect server the passes use: set PREFECT_API_URL")
    from flows.fleet import CONFIG_ENV, DB_ENV  # Prefect: only for the commands that need it

    # The runs start in child processes of the worker, which find their config here.
    os.environ[CONFIG_ENV] = str(Path(cfg.path).resolve())
    os.environ[DB_ENV] = str(db_path(db, cfg).resolve())
    name = f"newsmon-{socket.gethostname()}-{os.getpid()}"
    say(f"newsmon worker {name}: pool {pool!r}, data in {db_path(db, cfg).parent}/")
    # `docker stop` sends SIGTERM: stop as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(_work(pool, name, limit))
    except KeyboardInterrupt:
        say("worker stopped")


async def _work(pool: str, name: str, limit: int) -> None:
    from prefect.workers.process import ProcessWorker

    from flows.fleet import ensure_deployment

    await ensure_deployment(pool)
    await ProcessWorker(work_pool_name=pool, name=name, limit=limit).start(printer=say)
