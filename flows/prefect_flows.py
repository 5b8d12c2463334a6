"""The run and the daily health report as Prefect flows, for when a Prefect server records them
(`newsmon serve`, or a one-shot command that found one: flows/prefect_api.py).

Prefect decorates the orchestration only: the steps are flows/ingest.py's, each outlet's pass a
task named after the outlet. Shared resources (HTTP client, extraction pool, progress display)
reach the tasks through a registry keyed by run id instead of as task parameters, so Prefect
never tries to serialise them.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NONE

from extractors.records import Outlet, OutletReport
from flows.alerts import AlertSummary
from flows.config import Config, load
from flows.health import HealthCheck, OutletHealth, pct
from flows.ingest import Logger, RunSummary, Steps, new_run_id, report_health, run_pass
from flows.pipeline import Progress, RunContext, ingest_outlet
from storage.db import Store

_CONTEXTS: dict[str, RunContext] = {}
_PROGRESS: dict[str, Progress] = {}


@task(name="ingest-outlet", task_run_name="ingest-{outlet.id}", cache_policy=NONE)
async def ingest_outlet_task(outlet: Outlet, run_id: str) -> OutletReport:
    return await ingest_outlet(outlet, _CONTEXTS[run_id])


@task(name="alerts", cache_policy=NONE)
async def alerts_task(config: Config, store: Store) -> AlertSummary:
    return await Steps().alerts(config, store)


@task(name="health", cache_policy=NONE)
async def health_task(config: Config, store: Store) -> HealthCheck:
    return await Steps().health(config, store)


class PrefectSteps(Steps):
    """The run's steps as tasks of the current flow run, logging to it."""

    def logger(self) -> Logger:
        return get_run_logger()

    async def outlet(self, outlet: Outlet, ctx: RunContext) -> OutletReport:
        _CONTEXTS[ctx.run_id] = ctx
        return await ingest_outlet_task(outlet, ctx.run_id)

    async def alerts(self, config: Config, store: Store) -> AlertSummary:
        return await alerts_task(config, store)

    async def health(self, config: Config, store: Store) -> HealthCheck:
        return await health_task(config, store)

    async def publish(self, summary: RunSummary) -> None:
        """A per-outlet table on the flow run in the Prefect UI."""
        states = {h.outlet_id: h.state for h in summary.health.table} if summary.health else {}
        rows = [
            {
                "outlet": r.outlet_id, "status": r.status, "discovered": r.discovered,
                "fetched": r.fetched, "stored": r.stored, "skipped": r.skipped,
                "failed": r.failed, "health": states.get(r.outlet_id, ""), "error": r.error or "",
            }
            for r in summary.reports
        ] + [{"outlet": o, "status": "not due", "health": states.get(o, "")} for o in summary.not_due]  # fmt: skip
        if not rows:
            return
        stored = sum(r.stored for r in summary.reports)
        try:
            await acreate_table_artifact(
                table=rows, key="ingest-summary",
                description=f"{len(summary.reports)} outlet(s) polled, {stored} new article(s)",
            )  # fmt: skip
        except Exception as exc:  # the UI table is a courtesy; never fail a run over it
            get_run_logger().warning(f"could not publish the run summary artifact: {exc}")

    async def publish_health(self, title: str, table: list[OutletHealth]) -> None:
        await acreate_table_artifact(
            key="health-report", description=title,
            table=[
                {"outlet": h.outlet_id, "state": h.state, "reason": h.reason,
                 "last success": f"{h.last_success:%Y-%m-%d %H:%M}" if h.last_success else "",
                 "new/day (7d)": round(h.new_per_day or 0, 1),
                 "normal/day": round(h.normal_per_day or 0, 1),
                 "text yield": pct(h.text_yield), "dated": pct(h.dated),
                 "errors": pct(h.error_rate)}
                for h in table
            ],
        )  # fmt: skip


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
            progress=_PROGRESS.pop(run_id, None), steps=PrefectSteps(),
        )  # fmt: skip
    finally:
        _CONTEXTS.pop(run_id, None)


@flow(name="health-report", log_prints=False, validate_parameters=False)
async def health_report(config_path: str, db_path: str | None = None) -> str:
    """Every outlet's health, to the alert channels and as a table in the Prefect UI."""
    return await report_health(load(config_path), db_path, PrefectSteps())


def register_progress(run_id: str, progress: Progress) -> None:
    """Let the CLI watch a run it is about to start in this process."""
    _PROGRESS[run_id] = progress
