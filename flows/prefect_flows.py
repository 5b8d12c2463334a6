"""The run and the daily health report as Prefect flows, for when a Prefect server records them
(`newsmon serve`, or a one-shot command given one: flows/prefect_api.py). Prefect decorates the
orchestration only: the steps are flows/ingest.py's, as tasks (flows/prefect_steps.py).
"""

from __future__ import annotations

from prefect import flow

from extractors.records import Outlet, PollState
from flows.config import Config, load
from flows.ingest import RunSummary, new_run_id, report_health, run_pass
from flows.pipeline import Progress
from flows.prefect_steps import CONTEXTS, PrefectSteps
from storage.db import Store

_PROGRESS: dict[str, Progress] = {}


class PassSteps(PrefectSteps):
    """A pass's steps; with [workers] pool set, the outlets go to the pool's workers."""

    async def poll(
        self,
        config: Config,
        store: Store,
        outlets: list[Outlet],
        summary: RunSummary,
        polls: dict[str, PollState],
        progress: Progress,
    ) -> None:
        if not config.workers.pool:
            return await super().poll(config, store, outlets, summary, polls, progress)
        from flows.fleet import dispatch  # the pool's workers poll them

        await dispatch(config, store, outlets, summary, self.logger())


@flow(name="ingest", log_prints=False, validate_parameters=False)
async def ingest(
    config_path: str, db_path: str | None = None, outlet_ids: list[str] | None = None,
    run_id: str | None = None, due_only: bool = False,
) -> RunSummary:  # fmt: skip
    """One pass over the configured outlets (with due_only, over those whose turn it is), then
    alerts and health."""
    run_id = run_id or new_run_id()
    try:
        return await run_pass(
            load(config_path), db_path, outlet_ids, run_id, due_only,
            progress=_PROGRESS.pop(run_id, None), steps=PassSteps(),
        )  # fmt: skip
    finally:
        CONTEXTS.pop(run_id, None)


@flow(name="health-report", log_prints=False, validate_parameters=False)
async def health_report(config_path: str, db_path: str | None = None) -> str:
    """Every outlet's health, to the alert channels and as a table in the Prefect UI."""
    return await report_health(load(config_path), db_path, PrefectSteps())


def register_progress(run_id: str, progress: Progress) -> None:
    """Let the CLI watch a run it is about to start in this process."""
    _PROGRESS[run_id] = progress
