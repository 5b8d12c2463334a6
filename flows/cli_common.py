"""What every `newsmon` command module shares: the consoles, printing data as data, the error
exit, and the --config/--db options with their defaults. Command groups live in modules of
their own (flows/rules_cli.py, ...) and are registered from flows/cli.py."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from flows.config import DEFAULT_CONFIG, DEFAULT_DB, Config, ConfigError, load

if TYPE_CHECKING:
    from storage.db import Store

out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help=r"Config file with \[\[outlet]] tables.")
]
DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db", help="DuckDB file (default: $NEWSMON_DB, the config's, data/newsmon.duckdb)."
    ),
]


def say(text: str, style: str | None = None) -> None:
    """Print a line made of data (titles, URLs, terms, reasons) as it is: no rich markup read
    into its brackets, no highlighting, and not cut in two at the terminal's width (a URL or a
    verdict stays one line; the terminal wraps it for the eye)."""
    out.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]newsmon: error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load_config(path: Path, required: bool = True) -> Config | None:
    if not required and path == DEFAULT_CONFIG and not path.exists():
        return None
    try:
        return load(path)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def open_store(db: Path | None, config: Config | None) -> Store:
    """The store the config names: the DuckDB file (`db_path`), or its lake."""
    from storage.db import Store  # not at import: commands that never open it stay quick

    return Store(db_path(db, config), lake=config.lake if config else None)


def db_path(db: Path | None, config: Config | None) -> Path:
    if db is not None:
        return checked_db(db)
    if os.environ.get("NEWSMON_DB"):
        return checked_db(Path(os.environ["NEWSMON_DB"]))
    return checked_db(config.settings.db if config else DEFAULT_DB)


def checked_db(path: Path) -> Path:
    """The database file, or one line on what is wrong with the path."""
    if path.is_dir():
        raise fail(
            f"{path} is a directory; give the database file, such as {path / 'newsmon.duckdb'}"
        )
    return path


def plain(value: Any) -> Any:
    """A value as CSV and JSON take it: times in ISO form, lists joined, the rest as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return value if value is None or isinstance(value, int | float | str) else str(value)


def cell(value: Any) -> str:
    """A value for a table cell: empty for NULL, cut at 200 characters."""
    if value is None:
        return ""
    text = str(plain(value))
    return text if len(text) <= 200 else text[:197] + "..."
