"""`newsmon backfill OUTLET --since DATE [--until DATE]` on the command line; the backfill
itself is flows/backfill.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, db_path, err, fail, say
from flows.config import DEFAULT_CONFIG


def register(app: typer.Typer) -> None:
    @app.command("backfill")
    def backfill_command(
        outlet: Annotated[str, typer.Argument(help="The outlet's id.")],
        since: Annotated[str, typer.Option("--since", help="First day (YYYY-MM-DD).")],
        until: Annotated[
            str | None, typer.Option("--until", help="Last day (YYYY-MM-DD); default today.")
        ] = None,
        config: ConfigOpt = DEFAULT_CONFIG,
        db: DbOpt = None,
    ) -> None:
        """Store OUTLET's articles published in a past range (resumable; never alerts)."""
        # Here, not at the top: the backfill imports the extraction stack, which commands
        # that never extract (newsmon sql, newsmon outlets) must not pay for at start-up.
        from flows.backfill import Window, backfill
        from flows.history import config_and_outlet

        cfg, chosen = config_and_outlet(config, outlet)
        try:
            first = date.fromisoformat(since)
            last = date.fromisoformat(until) if until else datetime.now(UTC).date()
        except ValueError as exc:
            raise fail(f"not a date (YYYY-MM-DD): {exc}") from None
        if last < first:
            raise fail("--until is before --since")
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn(f"{outlet} {first}..{last}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("eta"), TimeRemainingColumn(), transient=True,
        )  # fmt: skip
        task = bar.add_task("backfill", total=None)
        try:
            with bar:
                summary = asyncio.run(
                    backfill(cfg, db_path(db, cfg), chosen, Window(first, last),
                             lambda done, total: bar.update(task, completed=done, total=total))
                )  # fmt: skip
        except KeyboardInterrupt:
            err.print("newsmon: backfill interrupted; run the same command again to resume")
            raise typer.Exit(130) from None
        for error in summary.errors[:5]:
            err.print(f"newsmon: {error}", markup=False, highlight=False)
        resumed = " (resumed)" if summary.resumed else ""
        say(
            f"{outlet} {first}..{last}{resumed}: {summary.discovered} candidate(s), "
            f"stored {summary.stored}, already known {summary.known}, "
            f"outside the range {summary.outside}, failed {summary.failed}; "
            f"{summary.pages_read} page(s) read"
        )
