"""This worker's share of the work when several share one state: its name and heartbeat row,
the sites (hosts) it holds a lease on, and jobs it produces once per period for all.

Off (`shared = False`) it claims nothing and every call is free: one worker under the SQLite
file lock needs no leases. On, a site group's pass runs only under the site's lease, a sweep or
prune only under its job claim (watcher/store/workers.py holds the SQL).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from watcher.heartbeat import HEARTBEAT_EVERY
from watcher.store import Store, iso

log = logging.getLogger(__name__)
T = TypeVar("T")

WORKER_ENV = "WATCHER_WORKER"
# A worker not seen for this many beats is gone: its site, job and outbox claims are free at once;
# and a held lease is renewed by each heartbeat to this many beats ahead, lost when it dies.
BEATS_TO_GONE = 4
SILENT_AFTER = (
    HEARTBEAT_EVERY * BEATS_TO_GONE
)  # at the default heartbeat ([watcher] heartbeat_every)
# Added to a pass's expected length (pages x gap), for the reading and writing around fetches.
LEASE_MARGIN = timedelta(minutes=2)
# A sweep (reminders, staleness) is one job per this period; its claim lasts at most this long.
SWEEP_EVERY = timedelta(seconds=30)
JOB_LEASE = timedelta(minutes=10)


def worker_name(given: str | None = None) -> str:
    """This worker's name: --worker, else $WATCHER_WORKER, else host:pid (as outbox claims are
    written, so a dead process on this machine is recognised by its pid)."""
    return given or os.environ.get(WORKER_ENV) or f"{os.uname().nodename}:{os.getpid()}"


def pass_lease(pages: int, gap: float, concurrency: int) -> timedelta:
    """How long a site's pass is expected to take, plus a margin: the lease it is claimed for
    (renewed by the heartbeat if it runs longer)."""
    return timedelta(seconds=pages * gap / max(concurrency, 1)) + LEASE_MARGIN


def due_again(started: datetime, every: timedelta, jitter: float) -> datetime:
    """When a site passed at `started` is due for the next worker: a little before a whole
    interval, so the holder's own next run (up to `jitter` of it early on its grid) is not
    refused for a pass that is in fact due."""
    return started + every * (1 - jitter) - min(every / 20, timedelta(minutes=1))


def period_of(now: datetime, every: timedelta) -> str:
    """The period `now` falls in, as an ISO time that sorts in time order (a job's done_for)."""
    step = every.total_seconds()
    start = now.timestamp() // step * step
    return iso(datetime.fromtimestamp(start, tz=now.tzinfo))


class Claims:
    """The sites and jobs this worker holds; a no-op unless `shared`."""

    def __init__(
        self, store: Store, name: str, shared: bool, beat: timedelta = HEARTBEAT_EVERY
    ) -> None:
        self.store = store
        self.name = name
        self.shared = shared
        self.silent_after = self.renew_lease = beat * BEATS_TO_GONE
        # Passes in flight per site: two interval groups of one host share the host's lease.
        self.held: Counter[str] = Counter()

    def join(self, now: datetime) -> None:
        """Write the first beat. A single worker on SQLite holds the file lock, so no other
        runs: claims left by a crashed run are freed now, not when their leases expire."""
        self.store.beat(self.name, now)
        if self.store.engine == "sqlite" and not self.shared:
            self.store.free_claims(keep=self.name)

    def beat(self, now: datetime) -> None:
        """The heartbeat: this worker is alive, and its leases run on."""
        self.store.beat(self.name, now)
        if self.shared and self.held:
            self.store.renew(self.name, sorted(self.held), now + self.renew_lease)

    def claim_site(self, site: str, now: datetime, lease: timedelta) -> bool:
        """Take the site's lease for a pass; False when another worker holds it, it is not due
        yet, or its host asked for a wait that has not run out."""
        if not self.shared:
            return True
        if self.held[site] or self.store.claim_sites(
            self.name, [site], now, now + lease, now - self.silent_after
        ):
            self.held[site] += 1
            return True
        return False

    def release_site(self, site: str, next_due: datetime | None) -> None:
        """The pass is over: the site is due again at `next_due` for whichever worker comes."""
        if not self.shared or not self.held[site]:
            return
        self.held[site] -= 1
        if not self.held[site]:
            del self.held[site]
            if not self.store.release_site(self.name, site, next_due):
                log.warning("site lease lost during its pass", extra={"host": site})

    def release_all(self) -> None:
        """At shutdown: give every site back at once, due when it was."""
        for site in list(self.held):
            self.store.release_site(self.name, site, None)
        self.held.clear()

    def note_hold(self, host: str, seconds: float, now: datetime) -> None:
        """Share a host's asked-for wait, which must outlive this worker's lease on it."""
        if self.shared and seconds > 0:
            self.store.hold(host, now + timedelta(seconds=seconds))

    def once(self, job: str, every: timedelta, now: datetime, produce: Callable[[], T]) -> T | None:
        """Run `produce` unless another worker did (or is doing) `job` this period; None when
        skipped. A failure gives the job back for another try."""
        if not self.shared:
            return produce()
        period = period_of(now, every)
        if not self.store.claim_job(
            job, period, self.name, now, now + JOB_LEASE, now - self.silent_after
        ):
            return None
        try:
            made = produce()
        except BaseException:
            self.store.drop_job(job, self.name)
            raise
        self.store.done_job(job, period, self.name)
        return made
