"""One run: a pass over the outlets (one branch per outlet, all hosts in parallel), then alerts
and source health; and the daily health report. Plain async code that imports no Prefect.

How the steps are carried out is a `Steps` object: here plain calls that log to the `newsmon`
logger; flows/prefect_flows.py runs the same steps as Prefect tasks inside a flow run when a
Prefect server is there to record them (flows/prefect_api.py decides which). Without a server a
run never imports Prefect: its temporary server cost every one-shot command 10-60 s before the
first request (benchmarks/README.md, start-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.http import PoliteClient
from extractors.records import Batch, Outlet, OutletReport, PollState, RunStatus
from extractors.tuning import tune_process
from flows.config import Config
from flows.extraction import Extractor
from flows.health import HealthCheck, OutletHealth, assess_all, check_health, report_text
from flows.history import open_archive
from flows.pipeline import (
    NoProgress,
    Progress,
    RunContext,
    ingest_outlet,
)
from flows.polling import due, next_poll
from storage.db import Store, StoreError

if TYPE_CHECKING:
    from flows.alerts import AlertSummary

Logger = logging.Logger | logging.LoggerAdapter


@dataclass
class RunSummary:
    run_id: str
    reports: list[OutletReport] = field(default_factory=list)
    merged_spool: int = 0
    alerts: AlertSummary | None = None
    health: HealthCheck | None = None
    not_due: list[str] = field(default_factory=list)  # outlets a scheduled run left for later
    indexed: int = 0  # articles added to the full-text index after the pass

    @property
    def all_failed(self) -> bool:
        return bool(self.reports) and all(r.status == RunStatus.FAILED for r in self.reports)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def summary_line(r: OutletReport) -> str:
    line = (
        f"{r.outlet_id}: {r.status} — discovered {r.discovered}, fetched {r.fetched}, "
        f"stored {r.stored}, skipped {r.skipped}, failed {r.failed}"
    )
    if r.spooled:
        line += " (database busy: spooled)"
    return line + (f" — {r.error}" if r.error else "")


class Steps:
    """The steps of a run as plain calls. PrefectSteps (flows/prefect_flows.py) overrides them
    to run as Prefect tasks of a flow run, each outlet's pass a task named after the outlet."""

    def logger(self) -> Logger:
        return logging.getLogger("newsmon")

    async def poll(
        self,
        config: Config,
        store: Store,
        outlets: list[Outlet],
        summary: RunSummary,
        polls: dict[str, PollState],
        progress: Progress,
    ) -> None:
        """Poll the outlets, here: a pass of each, all at once (flows/prefect_flows.py hands
        them to a pool of workers when [workers] pool is set)."""
        await _ingest(config, store, outlets, summary, polls, progress, self)

    async def outlet(self, outlet: Outlet, ctx: RunContext) -> OutletReport:
        return await ingest_outlet(outlet, ctx)

    async def search_index(self, store: Store) -> int:
        """The pass's new articles into the full-text index (a held file: the next pass does
        it)."""
        try:
            return await asyncio.to_thread(store.update_search_index)
        except StoreError as exc:
            self.logger().warning(f"search index: {exc}")
            return 0

    async def alerts(self, config: Config, store: Store) -> AlertSummary:
        """New stories matching alerting rules → the outbox → the channels (and Atom feed)."""
        from flows.alerts import run_alerts  # after the pass: Apprise takes a while to import

        return await asyncio.to_thread(run_alerts, config, store)

    async def health(self, config: Config, store: Store) -> HealthCheck:
        """Source health after each pass; a change of state is announced once."""
        return await asyncio.to_thread(check_health, config, store)

    async def publish(self, summary: RunSummary) -> None:
        """Show the run's outcome where runs are watched (nowhere, without Prefect)."""

    async def publish_health(self, title: str, table: list[OutletHealth]) -> None:
        """Show the health report where runs are watched (nowhere, without Prefect)."""


