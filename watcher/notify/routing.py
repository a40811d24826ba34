"""Which targets a change goes to, and when. Pure.

A change may match several routes; each target gets it once, at the soonest of the modes that
route it there (immediate before hourly before daily before weekly). With no routes configured,
every target gets every change at once. A minor edit (a typo, a "last updated" stamp) goes only
where a route names the category "minor".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from watcher.config import Route
from watcher.models import Delivery, Source

MODES = ("immediate", "hourly", "daily", "weekly")


def matches(
    route: Route,
    source: Source,
    categories: Sequence[tuple[str, float]],
    thresholds: Mapping[str, float] | None = None,
) -> bool:
    """With a calibrated route, each category must reach its own threshold (from the model:
    the confidence above which held-out guesses of it were right 80% of the time)."""
    if route.sources and source.name not in route.sources:
        return False
    if route.tags and not set(route.tags) & set(source.tags):
        return False
    floor = dict(thresholds or {}) if route.calibrated else {}
    strong = [
        label
        for label, confidence in categories
        if confidence >= floor.get(label, route.min_confidence)
    ]
    if route.categories:
        return bool(set(route.categories) & set(strong))
    return not (route.min_confidence or route.calibrated) or bool(strong)


def route_change(
    routes: Sequence[Route],
    targets: Sequence[str],
    source: Source,
    categories: Sequence[tuple[str, float]],
    now: datetime,
    hold: timedelta = timedelta(0),
    digest_at: tuple[int, int] = (8, 0),
    thresholds: Mapping[str, float] | None = None,
) -> list[Delivery]:
    """The deliveries of one change: one per target, among `targets` (those with a URL set)."""
    if categories and categories[0][0] == "minor":
        routes = [r for r in routes if "minor" in r.categories]
        if not routes:
            return []
    if not routes:
        return [Delivery(t, "immediate", now + hold) for t in targets]
    chosen: dict[str, str] = {}
    for route in routes:
        if matches(route, source, categories, thresholds):
            for target in route.targets:
                if target in targets:
                    mode = chosen.get(target, route.mode)
                    chosen[target] = min(mode, route.mode, key=MODES.index)
    return [Delivery(t, mode, due_at(mode, now, hold, digest_at)) for t, mode in chosen.items()]


def health_targets(routes: Sequence[Route], targets: Sequence[str], source: Source) -> list[str]:
    """Source-health and storm alerts go to every target routed anything from the source."""
    if not routes:
        return list(targets)
    found: list[str] = []
    for route in routes:
        if (not route.sources or source.name in route.sources) and (
            not route.tags or set(route.tags) & set(source.tags)
        ):
            found += [t for t in route.targets if t in targets and t not in found]
    return found


def due_at(mode: str, now: datetime, hold: timedelta, digest_at: tuple[int, int]) -> datetime:
    """When an alert of this mode goes out: after the hold, or at the next digest boundary."""
    if mode == "immediate":
        return now + hold
    if mode == "hourly":
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hour, minute = digest_at
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    if mode == "weekly":
        at += timedelta(days=(7 - at.weekday()) % 7)  # Monday
    return at
