"""Passes spread over `newsmon worker`s through a Prefect work pool.

With `[workers] pool` set, a pass (`newsmon run`, or `newsmon serve`'s scheduled one) does not
poll the outlets itself: it splits the due outlets into runs of `outlets_per_run`, hands each
to the pool as a flow run of `ingest-outlets/newsmon-worker`, waits for them, reads what they
did from the store's `runs` table, and then sends alerts and checks health once for the whole
store. Workers on any number of machines take the runs; each polls, extracts and writes its
outlets into the shared lake.

- One client per host: the outlets of one host go to the same run, whose client paces them.
- One worker at a time per outlet: a run takes each outlet's lease in the catalog
  (storage/leases.py) and leaves out an outlet another worker holds (a pass that overlaps the
  next, a run handed out twice).
- A worker that dies mid-run loses nothing: what it wrote is committed batch by batch, what it
  had not written was never marked as stored, its leases go with its connections, and its
  outlets, whose polling state it never updated, are due again at the next pass.
- The pass waits for its runs at most `pass_timeout_minutes`: a run whose worker died without
  saying so (its flow run stays "running") does not hold back alerts and health for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from prefect import flow, get_run_logger

from extractors.records import Outlet, OutletReport, RunStatus
from flows.config import Config, load
from flows.fleet_plan import chunks

if TYPE_CHECKING:
    from flows.ingest import Logger, RunSummary
    from storage.db import Store

FLOW = "ingest-outlets"
DEPLOYMENT = "newsmon-worker"
CONFIG_ENV, DB_ENV = "NEWSMON_CONFIG", "NEWSMON_DB"
POLL_S = 2.0  # how often the pass looks at its runs' states


@flow(name=FLOW, log_prints=False, validate_parameters=False)
async def ingest_outlets(outlet_ids: list[str], run_id: str) -> dict[str, str]:
    """A worker's share of a pass: these outlets, with the worker's own config and data
    directory (the environment `newsmon worker` set), into the shared store. Returns each
    outlet's status, or 'polled elsewhere' for one another worker holds."""
    from flows.ingest import RunSummary, _ingest
    from flows.pipeline import NoProgress
    from flows.prefect_steps import PrefectSteps
    from storage.db import Store

    config = load(os.environ.get(CONFIG_ENV, "newsmon.toml"))
    db = Path(os.environ.get(DB_ENV) or config.settings.db)
    store = Store(db, lake=config.lake)
    logger = get_run_logger()
    outlets = [o for o in config.outlets if o.id in outlet_ids]
    missing = sorted(set(outlet_ids) - {o.id for o in outlets})
    if missing:
        logger.warning(f"not in this worker's config, left out: {', '.join(missing)}")
    summary = RunSummary(run_id)
    try:
        polls = await asyncio.to_thread(store.poll_states, 30.0)
        async with _Leases(store, outlets) as mine:
            elsewhere = [o.id for o in outlets if o not in mine]
            if elsewhere:
                logger.info(f"polled by another worker now: {', '.join(elsewhere)}")
            if mine:
                await _ingest(config, store, mine, summary, polls, NoProgress(), PrefectSteps())
    finally:
        store.close()
    done = {r.outlet_id: str(r.status) for r in summary.reports}
    return {o.id: done.get(o.id, "polled elsewhere") for o in outlets}


class _Leases:
    """Holds the leases of the outlets this run may poll, for as long as it polls them."""

    def __init__(self, store: Store, outlets: list[Outlet]) -> None:
        self.store, self.outlets = store, outlets
        self._held: list = []

    async def __aenter__(self) -> list[Outlet]:
        leases = self.store.lake.leases if self.store.lake is not None else None
        if leases is None:
            return self.outlets
        mine = []
        for outlet in self.outlets:
            cm = leases.outlet(outlet.id)
            if await asyncio.to_thread(cm.__enter__):
                self._held.append(cm)
                mine.append(outlet)
            else:
                await asyncio.to_thread(cm.__exit__, None, None, None)
        return mine

    async def __aexit__(self, *exc: object) -> None:
        for cm in self._held:
            await asyncio.to_thread(cm.__exit__, None, None, None)


async def ensure_deployment(pool: str) -> None:
    """The work pool (process type) and the deployment its workers run; both idempotent."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.types.entrypoint import EntrypointType

    async with get_client() as client:
        try:
            await client.read_work_pool(pool)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another worker made it just now
                await client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    deployment = await ingest_outlets.ato_deployment(
        name=DEPLOYMENT,
        work_pool_name=pool,
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="A worker's share of a newsmon pass: poll these outlets into the lake.",
    )
    await deployment.aapply(work_pool_name=pool)


async def dispatch(
    config: Config, store: Store, outlets: list[Outlet], summary: RunSummary, logger: Logger
) -> None:
    """Hand the outlets to the pool's workers, wait for them, and put what they did into
    `summary.reports` (from the `runs` table, which every worker writes)."""
    from prefect.deployments import arun_deployment

    run_id = summary.run_id
    pool = config.workers.pool
    assert pool is not None
    await ensure_deployment(pool)
    runs: dict[UUID, list[str]] = {}
    for part in chunks(outlets, config.workers.outlets_per_run):
        ids = [o.id for o in part]
        flow_run = await arun_deployment(
            f"{FLOW}/{DEPLOYMENT}",
            parameters={"outlet_ids": ids, "run_id": run_id},
            timeout=0,
            flow_run_name=f"{run_id}: {', '.join(ids)}"[:100],
        )
        runs[flow_run.id] = ids
    logger.info(f"handed {len(outlets)} outlet(s) to pool {pool!r} in {len(runs)} run(s)")
    unfinished = await _wait(runs, config.workers.pass_timeout_minutes * 60)
    if unfinished:
        logger.warning(
            "not finished when the pass ended (left for the next pass): "
            + ", ".join(i for ids in unfinished.values() for i in ids)
        )
    written = {r.outlet_id: r for r in await asyncio.to_thread(store.runs_of, run_id)}
    names = {o.id: o.name for o in outlets}
    for outlet in outlets:
        report = written.get(outlet.id)
        if report is None:
            now = datetime.now(UTC)
            report = OutletReport(
                run_id, outlet.id, names[outlet.id], now, now, status=RunStatus.FAILED,
                error="not polled in this pass (its worker did not finish, or another worker "
                "held it)",
            )  # fmt: skip
        summary.reports.append(report)


async def _wait(runs: dict[UUID, list[str]], timeout_s: float) -> dict[UUID, list[str]]:
    """Wait until every run is in a final state, or the time is up; returns those that are
    not."""
    from prefect.client.orchestration import get_client

    pending = dict(runs)
    deadline = time.monotonic() + timeout_s
    async with get_client() as client:
        while pending and time.monotonic() < deadline:
            for run_id in list(pending):
                flow_run = await client.read_flow_run(run_id)
                if flow_run.state is not None and flow_run.state.is_final():
                    del pending[run_id]
            if pending:
                await asyncio.sleep(POLL_S)
    return pending
