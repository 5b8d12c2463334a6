"""A run's steps as Prefect tasks (flows/ingest.py's steps, each outlet's pass a task named
after the outlet), for the flows in flows/prefect_flows.py and a pool worker's flow
(flows/fleet.py). Shared resources (HTTP client, extraction pool, progress display) reach the
tasks through a registry keyed by run id instead of as task parameters, so Prefect never tries
to serialise them.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NONE

from extractors.records import Outlet, OutletReport
from flows.alerts import AlertSummary
from flows.config import Config
from flows.health import HealthCheck, OutletHealth, pct
from flows.ingest import Logger, RunSummary, Steps
from flows.pipeline import RunContext, ingest_outlet
from storage.db import Store

CONTEXTS: dict[str, RunContext] = {}


@task(name="ingest-outlet", task_run_name="ingest-{outlet.id}", cache_policy=NONE)
async def ingest_outlet_task(outlet: Outlet, run_id: str) -> OutletReport:
    return await ingest_outlet(outlet, CONTEXTS[run_id])


@task(name="search-index", cache_policy=NONE)
async def search_index_task(store: Store) -> int:
    return await Steps().search_index(store)


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
        CONTEXTS[ctx.run_id] = ctx
        return await ingest_outlet_task(outlet, ctx.run_id)

    async def search_index(self, store: Store) -> int:
        return await search_index_task(store)

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
