"""`newsmon store`: move a store between the DuckDB file and a lake, and keep a lake tidy."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flows.cli_common import ConfigOpt, DbOpt, db_path, err, fail, load_config, say
from flows.config import DEFAULT_CONFIG

store_app = typer.Typer(help="Move the store between the DuckDB file and a lake; lake upkeep.")


class Direction(StrEnum):
    lake = "lake"
    file = "file"


@store_app.command()
def migrate(
    to: Annotated[Direction, typer.Option("--to", help="Copy the file into the lake, or back.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
) -> None:
    """Copy the DuckDB file (--db) into the config's lake, or the lake into the file. Resumes
    where an interrupted copy stopped. Stop serve and the workers first."""
    from storage.db import Store, StoreError
    from storage.lake import LakeError
    from storage.migrate import copy, plan

    cfg = load_config(config)
    assert cfg is not None
    if cfg.lake is None:
        raise fail('the config has no lake: set [store] backend = "ducklake" first')
    path = db_path(db, cfg)
    if to is Direction.lake and not path.exists():
        raise fail(f"no DuckDB file at {path} to copy")
    file, lake = Store(path), Store(path, lake=cfg.lake)
    source, target = (file, lake) if to is Direction.lake else (lake, file)
    try:
        tables = plan(source, target)
        total = sum(t.rows - t.done for t in tables)
        resumed = sum(t.done for t in tables)
        if resumed:
            say(f"resuming: {resumed} row(s) were copied before")
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=err, transient=False,
        ) as bar:  # fmt: skip
            task = bar.add_task("copying", total=total)

            def advance(table: str, rows: int) -> None:
                bar.update(task, advance=rows, description=f"copying {table}")

            copied = copy(source, target, tables, advance)
    except (StoreError, LakeError) as exc:
        raise fail(f"{exc}; run the same command again to resume", code=1) from None
    finally:
        lake.close()
    where = "the lake" if to is Direction.lake else str(path)
    say(f"copied {copied} row(s) of {len(tables)} table(s) into {where}")
