"""What `newsmon run` and `newsmon demo` do around one run: the store exists from the first
second (so `newsmon sql` answers at once), the run goes with Prefect when a server is there to
record it (flows/prefect_api.py) and without it otherwise, progress shows on the terminal, and
Ctrl-C or SIGTERM stop it within seconds, keeping what was already extracted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from rich.console import Console

from extractors.records import Outlet
from flows.config import Config
from flows.ingest import RunSummary, new_run_id, run_pass
from flows.pipeline import Progress
from flows.prefect_api import api_for_run

# The look of Prefect's console log lines, for the same lines without Prefect (-v).
LOG_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"


class Interrupted(Exception):
    """The run was stopped by a signal; `signal` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def create_store(config: Config, db_path: Path) -> None:
    """Create the schema now rather than at the first write, which may be a minute away. A
    file held by another process is no obstacle: the run's writes wait in the spool."""
    from storage.db import Store, StoreLocked

    with contextlib.suppress(StoreLocked):
        Store(db_path, lock_wait_s=0.5, lake=config.lake).initialise()


def run_once(
    config: Config,
    db_path: Path,
    outlet_ids: list[str] | None,
    progress: Progress,
    err: Console,
    verbose: bool = False,
    due_only: bool = False,
) -> RunSummary:
    """One run; raises Interrupted on Ctrl-C or SIGTERM, StoreError when the store cannot be
    created at all."""
    create_store(config, db_path)
    api, note = api_for_run()
    if note:
        err.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    _log_to_terminal(verbose, prefect=api is not None)
    stopped_by: list[int] = []

    async def main() -> RunSummary:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: (stopped_by.append(15), task.cancel()))
        run_id = new_run_id()
        if api is None:
            return await run_pass(config, db_path, outlet_ids, run_id, due_only, progress=progress)
        os.environ["PREFECT_API_URL"] = api  # before Prefect is imported: it reads it once
        from flows.prefect_flows import ingest, register_progress

        register_progress(run_id, progress)
        return await ingest(
            config_path=str(config.path), db_path=str(db_path), outlet_ids=outlet_ids,
            run_id=run_id, due_only=due_only,
        )  # fmt: skip

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None
    except asyncio.CancelledError:
        raise Interrupted(stopped_by[0] if stopped_by else signal.SIGINT) from None


def selected(config: Config, outlet_ids: list[str] | None) -> list[Outlet]:
    return [o for o in config.outlets if not outlet_ids or o.id in outlet_ids]


def _log_to_terminal(verbose: bool, prefect: bool) -> None:
    """Log lines on stderr with -v only; the summary table says what a user needs."""
    if prefect:
        if not verbose:
            for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS"):
                os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "CRITICAL")
        return
    logger = logging.getLogger("newsmon")
    logger.propagate = False
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        logger.setLevel(logging.INFO)
    else:
        handler = logging.NullHandler()
    logger.handlers = [handler]
