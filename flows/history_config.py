"""The `[archive]`, `[revisits]` and `[backfill]` tables of newsmon.toml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flows.revisits import RevisitPolicy
from storage.archive import ArchiveSettings

TABLES = ("archive", "revisits", "backfill")
_MB = 1024 * 1024
_NUMBER = (int, float)
_KEYS: dict[str, dict[str, Any]] = {
    "archive": {"enabled": bool, "max_file_mb": _NUMBER, "max_total_mb": _NUMBER,
                "retention_days": _NUMBER},
    "revisits": {"enabled": bool, "fresh_hours": _NUMBER, "first_after_minutes": _NUMBER,
                 "factor": _NUMBER},
    "backfill": {"min_delay_s": _NUMBER, "batch": int},
}  # fmt: skip


@dataclass(frozen=True)
class BackfillSettings:
    # Gentler than a pass: one request at a time, at least this far apart, whatever the
    # outlet's own pacing (a backfill is thousands of old pages nobody is waiting for).
    min_delay_s: float = 5.0
    batch: int = 25  # articles written (and the queue marked) at a time: what a stop can lose


@dataclass(frozen=True)
class HistorySettings:
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    revisits: RevisitPolicy = field(default_factory=RevisitPolicy)
    backfill: BackfillSettings = field(default_factory=BackfillSettings)


def parse_history(raw: dict[str, Any], path: Path, error: type[Exception]) -> HistorySettings:
    tables: dict[str, dict[str, Any]] = {}
    for name in TABLES:
        table = raw.get(name, {})
        where = f"{path}: [{name}]"
        if not isinstance(table, dict):
            raise error(f"{where}: must be a table")
        for key, value in table.items():
            expected = _KEYS[name].get(key)
            if expected is None:
                raise error(f"{where}: unknown key '{key}'")
            if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
                raise error(f"{where}: '{key}' must be a {_kind(expected)}")
            if expected is not bool and value < 0:
                raise error(f"{where}: '{key}' must not be negative")
        tables[name] = table
    a, r, b = tables["archive"], tables["revisits"], tables["backfill"]
    archive = ArchiveSettings(
        enabled=a.get("enabled", True),
        max_file_bytes=int(a.get("max_file_mb", 256) * _MB) or 256 * _MB,
        max_total_bytes=int(a.get("max_total_mb", 0) * _MB),
        retention_days=float(a.get("retention_days", 0)),
    )
    revisits = RevisitPolicy(
        fresh_for=timedelta(hours=r.get("fresh_hours", 48)),
        first_after=timedelta(minutes=r.get("first_after_minutes", 60)),
        factor=max(1.0, float(r.get("factor", 2.0))),
        enabled=r.get("enabled", True),
    )
    backfill = BackfillSettings(
        min_delay_s=float(b.get("min_delay_s", 5.0)), batch=max(1, b.get("batch", 25))
    )
    return HistorySettings(archive, revisits, backfill)


def _kind(expected: object) -> str:
    return {bool: "boolean", int: "whole number"}.get(expected, "number")  # type: ignore[call-overload]
