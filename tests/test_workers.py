"""Several workers sharing one state: site leases, outbox claims, host holds and jobs done once.

Workers are Store objects on one database (threads claiming at once), from the `open_worker`
fixture: each of those tests runs on SQLite and on PostgreSQL (where claims skip locked rows).
The daemon's end-to-end tests run on SQLite; tests/test_postgres_config.py runs the daemon on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import Clock, PageServer, html_page, write_config
from tests.engines import open_on
from watcher.claims import SILENT_AFTER, Claims, due_again, pass_lease, period_of
from watcher.config import load_config
from watcher.errors import ClaimLost
from watcher.notify.deliver import CLAIM_TTL
from watcher.rows import OutboxRow
from watcher.store import Store, iso

T = TypeVar("T")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OpenWorker = Callable[[], Store]


@pytest.fixture
def open_worker(tmp_path: Path, database: str | None) -> Iterator[OpenWorker]:
    """A new connection to the one shared state for each worker, on each engine (SQLite file,
    PostgreSQL database: tests/engines.py); all closed at the end."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(open_on(tmp_path, database))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def at_once(work: Sequence[Callable[[], T]]) -> list[T]:
    """Run each callable in its own thread, all released together; their results in order."""
    start = threading.Barrier(len(work))
    results: list[T | None] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work[i]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


def test_each_due_site_goes_to_exactly_one_of_three_workers(open_worker: OpenWorker) -> None:
    workers = [open_worker() for _ in range(3)]
    sites = [f"host{i}.example" for i in range(60)]
    got = at_once(
        [
            lambda w=w, n=n: w.claim_sites(n, sites, NOW, NOW + timedelta(minutes=5))  # type: ignore[misc]
            for n, w in zip(("a", "b", "c"), workers, strict=True)
        ]
    )
    claimed = [s for g in got for s in g]
    assert sorted(claimed) == sorted(sites)  # every site once: none twice, none lost
    held = workers[0].site_claims()
    for name, group in zip(("a", "b", "c"), got, strict=True):
        assert all(held[s][0] == name for s in group)
    # A second round at the same time finds every site held.
    assert workers[1].claim_sites("b", sites, NOW, NOW + timedelta(minutes=5)) == []


def test_an_expired_or_silent_lease_is_taken_over(open_worker: OpenWorker) -> None:
    a, b = open_worker(), open_worker()
    a.beat("a", NOW)
    assert a.claim_sites("a", ["one", "two"], NOW, NOW + timedelta(minutes=2)) == ["one", "two"]
    later = NOW + timedelta(minutes=1)
    assert (
        b.claim_sites("b", ["one"], later, later + timedelta(minutes=2), later - SILENT_AFTER) == []
    )
    # The lease ran out (a dies without a word): b takes the site on its next tick.
    expired = NOW + timedelta(minutes=3)
    assert b.claim_sites("b", ["one"], expired, expired + timedelta(minutes=2)) == ["one"]
    # A long lease is freed as soon as its worker stops beating, without waiting it out.
    assert a.renew("a", ["two"], NOW + timedelta(hours=1)) == 1
    silent = NOW + SILENT_AFTER + timedelta(seconds=1)
    assert b.claim_sites("b", ["two"], silent, silent + timedelta(minutes=2)) == []
    assert b.claim_sites("b", ["two"], silent, silent, silent - SILENT_AFTER) == ["two"]


def test_a_released_site_is_not_due_again_before_its_next_due(open_worker: OpenWorker) -> None:
    a, b = open_worker(), open_worker()
    assert a.claim_sites("a", ["site"], NOW, NOW + timedelta(minutes=5)) == ["site"]
    assert not b.release_site("b", "site", NOW)  # not b's to give back
    assert a.release_site("a", "site", NOW + timedelta(minutes=10))
    soon = NOW + timedelta(minutes=9)
    assert b.claim_sites("b", ["site"], soon, soon + timedelta(minutes=5)) == []
    due = NOW + timedelta(minutes=10)
    assert b.claim_sites("b", ["site"], due, due + timedelta(minutes=5)) == ["site"]


