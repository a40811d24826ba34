"""Alert policy, pure: who hears of what and when. The store records what these functions decide.

Routes: a change may match several routes; each target gets it once, at the soonest of the modes that
route it there (immediate before hourly before daily before weekly). With no routes configured,
every target gets every change at once. A minor edit (a typo, a "last updated" stamp) goes only
where a route names the category "minor".

Storms: when more than a share of a site's sources (or of all sources) change at once, their
alerts fold into one summary. Source health: one alert when a source starts failing, one when it
recovers. Reminders: one per deadline per window (7 days, 1 day...), the nearest when several open.
Every default comes from `Settings`, declared there once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from watcher.config import Route, Settings
from watcher.models import Delivery, Source
from watcher.rows import OutboxRow

MODES = ("immediate", "hourly", "daily", "weekly")
GONE = (404, 410)  # the page is gone: alert at once, not after N tries
AT_ONCE = ("moved",)  # error reasons that mean the same


def matches(
    route: Route,
    source: Source,
    categories: Sequence[tuple[str, float]],
    thresholds: Mapping[str, float] | None = None,
    topics: Collection[str] = (),
) -> bool:
    """With a calibrated route, each category must reach its own threshold (from the model:
    the confidence above which held-out guesses of it were right 80% of the time). A route
    naming topics takes only changes that carry one of them."""
    if route.sources and source.name not in route.sources:
        return False
    if route.tags and not set(route.tags) & set(source.tags):
        return False
    if route.topics and not set(route.topics) & set(topics):
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
    digest_at: tuple[int, int] = Settings.digest_at,
    thresholds: Mapping[str, float] | None = None,
    topics: Collection[str] = (),
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
        if matches(route, source, categories, thresholds, topics):
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


# --- storms -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StormPolicy:
    share: float = Settings.storm_share
    min_sources: int = Settings.storm_min_sources


@dataclass(frozen=True)
class Batch:
    """One message to one target, and the outbox rows it settles."""

    target: str
    rows: tuple[OutboxRow, ...]
    kind: str  # change, digest, storm, reminder, health
    scope: str = ""  # the storm's host, or "all sources"; the digest's mode


def batches(
    rows: Sequence[OutboxRow], sources: Mapping[str, Source], storm: StormPolicy
) -> list[Batch]:
    """Due rows as messages: digests by target and mode, storms folded, the rest one by one."""
    out: list[Batch] = []
    immediate: dict[str, list[OutboxRow]] = defaultdict(list)
    digests: dict[tuple[str, str], list[OutboxRow]] = defaultdict(list)
    for row in rows:
        if row.kind == "change" and row.mode != "immediate":
            digests[(row.target, row.mode)].append(row)
        elif row.kind == "change":
            immediate[row.target].append(row)
        else:
            out.append(Batch(row.target, (row,), row.kind))
    for (target, mode), group in digests.items():
        out.append(Batch(target, tuple(group), "digest", mode))
    for target, group in immediate.items():
        out += fold_storms(target, group, sources, storm)
    return sorted(out, key=lambda b: b.rows[0].id)


def fold_storms(
    target: str, rows: Sequence[OutboxRow], sources: Mapping[str, Source], storm: StormPolicy
) -> list[Batch]:
    """Fold a site's (or every site's) alerts into one when too many sources changed."""
    changed = {r.source for r in rows if r.source}
    if len(sources) >= storm.min_sources and len(changed) > storm.share * len(sources):
        return [Batch(target, tuple(rows), "storm", "all sources")]
    by_host: dict[str, list[OutboxRow]] = defaultdict(list)
    for row in rows:
        source = sources.get(row.source or "")
        by_host[source.host if source else ""].append(row)
    out: list[Batch] = []
    for host, group in by_host.items():
        total = sum(1 for s in sources.values() if s.host == host) if host else 0
        hit = {r.source for r in group}
        if host and total >= storm.min_sources and len(hit) > storm.share * total:
            out.append(Batch(target, tuple(group), "storm", host))
        else:
            out += [Batch(target, (r,), "change") for r in group]
    return out


# --- source health ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """Who hears of a source's health, and after how many failed checks in a row."""

    targets: Sequence[str] = ()
    failing_after: int = Settings.failing_after


