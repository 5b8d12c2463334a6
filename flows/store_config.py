"""The `[store]` and `[workers]` tables of newsmon.toml: which store, and whether passes are
handed to `newsmon worker`s through a Prefect work pool.

```toml
[store]
backend = "ducklake"                  # default "duckdb": the file in [settings] db
catalog = "postgres:dbname=newsmon_lake host=db user=newsmon"   # or a file: "data/lake.ducklake"
data_path = "data/lake"               # or "s3://bucket/newsmon/"

[workers]
pool = "newsmon"                      # passes go to the workers polling this work pool
outlets_per_run = 4                   # outlets per flow run handed to one worker
pass_timeout_minutes = 60             # a run not finished by then is left for the next pass
```

The catalog's password is best kept out of the file: libpq reads `PGPASSWORD` (and `PGHOST`,
`PGUSER`, ...) from the environment. The environment can also choose the store for a whole
deployment (docker-compose.yml does): `NEWSMON_CATALOG` makes the store a lake with that
catalog, `NEWSMON_DATA_PATH` sets its data path, `NEWSMON_POOL` the work pool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractors.records import LakeSettings


@dataclass(frozen=True)
class WorkerSettings:
    pool: str | None = None  # None: a pass ingests in its own process
    outlets_per_run: int = 4
    pass_timeout_minutes: float = 60.0


def parse_store(table: Any) -> LakeSettings | None:
    """None for the DuckDB file. Raises ValueError with the message for the user."""
    _check(table, {"backend": str, "catalog": str, "data_path": str})
    if os.environ.get("NEWSMON_CATALOG"):
        table = {**table, "backend": "ducklake", "catalog": os.environ["NEWSMON_CATALOG"]}
    if os.environ.get("NEWSMON_DATA_PATH"):
        table = {**table, "data_path": os.environ["NEWSMON_DATA_PATH"]}
    backend = table.get("backend", "duckdb")
    if backend == "duckdb":
        if set(table) - {"backend"}:
            raise ValueError("'catalog' and 'data_path' belong to backend = \"ducklake\"")
        return None
    if backend != "ducklake":
        raise ValueError(f'\'backend\' must be "duckdb" or "ducklake", not {backend!r}')
    catalog = table.get("catalog", "")
    data_path = table.get("data_path", "")
    if not catalog or not data_path:
        raise ValueError("backend = \"ducklake\" needs 'catalog' and 'data_path'")
    if catalog.startswith(("sqlite:", "mysql:")):
        raise ValueError("'catalog' must be \"postgres:...\" or a DuckDB catalog file")
    if not catalog.startswith("postgres:"):
        catalog = str(Path(catalog).expanduser().resolve())
    if "://" not in data_path:
        data_path = str(Path(data_path).expanduser().resolve())
    return LakeSettings(catalog, data_path)


def parse_workers(table: Any) -> WorkerSettings:
    _check(table, {"pool": str, "outlets_per_run": int, "pass_timeout_minutes": (int, float)})
    settings = WorkerSettings(
        pool=os.environ.get("NEWSMON_POOL") or table.get("pool") or None,
        outlets_per_run=table.get("outlets_per_run", 4),
        pass_timeout_minutes=float(table.get("pass_timeout_minutes", 60.0)),
    )
    if settings.outlets_per_run < 1 or settings.pass_timeout_minutes <= 0:
        raise ValueError("'outlets_per_run' and 'pass_timeout_minutes' must be positive")
    return settings


def _check(table: Any, allowed: dict[str, Any]) -> None:
    if not isinstance(table, dict):
        raise ValueError("must be a table")
    for key, value in table.items():
        if key not in allowed:
            raise ValueError(f"unknown key '{key}'")
        if isinstance(value, bool) or not isinstance(value, allowed[key]):
            kind = "string" if allowed[key] is str else "number"
            raise ValueError(f"'{key}' must be a {kind}")
