"""`newsmon reextract [-o OUTLET] [--since DAY]` on the command line; the work is
flows/reextract.py."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, db_path, fail, load_config, say
from flows.config import DEFAULT_CONFIG

OutletOpt = Annotated[
    list[str] | None, typer.Option("--outlet", "-o", help="Only articles of these outlets.")
]


def register(app: typer.Typer) -> None:
    @app.command("reextract")
    def reextract_command(
        config: ConfigOpt = DEFAULT_CONFIG,
        db: DbOpt = None,
        outlet: OutletOpt = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only articles from this day on (YYYY-MM-DD).")
        ] = None,
    ) -> None:
        """Extract stored articles again from the raw archive (rows of an older extractor)."""
        from flows.reextract import reextract  # here: see flows/backfill_cli.py

        cfg = load_config(config)
        assert cfg is not None
        try:
            day = date.fromisoformat(since) if since else None
        except ValueError:
            raise fail(f"--since: not a date (YYYY-MM-DD): {since}") from None
        path = db_path(db, cfg)
        if cfg.lake is None and not path.exists():  # a lake's catalog says for itself
            raise fail(f"no database at {path}")
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("re-extracting", total=None)
            summary = asyncio.run(
                reextract(cfg, path, outlet, day,
                          lambda done, total: bar.update(task, completed=done, total=total))
            )  # fmt: skip
        say(
            f"re-extracted {summary.rewritten} of {summary.candidates} article(s) made by an "
            f"older extractor in {summary.seconds:.1f} s ({summary.rate:.1f} per second); "
            f"{summary.failed} yield no article now (kept as they were), "
            f"{summary.missing} record(s) no longer archived, "
            f"{summary.unchanged_version} stored before the archive"
        )
