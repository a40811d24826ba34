"""Prometheus metrics, read from the database at scrape time so they survive restarts."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from watcher.models import Outcome
from watcher.store import Store
from watcher.store.ops import DURATION_BUCKETS, CheckTotals, figures

CONTENT_TYPE = CONTENT_TYPE_LATEST


class StoreCollector(Collector):
    """Every metric is an aggregate query over the state database, run when scraped.

    Nothing is counted in process memory, so a restart, or a second process (the web app) serving
    the scrape, shows the same totals as the daemon.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        f = figures(self.store)
        checks = CounterMetricFamily(
            "watcher_checks", "Checks of sources, by outcome.", labels=["outcome"]
        )
        for outcome in sorted({o.value for o in Outcome} | set(f.checks)):
            checks.add_metric([outcome], f.checks.get(outcome, CheckTotals.empty()).count)
        yield checks

        total = CheckTotals.empty()
        for t in f.checks.values():
            total = total.plus(t)
        buckets = [
            (str(float(b)), float(n))  # "0.05", "1.0": the form Prometheus' own clients write
            for b, n in zip(DURATION_BUCKETS, total.buckets, strict=True)
        ]
        yield HistogramMetricFamily(
            "watcher_fetch_duration_seconds",
            "Time each check took, fetch included.",
            buckets=[*buckets, ("+Inf", float(total.count))],
            sum_value=total.sum_ms / 1000,
        )

        changes = CounterMetricFamily(
            "watcher_changes", "Changes detected, by category.", labels=["category"]
        )
        for category, n in sorted(f.changes.items()):
            changes.add_metric([category], n)
        yield changes

        alerts = GaugeMetricFamily(
            "watcher_alerts", "Alerts in the outbox, by status.", labels=["status"]
        )
        for status, n in sorted(f.alerts.items()):
            alerts.add_metric([status], n)
        yield alerts

        yield GaugeMetricFamily(
            "watcher_sources_failing",
            "Sources whose last check failed.",
            value=f.sources_failing,
        )
        if f.last_check_at is not None:
            yield GaugeMetricFamily(
                "watcher_last_pass_timestamp_seconds",
                "When a source was last checked (Unix time).",
                value=f.last_check_at.timestamp(),
            )
        if f.heartbeat_at is not None:
            yield GaugeMetricFamily(
                "watcher_heartbeat_timestamp_seconds",
                "The daemon's last heartbeat (Unix time).",
                value=f.heartbeat_at.timestamp(),
            )


def render(store: Store) -> bytes:
    """The metrics in Prometheus text format; serve with `CONTENT_TYPE`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return generate_latest(registry)
