"""`newsmon sql`: read-only SQL over the store, the statement given as an argument, in a file
or on stdin, printed as data (a table, CSV or JSON)."""

from __future__ import annotations

import csv
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.cli_common import ConfigOpt, DbOpt, cell, err, fail, load_config, open_store, out, plain
from flows.config import DEFAULT_CONFIG


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command(context_settings={"ignore_unknown_options": True})
    def sql(
        query: Annotated[
            str | None,
            typer.Argument(
                help="A read-only SQL statement; - reads it from stdin.", show_default=False
            ),
        ] = None,
        file: Annotated[
            Path | None, typer.Option("--file", help="Read the SQL from this file (- for stdin).")
        ] = None,
        config: ConfigOpt = DEFAULT_CONFIG,
        db: DbOpt = None,
        fmt: Annotated[
            Format, typer.Option("--format", "-f", help="Output format.")
        ] = Format.table,
    ) -> None:
        """Query the store read-only (works while a run is writing); SQL may start with a comment."""
        from storage.db import StoreError

        text = _sql_text(query, file)
        store = open_store(db, load_config(config, required=False))
        try:
            result = store.query(text)
        except StoreError as exc:
            raise fail(str(exc)) from None
        if result.note:
            err.print(f"[yellow]note:[/] {escape(result.note)}", highlight=False)
        if fmt is Format.csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(result.columns)
            writer.writerows([[plain(v) for v in row] for row in result.rows])
        elif fmt is Format.json:
            rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
            print(json.dumps(rows, default=plain, ensure_ascii=False, indent=1))
        else:
            table = Table(show_lines=False)
            for column in result.columns:
                table.add_column(Text(column))
            for row in result.rows:
                table.add_row(*[Text(cell(v)) for v in row])  # data, not rich markup
            out.print(table)
            out.print(f"{len(result.rows)} row(s)", style="dim")


def _sql_text(query: str | None, file: Path | None) -> str:
    """The statement from the argument, a file or stdin; one line on what is missing."""
    if query is not None and file is not None:
        raise fail("give the SQL either as an argument or with --file, not both")
    source = str(file) if file is not None else query
    if source == "-":
        text = sys.stdin.read()
    elif file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    else:
        text = query or ""
    if not _has_statement(text):
        raise fail("no SQL statement given (an argument, --file FILE, or - for stdin)")
    return text


def _has_statement(text: str) -> bool:
    """Anything left once comments and semicolons are taken away."""

    bare = re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.S)
    return bool(bare.replace(";", " ").strip())
