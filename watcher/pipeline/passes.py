"""A pass over many sources, settled as it goes: a check that needs nothing from the rest of its
site (a 304, the same text, a baseline, an error) is written as soon as it is observed, a few
dozen to a transaction; a site's comparisons wait only until its last page is observed, then are
judged together. So a pass holds the comparisons of the sites still being checked, never every
page of the pass at once, and memory stays flat in the number of sources.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence

from watcher.models import CheckResult, Source
from watcher.pipeline.checker import Checker
from watcher.pipeline.observed import Observed

FLUSH = 64  # checks written per transaction: one commit per page would cost more than its work


async def run_pass(
    checker: Checker, sources: Sequence[Source], worker: str | None = None
) -> list[CheckResult]:
    """Check every source once; results in the order of `sources`.

    With a `worker` (several share the state), each write lands only while that worker still
    holds the lease on the sites written, checked inside the write's transaction: a worker that
    stalled past its lease raises ClaimLost rather than write over the new holder's outcome.

    A site's pages are all observed before any of its comparisons is judged, so template churn
    seen across them in this pass is known when each is judged (as when the pass settled only
    at its end), and the site's evidence is written once.
    """
    left = Counter(s.host for s in sources)
    results: list[CheckResult | None] = [None] * len(sources)
    ready: list[tuple[int, Observed]] = []
    waiting: dict[str, list[tuple[int, Observed]]] = defaultdict(list)
    quiet: Counter[str] = Counter()

    def write(batch: list[tuple[int, Observed]], calm: dict[str, int] | None = None) -> None:
        with checker.store.batch():  # settle_all's own batch joins this one
            if worker is not None and batch:
                hosts = {o.source.host for _, o in batch}
                checker.store.ensure_holds(worker, hosts, checker.clock())
            settled = checker.settle_all([o for _, o in batch], calm)
        for (i, _), result in zip(batch, settled, strict=True):
            results[i] = result
        batch.clear()

    # Each check hands its result over a queue and keeps none itself: a finished task holding
    # its result would keep every page of the pass alive until the pass ends.
    handed: asyncio.Queue[tuple[int, Observed | BaseException]] = asyncio.Queue()

    async def observe(i: int, source: Source) -> None:
        try:
            handed.put_nowait((i, await checker.observe(source)))
        except Exception as exc:  # noqa: BLE001 (a bug: the pass stops with it, not waiting for ever)
            handed.put_nowait((i, exc))

    tasks = [asyncio.ensure_future(observe(i, s)) for i, s in enumerate(sources)]
    try:
        for _ in sources:
            i, observed = await handed.get()
            if isinstance(observed, BaseException):
                raise observed
            host = observed.source.host
            if observed.site_bound:
                waiting[host].append((i, observed.parked()))
            else:
                ready.append((i, observed))
                quiet[host] += observed.quiet
            left[host] -= 1
            if len(ready) >= FLUSH:
                write(ready)
            if not left[host] and host in waiting:
                write(waiting.pop(host), {host: quiet[host]})
            del observed
        write(ready)
    finally:
        # A failed write stops the pass: the checks still running are let go, unwritten.
        for task in tasks:
            task.cancel()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
