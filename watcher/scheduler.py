"""The daemon: APScheduler wiring, start-up spreading, heartbeat and clean shutdown on signals."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.claims import SWEEP_EVERY, Claims, due_again, pass_lease, worker_name
from watcher.clock import Clock, utcnow
from watcher.config import Config
from watcher.errors import StoreError
from watcher.heartbeat import HEALTH_MAX_AGE as HEALTH_MAX_AGE  # read from here by tests
from watcher.models import Source
from watcher.pipeline.passes import run_pass
from watcher.runtime import Runtime, followed, open_runtime, queue_reminders, queue_staleness
from watcher.store import DatabaseError, iso
from watcher.store.ops import HEARTBEAT_KEY, retention

log = logging.getLogger(__name__)
STARTUP_SPREAD = timedelta(minutes=2)
# Checks a second that sources due at start (new, or overdue after a long stop) may begin at,
# at least: a few dozen still start within STARTUP_SPREAD, thousands are spread further.
START_RATE = 0.5
OUTBOX_EVERY = timedelta(seconds=30)
RETENTION_EVERY = timedelta(days=1)
SHUTDOWN_GRACE = 8.0
# A service run beside the checks (the web app): given the stop event, it returns once stopped.
Companion = Callable[[asyncio.Event], Awaitable[None]]


def first_run_times(
    sources: Sequence[Source],
    last_checks: Mapping[str, datetime | None],
    now: datetime,
    rng: random.Random,
    spread: timedelta = STARTUP_SPREAD,
) -> dict[str, datetime]:
    """When each source is first checked after start.

    A source checked before resumes at its last check plus its interval. Overdue and never-checked
    sources are spread over a window, so a restart is not a burst of every source at once: at
    least `spread`, and long enough that they start no faster than they will run once started
    (or START_RATE a second), never longer than the source's own interval.
    """
    due: dict[str, datetime] = {}
    waiting: list[Source] = []
    for s in sources:
        last = last_checks.get(s.name)
        if last is not None and last + s.every > now:
            due[s.name] = last + s.every
        else:
            waiting.append(s)
    # The rate the waiting sources are checked at once running: starting them no faster keeps
    # the load of the start what it will be all day (the sources resuming already carry theirs).
    steady = sum(1 / s.every.total_seconds() for s in waiting)
    window = max(spread.total_seconds(), len(waiting) / max(steady, START_RATE))
    for s in waiting:
        due[s.name] = now + timedelta(seconds=rng.uniform(0, min(window, s.every.total_seconds())))
    return due


class SteadyInterval(IntervalTrigger):  # type: ignore[misc]
    """An interval trigger whose jitter does not drift: each run is a fixed grid point (start +
    n intervals) plus its own jitter. APScheduler 3 adds the interval to the previous run's
    jittered time, so with `jitter = 0.1` every run came half the jitter later than the last,
    5% of the interval each time (72 minutes a day for an hourly source)."""

    def __init__(
        self, seconds: int, start: datetime, jitter: int | None, rng: random.Random
    ) -> None:
        super().__init__(seconds=seconds, start_date=start, timezone="UTC", jitter=jitter)
        self.rng = rng

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next grid point after the previous run (or from `now`), plus its jitter."""
        start, length = self.start_date.timestamp(), self.interval_length
        if previous_fire_time is None:
            after = max(now.timestamp() - start, 0.0)
            number = math.ceil(after / length)
        else:
            # The jitter is below one interval, so the floor finds the run's own grid point.
            number = math.floor((previous_fire_time.timestamp() - start) / length) + 1
        at = start + number * length + (self.rng.uniform(0, self.jitter) if self.jitter else 0)
        return datetime.fromtimestamp(at, tz=UTC)


def site_groups(sources: Sequence[Source]) -> dict[tuple[str, timedelta], list[Source]]:
    """Sources checked together: those of one host on the same interval."""
    groups: dict[tuple[str, timedelta], list[Source]] = {}
    for s in sources:
        groups.setdefault((s.host, s.every), []).append(s)
    return groups


