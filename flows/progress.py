"""What a person running `newsmon run` sees: live progress on a terminal, then a summary."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from extractors.records import Outlet, OutletReport

if TYPE_CHECKING:
    from flows.ingest import RunSummary


class RichProgress(contextlib.AbstractContextManager):
    """A bar per outlet on a terminal; plain lines per finished outlet elsewhere (logs, CI)."""

    def __init__(self, console: Console, outlets: list[Outlet]) -> None:
        self.console = console
        self.live = console.is_terminal
        self._bars = Progress(
            TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=console,
            transient=True,
        )  # fmt: skip
        self._tasks = {
            o.id: self._bars.add_task(o.id, total=None, state="discovering", visible=False)
            for o in outlets
        }

    def __enter__(self) -> RichProgress:
        if self.live:
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self._bars.stop()

    def outlet_started(self, outlet: Outlet) -> None:
        self._bars.update(self._tasks[outlet.id], visible=True)

    def articles_planned(self, outlet: Outlet, count: int) -> None:
        self._bars.update(self._tasks[outlet.id], total=count, state="fetching")

    def article_done(self, outlet: Outlet) -> None:
        self._bars.advance(self._tasks[outlet.id])

    def outlet_finished(self, report: OutletReport) -> None:
        task = self._tasks.get(report.outlet_id)
        if task is not None:
            self._bars.update(task, state=report.status)
        if not self.live:
            self.console.print(
                f"{report.outlet_id}: {report.status}, stored {report.stored}", highlight=False
            )


def make_progress(console: Console, outlets: list[Outlet]) -> RichProgress:
    return RichProgress(console, outlets)


_STYLE = {"ok": "green", "partial": "yellow", "failed": "red"}


def print_summary(out: Console, err: Console, summary: RunSummary, db: Path) -> None:
    table = Table(title=f"Run {summary.run_id} → {escape(str(db))}")
    for column in ("outlet", "status", "discovered", "fetched", "stored", "skipped", "failed"):
        table.add_column(column, justify="right" if column not in ("outlet", "status") else "left")
    totals = [0, 0, 0, 0, 0]
    for r in summary.reports:
        numbers = [r.discovered, r.fetched, r.stored, r.skipped, r.failed]
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        status = f"[{_STYLE.get(r.status, 'white')}]{r.status}[/]" + (
            " (spooled)" if r.spooled else ""
        )
        table.add_row(r.outlet_id, status, *map(str, numbers))
    table.add_row("total", "", *map(str, totals), style="bold")
    out.print(table)
    if summary.merged_spool:
        out.print(f"merged {summary.merged_spool} spooled batch(es) from earlier runs")
    if any(r.spooled for r in summary.reports):
        err.print(
            f"[yellow]note:[/] {escape(str(db))} was held by another process; results wait in "
            f"{escape(db.name)}.spool/ and are merged by the next run (nothing is lost)",
            highlight=False,
        )
    if summary.not_due:
        out.print(f"not due yet: {', '.join(summary.not_due)}", highlight=False)
    for change in summary.health.changes if summary.health else []:
        err.print(
            f"[magenta]health:[/] {change.outlet_id}: {change.old_state or 'new'} → "
            f"{change.new_state}" + (f": {escape(change.reason)}" if change.reason else ""),
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    for r in summary.reports:
        if r.status == "failed":
            err.print(
                f"[red]error:[/] {r.outlet_id}: {escape(r.error or '')}",
                highlight=False,
                soft_wrap=True,
            )
        elif r.status == "partial":
            err.print(
                f"[yellow]warning:[/] {r.outlet_id}: {escape(r.error or '')}",
                highlight=False,
                soft_wrap=True,
            )
