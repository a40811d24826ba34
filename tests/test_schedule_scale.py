"""Scheduling at scale, on a fake clock: 10,000 sources on intervals with jitter are spread
evenly over the day, do not drift, and a restart (soon after, or after a long stop) is no burst."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from watcher.models import Source
from watcher.scheduler import SteadyInterval, first_run_times, site_groups

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
JITTER = 0.1  # the shipped [watcher] jitter
# Per-minute counts are random: ~2x the mean (1.9-2.0x over seeds), with room for the noise.
MOST = 2.25
# The hour after a restart adds the sources missed while stopped to those resuming: 2.1-2.4x.
MOST_AFTER_RESTART = 2.5


def _sources(n: int = 10_000) -> list[Source]:
    """One source per host (a site's sources are one job); 10% hourly, 60% 6-hourly, 30% daily."""
    hours = [1, 6, 6, 6, 6, 6, 6, 24, 24, 24]
    return [
        Source(name=f"s{i}", url=f"https://h{i}.example.org/", every=timedelta(hours=hours[i % 10]))
        for i in range(n)
    ]


def _run(
    sources: list[Source], first: dict[str, datetime], until: datetime, rng: random.Random
) -> dict[str, list[datetime]]:
    """Every run of every source until `until`, as the daemon's triggers would fire them."""
    runs: dict[str, list[datetime]] = {}
    for (_, every), group in site_groups(sources).items():
        seconds = int(every.total_seconds())
        start = min(first[s.name] for s in group)
        trigger = SteadyInterval(seconds, start, int(seconds * JITTER), rng)
        at: datetime | None = start
        while at is not None and at < until:
            for s in group:
                runs.setdefault(s.name, []).append(at)
            at = trigger.get_next_fire_time(at, at)
    return runs


def _per_minute(times: list[datetime], since: datetime, minutes: int) -> list[int]:
    counts = Counter(int((t - since).total_seconds() // 60) for t in times)
    return [counts.get(m, 0) for m in range(minutes)]


def test_ten_thousand_sources_spread_evenly_without_drift_and_restart_without_burst() -> None:
    rng = random.Random(17)
    sources = _sources()
    runs = _run(sources, first_run_times(sources, {}, NOW, rng), NOW + DAY, rng)

    counts = _per_minute([t for ts in runs.values() for t in ts], NOW, 24 * 60)
    mean = sum(counts) / len(counts)
    # Every run of the day (a last one pushed past midnight by its jitter aside), and no more.
    assert 0.97 * 51_000 <= sum(counts) <= 51_000
    assert max(counts) <= MOST * mean, (max(counts), mean)

    # No drift: the n-th run is n intervals after the first, late by at most its jitter.
    every = {s.name: s.every for s in sources}
    for name, times in runs.items():
        for n, at in enumerate(times):
            late = at - (times[0] + n * every[name])
            assert timedelta(0) <= late <= every[name] * JITTER, (name, n, late)

    # A restart an hour later resumes each source where it was; those missed are spread.
    restart = NOW + DAY + timedelta(hours=1)
    last = {name: max(times) for name, times in runs.items()}
    due = first_run_times(sources, last, restart, rng)
    resuming = [s for s in sources if last[s.name] + s.every > restart]
    assert len(resuming) > 7_000 and all(due[s.name] == last[s.name] + s.every for s in resuming)
    hour = _run(sources, due, restart + timedelta(hours=1), rng)
    after = _per_minute([t for ts in hour.values() for t in ts], restart, 60)
    assert max(after) <= MOST_AFTER_RESTART * mean, (max(after), mean)

    # After a long stop, every source is overdue: spread out, not all in the first minutes.
    overdue = first_run_times(sources, last, NOW + 7 * DAY, rng)
    resumed = _run(sources, overdue, NOW + 8 * DAY, rng)
    later = _per_minute([t for ts in resumed.values() for t in ts], NOW + 7 * DAY, 24 * 60)
    assert max(later) <= MOST * mean, (max(later), mean)
