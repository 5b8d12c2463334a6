"""`newsmon import-warc FILE... --outlet OUTLET` on the command line; the import itself is
flows/import_warc.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, db_path, err, fail, say
from flows.config import DEFAULT_CONFIG


def register(app: typer.Typer) -> None:
    @app.command("import-warc")
    def import_warc_command(
        files: Annotated[list[Path], typer.Argument(help="WARC files (.warc or .warc.gz).")],
        outlet: Annotated[str, typer.Option("--outlet", "-o", help="The outlet they are from.")],
        config: ConfigOpt = DEFAULT_CONFIG,
        db: DbOpt = None,
    ) -> None:
        """Store the articles in WARC files, as if fetched from OUTLET (quiet: no alerts)."""
        # Here, not at the top: see flows/backfill_cli.py.
        from flows.history import config_and_outlet
        from flows.import_warc import import_warc

        cfg, chosen = config_and_outlet(config, outlet)
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise fail(f"no such file: {missing[0]}")
        summary = asyncio.run(import_warc(cfg, db_path(db, cfg), chosen, files))
        for error in summary.errors or []:
            err.print(f"newsmon: {error}", markup=False, highlight=False)
        say(
            f"{summary.responses} response(s), {summary.articles} article page(s) of {outlet}: "
            f"stored {summary.stored}, already known {summary.known}, "
            f"no article text {summary.failed}"
        )
        if summary.errors and not summary.responses:
            raise typer.Exit(1)
