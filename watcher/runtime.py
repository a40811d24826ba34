"""Wiring: from a Config to a store, an egress client, a checker and a deliverer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from watcher.claims import BEATS_TO_GONE
from watcher.classify import Classifier
from watcher.config import Config, register_secrets
from watcher.egress import Egress
from watcher.models import CheckResult, Source
from watcher.notify.deliver import Deliverer, DeliveryReport, check_targets
from watcher.notify.policy import StormPolicy, health_targets
from watcher.pipeline import Alerting, Checker, Clock, utcnow
from watcher.pipeline.parsing import Parser
from watcher.pipeline.passes import run_pass
from watcher.store import Store


@dataclass
class Runtime:
    config: Config
    store: Store
    checker: Checker
    deliverer: Deliverer


@asynccontextmanager
async def open_runtime(config: Config, clock: Clock = utcnow) -> AsyncIterator[Runtime]:
    """Everything a pass needs, closed in order on exit."""
    register_secrets(config)
    check_targets(config.targets)
    store = Store.open(config.settings.state_dir, config.settings.database_url)
    try:
        store.sync_sources(config.sources, clock())
        ready = [t.name for t in config.targets if t.secret is not None]
        async with Egress(config.settings.egress) as egress:
            classifier = Classifier.configured(
                config.settings.categories,
                config.settings.model_path,
                config.settings.state_dir,
            )
            settings = config.settings
            alerting = Alerting(
                routes=config.routes,
                targets=ready,
                hold=timedelta(seconds=settings.alert_hold),
                digest_at=settings.digest_at,
                failing_after=settings.failing_after,
            )
            checker = Checker(
                egress=egress,
                store=store,
                clock=clock,
                classifier=classifier,
                alerting=alerting,
                govuk_base=settings.govuk_base,
                new_per_pass=settings.new_per_pass,
                follow_max=settings.follow_max,
                parser=Parser(settings.parse_processes),
                topics=config.topics,
            )
            deliverer = Deliverer(
                store=store,
                targets={t.name: t for t in config.targets},
                clock=clock,
                max_attempts=settings.max_attempts,
                sources={s.name: s for s in config.sources},
                storm=StormPolicy(settings.storm_share, settings.storm_min_sources),
                link=change_link(config),
                public_url=config.web.public_url,
                silent_after=settings.heartbeat_every * BEATS_TO_GONE,
            )
            try:
                yield Runtime(config, store, checker, deliverer)
            finally:
                checker.parser.close()
    finally:
        store.close()


def followed(rt: Runtime) -> list[Source]:
    """The publications listings with `follow = true` added, each checked as often as its
    listing (a followed source whose listing left the config keeps the shortest interval)."""
    every = {s.name: s.every for s in rt.config.sources}
    fallback = min(every.values(), default=timedelta(hours=6))
    named = {s.name for s in rt.config.sources}
    found = [
        replace(s, every=every.get(s.tags[-1], fallback))
        for s in rt.store.followed(fallback)
        if s.name not in named
    ]
    rt.store.sync_sources(found, rt.checker.clock())  # each keeps its state like any source
    return found


def change_link(config: Config) -> Callable[[int], str | None]:
    """The change's page in the web app, for alerts; none unless [web] public_url says where
    staff reach it (a loopback address would be a dead link in someone's inbox)."""
    base = (config.web.public_url or "").rstrip("/")
    return lambda change_id: f"{base}/changes/{change_id}" if base else None


def queue_reminders(rt: Runtime, clock: Clock = utcnow) -> int:
    """Queue reminders for deadlines entering a reminder window, for every target that is on."""
    return rt.store.queue_reminders(
        clock(), rt.config.settings.remind_days, list(rt.checker.targets)
    )


def queue_staleness(rt: Runtime, clock: Clock = utcnow) -> list[tuple[str, str]]:
    """Queue the staleness alerts due (sources with `expect_change_within` unchanged that long,
    or changed again after): to every target routed anything from the source, like a health
    alert."""
    sources = rt.config.sources
    routes, ready = rt.config.routes, list(rt.checker.targets)
    targets = {s.name: health_targets(routes, ready, s) for s in sources}
    return rt.store.queue_staleness(clock(), sources, targets)


async def check_once(
    config: Config, sources: Sequence[Source] | None = None, clock: Clock = utcnow
) -> tuple[list[CheckResult], DeliveryReport]:
    """One pass over `sources` (all by default), then deliver what is due.

    Every source is observed before any is judged, so a site's template churn seen across its
    pages in this pass is known when each of them is judged.
    """
    async with open_runtime(config, clock) as rt:
        chosen = list(sources or [*config.sources, *followed(rt)])
        results = await run_pass(rt.checker, chosen)
        queue_reminders(rt, clock)
        queue_staleness(rt, clock)
        # The pass is over, so every storm is seen whole: no need to wait out the hold.
        hold = timedelta(seconds=config.settings.alert_hold)
        report = await rt.deliverer.deliver_due(horizon=hold)
    return results, report