@dataclass(frozen=True)
class HealthChange:
    """A source's health moved: its new state, and what the alert about it reports."""

    state: str  # "failing" or "ok"
    payload: dict[str, Any]


def health_change(
    state: str,
    streak: int,
    outcome: str,
    status: int | None,
    reason: str | None,
    error: str | None,
    failing_after: int,
) -> HealthChange | None:
    """One alert when a source starts failing (N errors in a row, at once when the page is gone
    or moved), one when it recovers; never one per failed check. `streak` is the errors in a row
    before this check; None when the state stays."""
    failed = outcome == "error"
    failing = failed and (status in GONE or reason in AT_ONCE or streak + 1 >= failing_after)
    new_state = "failing" if failing else ("ok" if not failed else state)
    if new_state == state:
        return None
    return HealthChange(
        new_state,
        {
            "state": "failing" if failing else "recovered",
            "reason": (error or reason or "failed") if failing else "",
            "status": status,
        },
    )


# --- deadline reminders -------------------------------------------------------------------------


def reminder_window(
    due: date, today: date, found: date, days: Sequence[int], reminded: Collection[int]
) -> tuple[int | None, list[int]]:
    """The reminder window to send for a deadline today (None: none), and the windows used up.

    Each window (7 days, 1 day...) is used once per deadline. A window the deadline was found
    inside of was covered by the change's own alert; several open at once give one reminder, the
    nearest."""
    left = (due - today).days
    found_left = (due - found).days
    done = set(reminded) | {d for d in days if found_left <= d}
    windows = [d for d in days if left <= d and d not in done]
    return (min(windows) if windows else None), sorted(done | set(windows))


# --- staleness ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleChange:
    """A source's staleness moved. `state`: "stale" (one alert), "changed" (changed again after
    being stale: one alert), or "cleared" (no longer watched for staleness: no alert).
    `since` is the last change (or baseline) counted from; `stale_since` what to store."""

    state: str
    since: datetime | None
    stale_since: datetime | None
    payload: dict[str, Any]


def staleness_change(
    within: timedelta | None,
    last_change: datetime | None,
    baseline: datetime | None,
    last_success: datetime | None,
    stale_since: datetime | None,
    failing: bool,
    now: datetime,
) -> StaleChange | None:
    """One alert when a source expected to change within `within` has not, one when it changes
    again; None while nothing moves, so a pass after the alert repeats nothing.

    Counted from the last change, or the baseline when the source never changed (a later
    baseline, after the source was read a new way, starts the count again). A source is stale
    only once a successful check at least `within` after that saw no change: a check still due
    might find one. A failing source is a health matter (its own alert says changes go unseen),
    so it is never called stale while failing; it is once it is read again and still unchanged."""
    if stale_since is not None:
        if last_change is not None and last_change > stale_since:
            days = (last_change - stale_since).days
            return StaleChange(
                "changed",
                stale_since,
                None,
                {
                    "state": "changed",
                    "since": stale_since.isoformat(),
                    "changed_at": last_change.isoformat(),
                    "days": days,
                },
            )
        if within is None:
            return StaleChange("cleared", stale_since, None, {})
        return None
    if within is None or failing or last_success is None:
        return None
    starts = [t for t in (last_change, baseline) if t is not None]
    if not starts:
        return None
    since = max(starts)
    seen = min(last_success, now)
    if seen - since < within:
        return None
    return StaleChange(
        "stale",
        since,
        since,
        {
            "state": "stale",
            "since": since.isoformat(),
            "changed": last_change is not None and last_change >= since,
            "days": (seen - since).days,
            "seconds": int((seen - since).total_seconds()),
            "within": int(within.total_seconds()),
        },
    )