def test_a_worker_that_lost_its_lease_cannot_write(open_worker: OpenWorker) -> None:
    a, b = open_worker(), open_worker()
    a.claim_sites("a", ["site"], NOW, NOW + timedelta(minutes=1))
    a.ensure_holds("a", ["site"], NOW)
    stalled = NOW + timedelta(minutes=2)
    assert b.claim_sites("b", ["site"], stalled, stalled + timedelta(minutes=5)) == ["site"]
    with pytest.raises(ClaimLost, match="'a'"), a.batch():
        a.ensure_holds("a", ["site"], stalled)
    b.ensure_holds("b", ["site"], stalled)
    with pytest.raises(ClaimLost):  # expired, even with nobody else holding it yet
        a.ensure_holds("b", ["site"], stalled + timedelta(hours=1))


def test_a_host_hold_outlives_the_claim_and_the_later_hold_wins(open_worker: OpenWorker) -> None:
    a, b = open_worker(), open_worker()
    a.hold("slow.example", NOW + timedelta(minutes=10))
    a.hold("slow.example", NOW + timedelta(minutes=5))  # an earlier wait does not shorten it
    assert b.holds("slow.example") == NOW + timedelta(minutes=10)
    assert b.holds("other.example") is None
    soon = NOW + timedelta(minutes=9)
    assert b.claim_sites("b", ["slow.example"], soon, soon + timedelta(minutes=5)) == []
    after = NOW + timedelta(minutes=10, seconds=1)
    assert b.claim_sites("b", ["slow.example"], after, after) == ["slow.example"]


def _queue(store: Store, targets: int, per_target: int) -> None:
    with store.transaction() as c:
        c.executemany(
            "INSERT INTO outbox (target, kind, source, created_at, next_attempt_at) "
            "VALUES (?, 'health', 's', ?, ?)",
            [(f"t{t}", iso(NOW), iso(NOW)) for _ in range(per_target) for t in range(targets)],
        )


def test_concurrent_outbox_claims_never_overlap_and_keep_a_target_together(
    open_worker: OpenWorker,
) -> None:
    workers = [open_worker() for _ in range(3)]
    _queue(workers[0], targets=30, per_target=5)

    def drain(store: Store, name: str) -> list[list[OutboxRow]]:
        claims = []
        while got := store.claim_due(NOW, name, NOW, NOW - CLAIM_TTL, limit=2):
            claims.append(got)
            store.mark_sent([r.id for r in got], NOW)  # its own claims would be claimed again
        return claims

    got = at_once(
        [lambda w=w, n=n: drain(w, n) for n, w in zip("abc", workers, strict=True)]  # type: ignore[misc]
    )
    ids = Counter(r.id for claims in got for claim in claims for r in claim)
    assert len(ids) == 150 and set(ids.values()) == {1}
    # Each target's five rows came in one claim: its digest is one worker's message.
    for claims in got:
        for claim in claims:
            assert all(n == 5 for n in Counter(r.target for r in claim).values())


def test_a_target_being_sent_is_not_split_and_a_silent_worker_frees_its_claims(
    open_worker: OpenWorker,
) -> None:
    a, b = open_worker(), open_worker()
    a.beat("a", NOW)
    _queue(a, targets=2, per_target=1)
    assert [r.target for r in a.claim_due(NOW, "a", NOW, NOW - CLAIM_TTL, limit=1)] == ["t0"]
    _queue(a, targets=1, per_target=1)  # a new row for t0 while a is sending t0's
    took = b.claim_due(NOW, "b", NOW, NOW - CLAIM_TTL, silent_before=NOW - SILENT_AFTER)
    assert [r.target for r in took] == ["t1"]
    # a stops beating: its claim is free long before CLAIM_TTL, with t0's new row.
    later = NOW + SILENT_AFTER + timedelta(seconds=1)
    took = b.claim_due(later, "b", later, later - CLAIM_TTL, silent_before=later - SILENT_AFTER)
    assert sorted(r.target for r in took) == ["t0", "t0", "t1"]  # t1: its own, still unsent


def test_a_periodic_job_is_claimed_by_one_worker_once_per_period(open_worker: OpenWorker) -> None:
    workers = [open_worker() for _ in range(3)]
    until = NOW + timedelta(minutes=10)
    day = "2026-03-02"
    got = at_once(
        [
            lambda w=w, n=n: [w.claim_job("digest", day, n, NOW, until)]  # type: ignore[misc]
            for n, w in zip("abc", workers, strict=True)
        ]
    )
    winners = [n for n, (won,) in zip("abc", got, strict=True) if won]
    assert len(winners) == 1
    winner = winners[0]
    assert not workers[0].done_job("digest", day, "nobody")
    assert workers[0].done_job("digest", day, winner)
    assert not any(w.claim_job("digest", day, "a", NOW, until) for w in workers)
    assert workers[1].claim_job("digest", "2026-03-03", "b", NOW, until)
    # A job given back undone is claimed again in the same period.
    workers[1].drop_job("digest", "b")
    assert workers[2].claim_job("digest", "2026-03-03", "c", NOW, until)


