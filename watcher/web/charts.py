"""The home page's picture: each topic's changes per week as a small bar chart, drawn as SVG on
the server (no script), with a text label and a tooltip (<title>) for every bar. Pure: counts
in, geometry and words out; the template escapes every word."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 240  # the viewBox of one chart; CSS scales it to its column
HEIGHT = 64
AXIS = 14  # room under the bars for the week labels
GAP = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    tip: str  # "Kinship care: 3 changes in the week of 3 Nov 2026"


@dataclass(frozen=True)
class TopicChart:
    """One topic's small multiple: its bars, its total and the words a screen reader hears."""

    name: str
    slug: str  # for element ids
    bars: tuple[Bar, ...]
    total: int
    this_week: int
    summary: str  # the chart said in one sentence
    first_week: str
    last_week: str


def _week(day: datetime) -> str:
    return f"{day.day} {day:%b %Y}"


def _plural(n: int) -> str:
    return f"{n} change{'' if n == 1 else 's'}"


def charts(counts: Mapping[str, Sequence[int]], starts: Sequence[datetime]) -> list[TopicChart]:
    """A chart per topic, in the order given, on one scale (the busiest week of any topic), so
    the multiples compare at a glance."""
    top = max((max(c, default=0) for c in counts.values()), default=0) or 1
    room = HEIGHT - AXIS
    out = []
    for index, (name, weekly) in enumerate(counts.items()):
        slot = WIDTH / max(len(weekly), 1)
        bars = []
        for k, n in enumerate(weekly):
            height = 0.0 if n == 0 else max(2.0, room * n / top)
            bars.append(
                Bar(
                    x=round(k * slot + GAP / 2, 2),
                    y=round(room - height, 2),
                    width=round(slot - GAP, 2),
                    height=round(height, 2),
                    count=n,
                    tip=f"{name}: {_plural(n)} in the week of {_week(starts[k])}",
                )
            )
        total = sum(weekly)
        busiest = max(range(len(weekly)), key=lambda k: weekly[k]) if total else None
        summary = f"{name}: {_plural(total)} in the last {len(weekly)} weeks"
        if busiest is not None:
            summary += f", most in the week of {_week(starts[busiest])} ({weekly[busiest]})"
        out.append(
            TopicChart(
                name=name,
                slug=f"topic-{index}",
                bars=tuple(bars),
                total=total,
                this_week=weekly[-1] if weekly else 0,
                summary=summary + ".",
                first_week=f"{starts[0].day} {starts[0]:%b}" if starts else "",
                last_week=f"{starts[-1].day} {starts[-1]:%b}" if starts else "",
            )
        )
    return out
