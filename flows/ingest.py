"""The Prefect flow `ingest`: one branch per outlet, all hosts in parallel.

Prefect decorates the orchestration only. Shared resources (HTTP client, extraction pool,
progress display) live in a registry keyed by run id instead of being task parameters, so
Prefect never tries to serialise them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from extractors.http import PoliteClient
from extractors.records import Outlet, OutletReport
from flows.alerts import AlertSummary, run_alerts
from flows.config import Config, load
from flows.pipeline import Extractor, NoProgress, Progress, RunContext, ingest_outlet
from storage.db import Batch, OutletRow, Store, StoreError

_CONTEXTS: dict[str, RunContext] = {}
_PROGRESS: dict[str, Progress] = {}


@dataclass
class RunSummary:
    run_id: str
    reports: list[OutletReport] = field(default_factory=list)
    merged_spool: int = 0
    alerts: AlertSummary | None = None

    @property
    def all_failed(self) -> bool:
        return bool(self.reports) and all(r.status == "failed" for r in self.reports)


def summary_line(r: OutletReport) -> str:
    line = (
        f"{r.outlet_id}: {r.status} — discovered {r.discovered}, fetched {r.fetched}, "
        f"stored {r.stored}, skipped {r.skipped}, failed {r.failed}"
    )
    if r.spooled:
        line += " (database busy: spooled)"
    return line + (f" — {r.error}" if r.error else "")


@task(name="ingest-outlet", retries=1, retry_delay_seconds=5, cache_policy=NONE)
async def ingest_outlet_task(outlet: Outlet, run_id: str) -> OutletReport:
    report = await ingest_outlet(outlet, _CONTEXTS[run_id])
    get_run_logger().info(summary_line(report))
    return report


@flow(name="ingest", log_prints=False, validate_parameters=False)
async def ingest(
    config_path: str, db_path: str | None = None, outlet_ids: list[str] | None = None,
    run_id: str | None = None,
) -> RunSummary:  # fmt: skip
    """One pass over the configured outlets."""
    config = load(config_path)
    return await run_outlets(config, db_path, outlet_ids, run_id)


async def run_outlets(
    config: Config, db_path: str | None, outlet_ids: list[str] | None, run_id: str | None
) -> RunSummary:
    logger = get_run_logger()
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    outlets = [o for o in config.outlets if not outlet_ids or o.id in outlet_ids]
    store = Store(Path(db_path) if db_path else config.settings.db)
    summary = RunSummary(run_id)
    summary.merged_spool = await asyncio.to_thread(store.merge_spool)
    extractor = Extractor(config.settings.workers, config.rules)
    progress = _PROGRESS.pop(run_id, None) or NoProgress()
    try:
        async with PoliteClient(config.settings.client) as client:
            _CONTEXTS[run_id] = RunContext(run_id, client, store, extractor, progress, config.rules)
            outcomes = await asyncio.gather(
                *(ingest_outlet_task(o, run_id) for o in outlets), return_exceptions=True
            )
    finally:
        _CONTEXTS.pop(run_id, None)
        extractor.close()
    for outlet, outcome in zip(outlets, outcomes, strict=True):
        if isinstance(outcome, OutletReport):
            summary.reports.append(outcome)
        else:
            summary.reports.append(await _record_crash(store, run_id, outlet, outcome, progress))
    for report in summary.reports:
        logger.info(summary_line(report))
    if config.rules:
        summary.alerts = await alerts_task(config, store)
    return summary


@task(name="alerts", cache_policy=NONE)
async def alerts_task(config: Config, store: Store) -> AlertSummary:
    """New stories matching alerting rules → the outbox → the channels (and the Atom feed)."""
    result = await asyncio.to_thread(run_alerts, config, store)
    logger = get_run_logger()
    logger.info(f"alerts: {result.created} new, {result.sent} delivered, {result.failed} failed")
    for error in result.errors:
        logger.warning(f"alerts: {error}")
    return result


async def _record_crash(
    store: Store, run_id: str, outlet: Outlet, error: BaseException, progress: Progress
) -> OutletReport:
    """An unexpected exception in one branch fails that outlet, never the run."""
    now = datetime.now(UTC)
    reason = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    report = OutletReport(run_id, outlet.id, outlet.name, now, now, status="failed", error=reason)
    batch = Batch(
        run_id=run_id,
        outlets=[OutletRow(outlet.id, outlet.name, outlet.homepage, outlet.language)],
        reports=[report],
    )
    with contextlib.suppress(StoreError):
        await asyncio.to_thread(store.write, batch)
    progress.outlet_finished(report)
    return report


def register_progress(run_id: str, progress: Progress) -> None:
    """Let the CLI watch a run it is about to start in this process."""
    _PROGRESS[run_id] = progress
