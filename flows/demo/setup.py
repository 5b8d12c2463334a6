"""What the demo's config adds to its outlets so that it shows the product: the shipped topic
rule, and an alert window wide enough for its recorded articles."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

from flows.demo.server import DemoOutlet

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "newsmon.toml"
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?")


def rule_tables(config_text: str) -> str:
    """The `[[rule]]` tables of a config file, with their `[rule.*]` sub-tables, as written."""
    kept: list[str] = []
    inside = False
    for line in config_text.splitlines():
        header = _HEADER.match(line)
        if header:
            name = header.group(1)
            inside = name == "rule" or name.startswith("rule.")
        if inside:
            kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


def demo_rules(config: Path) -> tuple[str, Path | None]:
    """The rules of the user's config when it has some, else those shipped in newsmon.toml;
    with the file they came from."""
    for path in (config, SHIPPED_CONFIG):
        if path.is_file():
            tables = rule_tables(path.read_text(encoding="utf-8"))
            if tables:
                return tables, path
    return "", None


def alert_window(outlets: list[DemoOutlet], now: datetime) -> tuple[str, float]:
    """An `[alerts]` table whose window reaches back to the oldest recorded article: the
    snapshots were published in 2023-2025, and the default 48 hours would alert on none."""
    stamps = [str(a["published_at"]) for o in outlets for a in o.articles if a.get("published_at")]
    published = [datetime.fromisoformat(s if "T" in s else s + "T00:00:00+00:00") for s in stamps]
    oldest = min(published, default=now)
    hours = math.ceil((now - oldest).total_seconds() / 3600) + 24
    return f"[alerts]\nwindow_hours = {hours}\n", hours
