"""Who hears of a change or of a source's health, and when: the check's view of the routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.config import Route, Settings
from watcher.models import Change, Delivery, Source
from watcher.notify.policy import Health, health_targets, route_change


@dataclass
class Alerting:
    """Who hears of a change or a source's health, and when."""

    routes: Sequence[Route] = ()
    targets: Sequence[str] = ()  # targets with a URL set
    hold: timedelta = timedelta(0)
    digest_at: tuple[int, int] = Settings.digest_at
    failing_after: int = Settings.failing_after

    def deliveries(
        self,
        source: Source,
        categories: Sequence[tuple[str, float]],
        now: datetime,
        thresholds: Mapping[str, float] | None = None,
        topics: Sequence[str] = (),
    ) -> list[Delivery]:
        return route_change(
            self.routes,
            self.targets,
            source,
            categories,
            now,
            self.hold,
            self.digest_at,
            thresholds,
            topics,
        )

    def of_change(
        self,
        source: Source,
        change: Change,
        now: datetime,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[Delivery]:
        """The deliveries of a change: routed by its categories and its topics."""
        evidence = change.evidence
        categories = [(c[0], c[1]) for c in evidence.categories] if evidence else []
        topics = [name for name, _ in change.topics]
        return self.deliveries(source, categories, now, thresholds, topics)

    def health(self, source: Source) -> Health:
        return Health(
            targets=health_targets(self.routes, self.targets, source),
            failing_after=self.failing_after,
        )