def test_claims_are_free_for_one_worker_and_periods_sort_in_time() -> None:
    assert period_of(NOW + timedelta(seconds=29), timedelta(seconds=30)) == iso(NOW)
    assert period_of(NOW + timedelta(days=1), timedelta(days=1)) > iso(NOW)
    assert pass_lease(100, 2.0, 2) == timedelta(seconds=100) + pass_lease(0, 2.0, 2)
    every = timedelta(hours=1)
    assert NOW + every * 0.8 < due_again(NOW, every, 0.1) < NOW + every


def test_a_single_worker_claims_nothing_and_frees_a_crashed_runs_leases(
    open_worker: OpenWorker,
) -> None:
    store = open_worker()
    store.claim_sites("crashed:1", ["site"], NOW, NOW + timedelta(hours=1))
    store.claim_job("retention", "2026-03-01", "crashed:1", NOW, NOW + timedelta(hours=1))
    claims = Claims(store, "me:2", shared=False)
    claims.join(NOW)
    # Under SQLite's file lock no other worker can be alive; on PostgreSQL one may be.
    assert store.site_claims()["site"][0] == (None if store.engine == "sqlite" else "crashed:1")
    assert claims.claim_site("site", NOW, timedelta(minutes=1)) and not claims.held
    assert claims.once("retention", timedelta(days=1), NOW, lambda: "pruned") == "pruned"


def test_two_shared_daemons_check_each_site_once_and_alert_once(
    tmp_path: Path, site: PageServer, receiver: PageServer, database: str | None
) -> None:
    """Two workers on one state directory, through the daemon's own pass code: every site is
    checked by one of them per due time, each change recorded once and alerted once."""
    from watcher.runtime import open_runtime
    from watcher.scheduler import Daemon, site_groups

    hosts = ("127.0.0.1", "localhost")
    sources = []
    for h, host in enumerate(hosts):
        for p in range(4):
            path = f"/s{h}p{p}"
            site.set(path, html_page(f"Page {h}.{p}", [f"First text of page {h}.{p}."]))
            url = site.url(path).replace("127.0.0.1", host)
            sources.append({"name": f"s{h}p{p}", "url": url, "every": "1h"})
    config = load_config(
        write_config(tmp_path / "sources.toml", sources, [("hook", "HOOK")]),
        environ={
            "HOOK": f"json://127.0.0.1:{receiver.port}/hook",
            **({"WATCHER_DATABASE_URL": database} if database else {}),
        },
    )
    clock = Clock(NOW)
    one = Daemon(config, clock=clock, worker="one", shared=True)
    two = Daemon(config, clock=clock, worker="two", shared=True)
    groups = list(site_groups(config.sources).values())

    async def passes() -> None:
        async with open_runtime(config, clock) as rt1, open_runtime(config, clock) as rt2:
            one.join(rt1)
            two.join(rt2)
            for round in range(2):
                if round:
                    clock.advance(timedelta(hours=1))
                    # Their heartbeats ran meanwhile: a worker silent for an hour would be gone.
                    await one._heartbeat(rt1)
                    await two._heartbeat(rt2)
                    for h in range(len(hosts)):  # one page of each site changes
                        words = [f"First text of page {h}.0.", "Funding of 2m pounds is announced."]
                        site.set(f"/s{h}p0", html_page(f"Page {h}.0", words))
                # Each site goes first to one worker, then to the other: the due time and what
                # the site taught are shared, not kept by the worker that checked it last.
                workers = [(one, rt1), (two, rt2)]
                await asyncio.gather(
                    *(
                        d._check(rt, g)
                        for i, g in enumerate(groups)
                        for d, rt in (workers if (i + round) % 2 else workers[::-1])
                    )
                )
                # The site is not due again for the worker that did not take it.
                await asyncio.gather(*(two._check(rt2, g) for g in groups))
            await one._deliver(rt1)
            await two._deliver(rt2)

    asyncio.run(passes())
    store = open_on(tmp_path, database)
    try:
        checks = store.conn.execute("SELECT source, count(*) FROM checks GROUP BY source")
        assert dict(checks.fetchall()) == {s.name: 2 for s in config.sources}
        assert store.count("changes") == len(hosts)
        sent = store.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        assert dict(sent.fetchall()) == {"sent": len(hosts)}
        claims = store.site_claims()
        assert set(claims) == set(hosts) and all(w is None for w, _, _ in claims.values())
    finally:
        store.close()
    for s in config.sources:
        # One fetch per due time (a first change is fetched once more, to learn what varies).
        assert len(site.requests("/" + s.name, "GET")) == (3 if s.name.endswith("p0") else 2)
    posts = receiver.requests("/hook", "POST")
    assert len(posts) == len({p.body for p in posts}) == len(hosts)