class Daemon:
    """Runs checks on schedule until `stop()` or SIGTERM/SIGINT."""

    def __init__(
        self,
        config: Config,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        companions: Sequence[Companion] = (),
        worker: str | None = None,
        shared: bool | None = None,
    ) -> None:
        """`worker` names this worker (default $WATCHER_WORKER or host:pid); `shared` claims
        each site's lease before its pass and each sweep once for all workers (default: when
        the store is PostgreSQL, where several workers may run; one worker on SQLite holds the
        file lock and needs no claims)."""
        self.config = config
        self.worker = worker_name(worker)
        self.shared = shared
        self.claims: Claims | None = None
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - spreading start times, not secrets
        self.companions = tuple(companions)
        self._stop = asyncio.Event()
        self._inflight: set[asyncio.Task[object]] = set()
        self._every: dict[str, timedelta] = {}  # a host's shortest interval

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            async with open_runtime(self.config, self.clock) as rt:
                # A daemon will classify: read the model now, not in the middle of its first
                # change's check (`watcher check` reads it only if a change comes).
                rt.checker.classifier.warm()
                self.join(rt)
                scheduler = self._schedule(rt)
                scheduler.start()
                beside = [asyncio.ensure_future(c(self._stop)) for c in self.companions]
                log.info("daemon started", extra={"sources": len(self.config.sources)})
                await self._stop.wait()
                log.info("stopping: letting checks in flight finish")
                scheduler.shutdown(wait=False)
                await self._drain()
                try:
                    self._claims(rt).release_all()
                except StoreError as exc:  # the leases then run out on their own
                    log.error("site leases not released", extra={"error": str(exc)})
                if beside:
                    await asyncio.wait(beside, timeout=SHUTDOWN_GRACE)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("daemon stopped")

    def join(self, rt: Runtime) -> Claims:
        """Join the workers sharing rt's store: the first beat, and the claims this worker holds."""
        shared = rt.store.engine == "postgresql" if self.shared is None else self.shared
        beat = rt.config.settings.heartbeat_every
        self.claims = Claims(rt.store, self.worker, shared, beat)
        self.claims.join(self.clock())
        rt.deliverer.owner = self.worker
        return self.claims

    def _claims(self, rt: Runtime) -> Claims:
        return self.claims if self.claims is not None else self.join(rt)

    def _schedule(self, rt: Runtime) -> AsyncIOScheduler:
        now = self.clock()
        # Publications a listing follows join at start; those followed later, at the next start.
        sources = [*self.config.sources, *followed(rt)]
        last = {s.name: rt.store.state(s.name).last_check_at for s in sources}
        first = first_run_times(sources, last, now, self.rng)
        scheduler = AsyncIOScheduler(timezone="UTC")
        jitter = self.config.settings.jitter
        for (host, every), group in site_groups(sources).items():
            self._every[host] = min(every, self._every.get(host, every))
            seconds = int(every.total_seconds())
            start = min(first[s.name] for s in group)
            scheduler.add_job(
                self._tracked,
                SteadyInterval(seconds, start, int(seconds * jitter) or None, self.rng),
                args=[self._check, rt, group],
                id=f"site:{host}:{seconds}",
                next_run_time=start,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=seconds,
            )
            log.debug(
                "scheduled",
                extra={"host": host, "sources": len(group), "next_run": iso(start)},
            )
        scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=int(OUTBOX_EVERY.total_seconds())),
            args=[self._deliver, rt],
            id="outbox",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self._heartbeat,
            IntervalTrigger(seconds=rt.config.settings.heartbeat_every.total_seconds()),
            args=[rt],
            id="heartbeat",
            next_run_time=now,
            coalesce=True,
        )
        scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=int(RETENTION_EVERY.total_seconds())),
            args=[self._prune, rt],
            id="retention",
            # After the start-up checks, so a restart does not begin with a long delete.
            next_run_time=now + STARTUP_SPREAD,
            max_instances=1,
            coalesce=True,
        )
        return scheduler

    async def _tracked(self, fn: object, *args: object) -> None:
        """Run a job as a task we can wait for at shutdown."""
        if self._stop.is_set():
            return
        task = asyncio.ensure_future(fn(*args))  # type: ignore[operator]
        self._inflight.add(task)
        try:
            await asyncio.shield(task)
        finally:
            self._inflight.discard(task)

    async def _check(self, rt: Runtime, sources: Sequence[Source]) -> None:
        """One pass over a site's sources: observed together, so template churn across its pages
        is learned before any page is judged, and a site-wide change is one storm, not many.
        Shared, it runs only under the site's lease (else another worker has it, or it is not
        due yet), and the site is due again about an interval after the pass began."""
        claims, host, started = self._claims(rt), sources[0].host, self.clock()
        egress = self.config.settings.egress
        lease = pass_lease(len(sources), egress.per_host_gap, egress.per_host_concurrency)
        if not self._reconnect(rt):
            return
        try:
            if not claims.claim_site(host, started, lease):
                log.debug("site skipped: held by another worker or not due", extra={"host": host})
                return
        except StoreError as exc:
            log.error("site not claimed", extra={"host": host, "error": str(exc)})
            return
        try:
            await run_pass(rt.checker, sources, claims.name if claims.shared else None)
            claims.once(
                "staleness", SWEEP_EVERY, self.clock(), lambda: queue_staleness(rt, self.clock)
            )
            await rt.deliverer.deliver_due()
        except StoreError as exc:
            # The daemon keeps running: the next pass tries again once space is back.
            names = ", ".join(s.name for s in sources)
            log.error("state not written", extra={"source": names, "error": str(exc)})
        finally:
            # The shortest interval of the host's groups: they share its lease and its due time.
            every = self._every.get(host, min(s.every for s in sources))
            self._release(rt, claims, host, due_again(started, every, self.config.settings.jitter))

    def _release(self, rt: Runtime, claims: Claims, host: str, next_due: datetime) -> None:
        try:
            claims.note_hold(host, rt.checker.egress.held(host), self.clock())
            claims.release_site(host, next_due)
        except StoreError as exc:
            log.error("site not released", extra={"host": host, "error": str(exc)})

    def _reconnect(self, rt: Runtime) -> bool:
        """A connection lost to the database (restarted, unreachable) is reopened at the next
        job that uses it; False while the database cannot be reached (the job waits its turn)."""
        try:
            if rt.store.reconnect():
                log.info("reconnected to the database")
        except StoreError as exc:
            log.error("database unreachable", extra={"error": str(exc)})
            return False
        return True

    async def _deliver(self, rt: Runtime) -> None:
        if not self._reconnect(rt):
            return
        claims, now = self._claims(rt), self.clock()
        try:
            claims.once("reminders", SWEEP_EVERY, now, lambda: queue_reminders(rt, self.clock))
            claims.once("staleness", SWEEP_EVERY, now, lambda: queue_staleness(rt, self.clock))
        except StoreError as exc:
            log.error("reminders or staleness not checked", extra={"error": str(exc)})
        try:
            await rt.deliverer.deliver_due()
        except Exception as exc:
            if not isinstance(exc, (StoreError, *DatabaseError)):
                raise
            # A read on a connection lost since the job began: one line, and the next job
            # reconnects.
            log.error("alerts not delivered", extra={"error": str(exc)})

    async def _heartbeat(self, rt: Runtime) -> None:
        now = self.clock()
        if not self._reconnect(rt):
            return
        try:
            rt.store.set_meta(HEARTBEAT_KEY, iso(now))
            self._claims(rt).beat(now)
        except StoreError as exc:
            log.error("worker heartbeat not written", extra={"error": str(exc)})

    async def _prune(self, rt: Runtime) -> None:
        settings, now = self.config.settings, self.clock()
        try:
            pruned = self._claims(rt).once(
                "retention",
                RETENTION_EVERY,
                now,
                lambda: retention(rt.store, now, settings.keep_checks, settings.keep_snapshots),
            )
        except StoreError as exc:
            log.error("retention not run", extra={"error": str(exc)})
            return
        if pruned is None:
            return  # another worker pruned today
        log.info("retention", extra={"checks": pruned.checks, "snapshots": pruned.snapshots})

    async def _drain(self) -> None:
        pending = set(self._inflight)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
        # A late task is still fetching: cancelling it loses nothing, since rows are written in one
        # transaction only after the fetch is done.
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=2.0)