async def run_pass(
    config: Config,
    db_path: str | Path | None = None,
    outlet_ids: list[str] | None = None,
    run_id: str | None = None,
    due_only: bool = False,
    *,
    progress: Progress | None = None,
    steps: Steps | None = None,
) -> RunSummary:
    """One pass over the configured outlets (with due_only, over those whose turn it is), then
    alerts and health."""
    steps = steps or Steps()
    logger = steps.logger()
    summary = RunSummary(run_id or new_run_id())
    outlets = [o for o in config.outlets if not outlet_ids or o.id in outlet_ids]
    store = Store(Path(db_path) if db_path else config.settings.db, lake=config.lake)
    summary.merged_spool = await asyncio.to_thread(store.merge_spool)
    try:
        polls = await asyncio.to_thread(store.poll_states, 30.0 if due_only else 2.0)
    except StoreError as exc:
        if due_only:  # not knowing who is due, polling everyone would hammer the outlets
            logger.warning(f"skipping this run: cannot read the polling state: {exc}")
            return summary
        polls = {}
    if due_only:
        chosen = due_outlets(config, outlets, polls, datetime.now(UTC))
        summary.not_due = [o.id for o in outlets if o not in chosen]
        outlets = chosen
        logger.info(f"due now: {', '.join(o.id for o in outlets) or 'none'}")
    if outlets:
        await steps.poll(config, store, outlets, summary, polls, progress or NoProgress())
        summary.indexed = await steps.search_index(store)
    if config.rules:
        summary.alerts = result = await steps.alerts(config, store)
        logger.info(
            f"alerts: {result.created} new, {result.sent} delivered, {result.failed} failed"
        )
        for error in result.errors:
            logger.warning(f"alerts: {error}")
    summary.health = check = await steps.health(config, store)
    for event in check.changes:
        logger.warning(
            f"health: {event.outlet_id} {event.old_state} → {event.new_state}: {event.reason}"
        )
    for error in check.errors:
        logger.warning(f"health: {error}")
    await steps.publish(summary)
    return summary


def due_outlets(
    config: Config, outlets: list[Outlet], polls: dict[str, PollState], now: datetime
) -> list[Outlet]:
    """The outlets whose turn it is, give or take half a tick (at most two minutes)."""
    tick = config.schedule.tick_s([o.id for o in outlets])
    return due(outlets, polls, now, slack_s=min(tick / 2, 120.0))


async def _ingest(
    config: Config,
    store: Store,
    outlets: list[Outlet],
    summary: RunSummary,
    polls: dict[str, PollState],
    progress: Progress,
    steps: Steps,
) -> None:
    tune_process()  # before the pool starts, so that its processes inherit it
    extractor = Extractor(config.settings.workers, config.rules)
    extractor.start()
    archive = open_archive(config, store.path)
    recorder = archive.record if archive is not None else None
    try:
        async with PoliteClient(config.settings.client, recorder=recorder) as client:
            ctx = RunContext(
                summary.run_id, client, store, extractor, progress, config.schedule, polls,
                archive, config.history.revisits, config.settings.outlet_deadline_s,
            )  # fmt: skip
            outcomes = await asyncio.gather(
                *(steps.outlet(o, ctx) for o in outlets), return_exceptions=True
            )
    finally:
        extractor.close()
        if archive is not None:
            archive.close()
            if archive.error:
                steps.logger().warning(archive.error)
    for outlet, outcome in zip(outlets, outcomes, strict=True):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome  # the run was stopped: what each outlet had extracted is stored
        if isinstance(outcome, OutletReport):
            summary.reports.append(outcome)
        else:
            crash = await _record_crash(config, store, ctx, outlet, outcome)
            summary.reports.append(crash)
    logger = steps.logger()
    for report in summary.reports:
        logger.info(summary_line(report))


async def _record_crash(
    config: Config, store: Store, ctx: RunContext, outlet: Outlet, error: BaseException
) -> OutletReport:
    """An unexpected exception in one branch fails that outlet, never the run; the next pass
    tries it again."""
    now = datetime.now(UTC)
    reason = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    report = OutletReport(
        ctx.run_id, outlet.id, outlet.name, now, now, status=RunStatus.FAILED, error=reason
    )
    policy = config.schedule.policy(outlet.id)
    poll = next_poll(policy, ctx.polls.get(outlet.id), report, None, None, now)
    batch = Batch(run_id=ctx.run_id, outlets=[outlet], reports=[report], polls=[poll])
    with contextlib.suppress(StoreError):
        await asyncio.to_thread(store.write, batch)
    ctx.progress.outlet_finished(report)
    return report


async def report_health(
    config: Config, db_path: str | Path | None = None, steps: Steps | None = None
) -> str:
    """Every outlet's health, to the alert channels (the daily report); returns its title."""
    from flows.notify import Channels  # Apprise takes a while to import

    steps = steps or Steps()
    logger = steps.logger()
    store = Store(Path(db_path) if db_path else config.settings.db, lake=config.lake)
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
    await steps.publish_health(title, table)
    return title
