"""The Prefect flows: `ingest` (one branch per outlet, all hosts in parallel) and the daily
`health-report`.

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
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NONE

from extractors.http import PoliteClient
from extractors.records import Batch, Outlet, OutletReport, PollState, RunStatus
from flows.alerts import AlertSummary, run_alerts
from flows.config import Config, load
from flows.health import HealthCheck, assess_all, check_health, pct, report_text
from flows.history import open_archive
from flows.notify import Channels
from flows.pipeline import (
    Extractor,
    NoProgress,
    Progress,
    RunContext,
    ingest_outlet,
    schedule_as_batch,
)
from flows.polling import due, next_poll
from storage.db import Store, StoreError

_CONTEXTS: dict[str, RunContext] = {}
_PROGRESS: dict[str, Progress] = {}


@dataclass
class RunSummary:
    run_id: str
    reports: list[OutletReport] = field(default_factory=list)
    merged_spool: int = 0
    alerts: AlertSummary | None = None
    health: HealthCheck | None = None
    not_due: list[str] = field(default_factory=list)  # outlets a scheduled run left for later

    @property
    def all_failed(self) -> bool:
        return bool(self.reports) and all(r.status == RunStatus.FAILED for r in self.reports)


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
    run_id: str | None = None, due_only: bool = False,
) -> RunSummary:  # fmt: skip
    """One pass over the configured outlets (with due_only, over those whose turn it is)."""
    config = load(config_path)
    return await run_outlets(config, db_path, outlet_ids, run_id, due_only)


async def run_outlets(
    config: Config,
    db_path: str | None,
    outlet_ids: list[str] | None,
    run_id: str | None,
    due_only: bool = False,
) -> RunSummary:
    logger = get_run_logger()
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    outlets = [o for o in config.outlets if not outlet_ids or o.id in outlet_ids]
    store = Store(Path(db_path) if db_path else config.settings.db)
    summary = RunSummary(run_id)
    summary.merged_spool = await asyncio.to_thread(store.merge_spool)
    try:
        polls = await asyncio.to_thread(store.poll_states, 30.0 if due_only else 2.0)
    except StoreError as exc:
        if due_only:  # not knowing who is due, polling everyone would hammer the outlets
            logger.warning(f"skipping this run: cannot read the polling state: {exc}")
            return summary
        polls = {}
    if due_only:
        tick = config.schedule.tick_s([o.id for o in outlets])
        chosen = due(outlets, polls, datetime.now(UTC), slack_s=min(tick / 2, 120.0))
        summary.not_due = [o.id for o in outlets if o not in chosen]
        outlets = chosen
        logger.info(f"due now: {', '.join(o.id for o in outlets) or 'none'}")
    if outlets:
        await _ingest(config, store, outlets, run_id, polls, summary)
    if config.rules:
        summary.alerts = await alerts_task(config, store)
    summary.health = await health_task(config, store)
    await _publish_summary(summary)
    return summary


async def _ingest(
    config: Config,
    store: Store,
    outlets: list[Outlet],
    run_id: str,
    polls: dict[str, PollState],
    summary: RunSummary,
) -> None:
    logger = get_run_logger()
    schedule_as_batch()  # before the pool starts, so that its processes inherit it
    extractor = Extractor(config.settings.workers, config.rules)
    extractor.start()
    progress = _PROGRESS.pop(run_id, None) or NoProgress()
    archive = open_archive(config, store.path)
    recorder = archive.record if archive is not None else None
    try:
        async with PoliteClient(config.settings.client, recorder=recorder) as client:
            _CONTEXTS[run_id] = RunContext(
                run_id, client, store, extractor, progress, config.rules, config.schedule, polls,
                archive, config.history.revisits,
            )  # fmt: skip
            outcomes = await asyncio.gather(
                *(ingest_outlet_task(o, run_id) for o in outlets), return_exceptions=True
            )
    finally:
        _CONTEXTS.pop(run_id, None)
        if archive is not None:
            archive.close()
            if archive.error:
                logger.warning(archive.error)
    for outlet, outcome in zip(outlets, outcomes, strict=True):
        if isinstance(outcome, OutletReport):
            summary.reports.append(outcome)
        else:
            crash = await _record_crash(config, store, run_id, outlet, outcome, progress, polls)
            summary.reports.append(crash)
    for report in summary.reports:
        logger.info(summary_line(report))


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
    config: Config,
    store: Store,
    run_id: str,
    outlet: Outlet,
    error: BaseException,
    progress: Progress,
    polls: dict[str, PollState],
) -> OutletReport:
    """An unexpected exception in one branch fails that outlet, never the run."""
    now = datetime.now(UTC)
    reason = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    report = OutletReport(
        run_id, outlet.id, outlet.name, now, now, status=RunStatus.FAILED, error=reason
    )
    poll = next_poll(
        config.schedule.policy(outlet.id), polls.get(outlet.id), report, None, None, now
    )
    batch = Batch(
        run_id=run_id,
        outlets=[outlet],
        reports=[report],
        polls=[poll],
    )
    with contextlib.suppress(StoreError):
        await asyncio.to_thread(store.write, batch)
    progress.outlet_finished(report)
    return report


@task(name="health", cache_policy=NONE)
async def health_task(config: Config, store: Store) -> HealthCheck:
    """Source health after each pass; a change of state is announced once."""
    result = await asyncio.to_thread(check_health, config, store)
    logger = get_run_logger()
    for event in result.changes:
        logger.warning(
            f"health: {event.outlet_id} {event.old_state} → {event.new_state}: {event.reason}"
        )
    for error in result.errors:
        logger.warning(f"health: {error}")
    return result


async def _publish_summary(summary: RunSummary) -> None:
    """A per-outlet table on the flow run in the Prefect UI."""
    states = {h.outlet_id: h.state for h in summary.health.table} if summary.health else {}
    rows = [
        {
            "outlet": r.outlet_id, "status": r.status, "discovered": r.discovered,
            "fetched": r.fetched, "stored": r.stored, "skipped": r.skipped, "failed": r.failed,
            "health": states.get(r.outlet_id, ""), "error": r.error or "",
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


@flow(name="health-report", log_prints=False, validate_parameters=False)
async def health_report(config_path: str, db_path: str | None = None) -> str:
    """Every outlet's health, to the alert channels and as a table in the Prefect UI."""
    config = load(config_path)
    store = Store(Path(db_path) if db_path else config.settings.db)
    logger = get_run_logger()
    table = await asyncio.to_thread(assess_all, config, store)
    title, body = report_text(table)
    logger.info(f"{title}\n{body}")
    channels = Channels(config.alerts.channels)
    for notifier in channels.resolve(config.alerts.health_channels):
        error = await asyncio.to_thread(notifier.send, title, body)
        if error:
            logger.warning(f"health report not delivered: {error}")
    for error in channels.errors:
        logger.warning(f"health report not delivered: {error}")
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
    return title


def register_progress(run_id: str, progress: Progress) -> None:
    """Let the CLI watch a run it is about to start in this process."""
    _PROGRESS[run_id] = progress