def test_a_pass_without_the_sites_lease_writes_nothing(tmp_path: Path, site: PageServer) -> None:
    """The guard sits in the pass's own write: a worker whose lease was taken over (here: never
    held) gets ClaimLost and leaves no check behind; with the lease, the same pass writes."""
    from watcher.pipeline.passes import run_pass
    from watcher.runtime import open_runtime

    site.set("/page", html_page("Page", ["Text."]))
    config = load_config(
        write_config(tmp_path / "sources.toml", [{"name": "page", "url": site.url("/page")}])
    )
    clock = Clock(NOW)

    async def passes() -> int:
        async with open_runtime(config, clock) as rt:
            rt.store.claim_sites("other", ["127.0.0.1"], NOW, NOW + timedelta(minutes=5))
            with pytest.raises(ClaimLost):
                await run_pass(rt.checker, config.sources, worker="me")
            assert rt.store.count("checks") == 0
            clock.advance(timedelta(minutes=6))
            assert rt.store.claim_sites(
                "me", ["127.0.0.1"], clock(), clock() + timedelta(minutes=5)
            )
            await run_pass(rt.checker, config.sources, worker="me")
            return rt.store.count("checks")

    assert asyncio.run(passes()) == 1


def test_a_shared_workers_heartbeat_renews_its_leases_and_groups_share_one(
    open_worker: OpenWorker,
) -> None:
    store, other = open_worker(), open_worker()
    claims = Claims(store, "me", shared=True)
    claims.join(NOW)
    lease = timedelta(minutes=3)
    assert claims.claim_site("host", NOW, lease)
    assert claims.claim_site("host", NOW, lease)  # the host's second interval group joins it
    long_pass = NOW + timedelta(minutes=10)
    claims.beat(long_pass)
    assert not other.claim_sites("other", ["host"], long_pass, long_pass, long_pass - SILENT_AFTER)
    claims.release_site("host", NOW + timedelta(hours=1))
    assert store.site_claims()["host"][0] == "me"  # the first group's pass still runs
    claims.release_site("host", NOW + timedelta(hours=1))
    assert store.site_claims()["host"] == (None, None, iso(NOW + timedelta(hours=1)))
    assert claims.once("sweep", timedelta(seconds=30), NOW, lambda: 1) == 1
    assert (
        Claims(other, "other", shared=True).once("sweep", timedelta(seconds=30), NOW, lambda: 2)
        is None
    )


def test_a_hosts_asked_for_wait_is_shared_after_a_shared_pass(
    tmp_path: Path, site: PageServer
) -> None:
    from watcher.runtime import open_runtime
    from watcher.scheduler import Daemon

    site.set("/busy", "slow down", status=429, headers={"Retry-After": "600"})
    config = load_config(
        write_config(tmp_path / "sources.toml", [{"name": "busy", "url": site.url("/busy")}])
    )
    clock = Clock(NOW)
    daemon = Daemon(config, clock=clock, worker="one", shared=True)

    async def one_pass() -> None:
        async with open_runtime(config, clock) as rt:
            daemon.join(rt)
            await daemon._check(rt, list(config.sources))

    asyncio.run(one_pass())
    store = Store.open(tmp_path / "state")
    try:
        until = store.holds("127.0.0.1")
        assert until is not None
        assert NOW + timedelta(seconds=590) < until <= NOW + timedelta(seconds=600)
    finally:
        store.close()
