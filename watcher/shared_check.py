"""`watcher check` on a shared store: one pass that takes its share of the sites, as a daemon does.

Sites (hosts) are claimed one at a time as a slot frees, up to `concurrency` in flight, so one
process still checks many hosts at once and several processes started together split the sites
between them: a site another worker holds, or one checked recently enough that it is not due
yet, is skipped. Each claimed site's sources are checked in one `run_pass(..., worker)` under its
lease, and the site is released due again as the daemon releases it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from watcher.claims import SWEEP_EVERY, Claims, due_again, pass_lease, worker_name
from watcher.config import Config
from watcher.errors import StoreError
from watcher.models import CheckResult, Source
from watcher.notify.deliver import DeliveryReport
from watcher.pipeline import Clock, utcnow
from watcher.pipeline.passes import run_pass
from watcher.runtime import Runtime, followed, open_runtime, queue_reminders, queue_staleness

log = logging.getLogger(__name__)


@dataclass
class SharedPass:
    """What a claimed pass did: results in the order of the sources given, and the sites it left
    to others (held by another worker) or to a later pass (not due yet)."""

    results: list[CheckResult] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)

    def skipped_line(self) -> str | None:
        """The line `watcher check` prints about skipped sites, if it skipped any."""
        parts = []
        if self.held:
            parts.append(f"{plural(len(self.held), 'site')} held by other workers")
        if self.not_due:
            parts.append(f"{plural(len(self.not_due), 'site')} not due yet")
        return f"{' and '.join(parts)}, skipped" if parts else None


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


async def check_shared(
    config: Config,
    sources: Sequence[Source] | None = None,
    worker: str | None = None,
    clock: Clock = utcnow,
) -> tuple[SharedPass, DeliveryReport]:
    """`check_once` for one of several workers on a shared store: this worker's share of the
    sites, the sweeps only if no other worker did them this period, then deliver what is due
    (outbox rows are claimed per target, as the daemon's are)."""
    async with open_runtime(config, clock) as rt:
        beat = config.settings.heartbeat_every
        claims = Claims(rt.store, worker_name(worker), shared=True, beat=beat)
        claims.join(clock())
        rt.deliverer.owner = claims.name
        chosen = list(sources or [*config.sources, *followed(rt)])
        done = await claimed_pass(rt, chosen, claims)
        claims.once("reminders", SWEEP_EVERY, clock(), lambda: queue_reminders(rt, clock))
        claims.once("staleness", SWEEP_EVERY, clock(), lambda: queue_staleness(rt, clock))
        hold = timedelta(seconds=config.settings.alert_hold)
        report = await rt.deliverer.deliver_due(horizon=hold)
    return done, report


async def claimed_pass(rt: Runtime, sources: Sequence[Source], claims: Claims) -> SharedPass:
    """Check the sites of `sources` this worker can claim; skip the rest (see the module)."""
    settings = rt.config.settings
    egress, clock = settings.egress, rt.checker.clock
    by_host: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        by_host.setdefault(s.host, []).append(i)
    results: list[CheckResult | None] = [None] * len(sources)
    skipped: list[str] = []
    slots = asyncio.Semaphore(max(egress.concurrency, 1))

    async def one_site(host: str, indexes: list[int]) -> None:
        group = [sources[i] for i in indexes]
        async with slots:
            started = clock()
            lease = pass_lease(len(group), egress.per_host_gap, egress.per_host_concurrency)
            if not claims.claim_site(host, started, lease):
                skipped.append(host)
                return
            try:
                checked = await run_pass(rt.checker, group, claims.name)
            finally:
                next_due = due_again(started, min(s.every for s in group), settings.jitter)
                claims.note_hold(host, rt.checker.egress.held(host), clock())
                claims.release_site(host, next_due)
            for i, result in zip(indexes, checked, strict=True):
                results[i] = result

    # The beat keeps this worker's claims its own through a pass longer than four beats.
    beating = asyncio.ensure_future(_beat(claims, rt, settings.heartbeat_every))
    tasks = [asyncio.ensure_future(one_site(h, ix)) for h, ix in by_host.items()]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating
    done = SharedPass(results=[r for r in results if r is not None])
    holders = rt.store.site_claims()
    for host in sorted(skipped):
        worker = holders.get(host, (None, None, None))[0]
        (done.held if worker not in (None, claims.name) else done.not_due).append(host)
    return done


async def _beat(claims: Claims, rt: Runtime, every: timedelta) -> None:
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            claims.beat(rt.checker.clock())
        except StoreError as exc:  # the pass's own writes say more; its leases may run out
            log.error("worker heartbeat not written", extra={"error": str(exc)})
