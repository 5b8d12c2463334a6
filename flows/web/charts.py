"""Charts drawn on the server as SVG shapes: the templates only place them (every label goes
through the template's escaping), so no chart library and no JavaScript."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from extractors.records.desk import DayCount

# Distinguishable on white and for the common colour blindnesses (Okabe–Ito), then greys.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#999999", "#666666",
)  # fmt: skip


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # shown on hover (an SVG <title>)


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str], ...]  # (colour, key)
    total: int


def stacked_days(
    counts: Sequence[DayCount],
    first: date,
    days: int,
    width: int = 900,
    height: int = 260,
    margins: tuple[int, int, int] = (40, 30, 10),  # left, bottom, top: room for the axes
) -> Chart:
    """One stacked bar per day, one colour per key (outlet)."""
    left, bottom, top = margins
    keys = sorted({c.key for c in counts})
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}
    per_day: dict[date, list[DayCount]] = defaultdict(list)
    for c in counts:
        per_day[c.day].append(c)
    peak = max((sum(c.count for c in v) for v in per_day.values()), default=0)
    scale_top = max(peak, 1)
    plot_h = height - bottom - top
    slot = (width - left) / days
    bars: list[Bar] = []
    for i in range(days):
        day = first + timedelta(days=i)
        y = height - bottom
        for c in sorted(per_day.get(day, []), key=lambda c: c.key):
            h = plot_h * c.count / scale_top
            y -= h
            bars.append(
                Bar(left + i * slot + 1, y, max(slot - 2, 1), h, colour[c.key],
                    f"{day.isoformat()} {c.key}: {c.count}")
            )  # fmt: skip
    step = max(1, days // 6)
    x_ticks = tuple(
        Tick(left + i * slot + slot / 2, height - 10, (first + timedelta(days=i)).strftime("%d %b"))
        for i in range(0, days, step)
    )
    y_ticks = tuple(
        Tick(left - 6, height - bottom - plot_h * v / scale_top + 4, str(v))
        for v in sorted({0, scale_top // 2, scale_top})
    )
    return Chart(
        width, height, tuple(bars), x_ticks, y_ticks, tuple((colour[k], k) for k in keys),
        sum(c.count for c in counts),
    )  # fmt: skip


def sparkline(counts: Sequence[DayCount], first: date, days: int) -> Chart:
    """A small bar per day, no axes: an outlet's articles per day."""
    chart = stacked_days(
        [DayCount(c.day, "articles", c.count) for c in counts], first, days, 240, 40, (0, 2, 2)
    )
    return Chart(chart.width, chart.height, chart.bars, (), (), (), chart.total)
