"""A run in the test's own process, as `newsmon run` makes it without a Prefect server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from flows.config import load
from flows.ingest import RunSummary, run_pass


def run_once(config: Path, db: Path, **kw: object) -> RunSummary:
    return asyncio.run(run_pass(load(config), db, **kw))  # type: ignore[arg-type]
