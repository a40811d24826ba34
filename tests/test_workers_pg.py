"""The claiming SQL of watcher/store/workers.py and AlertStore.claim_due, run on a real PostgreSQL
with three workers at once (FOR UPDATE SKIP LOCKED), through a minimal stand-in for the
PostgreSQL engine (`?` written as `%s`, one transaction per block), until that engine lands and
tests/test_workers.py is parametrised over it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.test_workers import at_once
from watcher.notify.deliver import CLAIM_TTL
from watcher.store.alerts import AlertStore
from watcher.store.codec import iso
from watcher.store.schema_workers import PG_M014_WORKERS
from watcher.store.workers import WorkerStore

psycopg = pytest.importorskip("psycopg")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OUTBOX = """CREATE TABLE outbox (id bigserial PRIMARY KEY, change_id bigint, target text NOT NULL,
    attempts integer NOT NULL DEFAULT 0, kind text NOT NULL, deadline_id bigint, days integer,
    mode text, source text, payload text, status text NOT NULL DEFAULT 'pending',
    created_at text NOT NULL, next_attempt_at text NOT NULL, sent_at text, last_error text,
    claimed_by text, claimed_at text)"""


class Statements:
    """What the store parts call on `self.conn`, over one psycopg connection."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.db.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Any) -> None:
        with self.db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)


class PgWorker(WorkerStore, AlertStore):
    engine = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:  # no SQLite file, no migrations
        self.conn = Statements(url)  # type: ignore[assignment]

    @contextmanager
    def transaction(self) -> Iterator[Any]:  # type: ignore[override]
        with self.conn.db.transaction():  # type: ignore[attr-defined]
            yield self.conn

    @contextmanager
    def batch(self) -> Iterator[None]:  # type: ignore[override]
        with self.transaction():
            yield


@pytest.fixture
def pg_workers(postgres_db: str) -> Iterator[list[PgWorker]]:
    with psycopg.connect(postgres_db, autocommit=True) as db:
        for statement in [*PG_M014_WORKERS.split(";"), OUTBOX]:
            if statement.strip():
                db.execute(statement)
    workers = [PgWorker(postgres_db) for _ in range(3)]
    yield workers
    for w in workers:
        w.conn.db.close()  # type: ignore[attr-defined]


def test_sites_jobs_and_holds_on_postgresql(pg_workers: list[PgWorker]) -> None:
    sites = [f"host{i}.example" for i in range(90)]
    until = NOW + timedelta(minutes=5)
    for _ in range(3):  # a few rounds: three claimers meeting in the same rows
        got = at_once(
            [
                lambda w=w, n=n: w.claim_sites(n, sites, NOW, until)  # type: ignore[misc]
                for n, w in zip("abc", pg_workers, strict=True)
            ]
        )
        assert sorted(s for g in got for s in g) == sorted(sites)
        for n, w, g in zip("abc", pg_workers, got, strict=True):
            for s in g:
                assert w.release_site(n, s, None)
    a, b, _ = pg_workers
    a.beat("a", NOW)
    a.beat("a", NOW + timedelta(seconds=30))
    assert b.workers_seen() == {"a": NOW + timedelta(seconds=30)}
    assert a.claim_sites("a", ["one"], NOW, until) == ["one"]
    assert a.renew("a", ["one"], NOW + timedelta(hours=1)) == 1
    with a.batch():
        a.ensure_holds("a", ["one"], NOW)
    assert b.release_site("b", "one", NOW) is False
    a.hold("one", NOW + timedelta(minutes=10))
    a.hold("one", NOW + timedelta(minutes=1))
    assert b.holds("one") == NOW + timedelta(minutes=10)
    assert a.free_claims(keep="b") == 1
    won = at_once(
        [
            lambda w=w, n=n: [w.claim_job("digest", "2026-03-02", n, NOW, until)]  # type: ignore[misc]
            for n, w in zip("abc", pg_workers, strict=True)
        ]
    )
    assert sum(1 for (x,) in won if x) == 1


def test_outbox_claims_on_postgresql_never_overlap(pg_workers: list[PgWorker]) -> None:
    first = pg_workers[0]
    with first.transaction() as c:
        c.executemany(
            "INSERT INTO outbox (target, kind, source, created_at, next_attempt_at) "
            "VALUES (?, 'health', 's', ?, ?)",
            [(f"t{t}", iso(NOW), iso(NOW)) for _ in range(4) for t in range(40)],
        )

    def drain(store: PgWorker, name: str) -> list[list[Any]]:
        claims = []
        while got := store.claim_due(NOW, name, NOW, NOW - CLAIM_TTL, (), 3, NOW):
            claims.append(got)
            store.mark_sent([r.id for r in got], NOW)
        return claims

    got = at_once(
        [lambda w=w, n=n: drain(w, n) for n, w in zip("abc", pg_workers, strict=True)]  # type: ignore[misc]
    )
    ids = Counter(r.id for claims in got for claim in claims for r in claim)
    assert len(ids) == 160 and set(ids.values()) == {1}
    # Rows of a target are claimed together, as on SQLite.
    for claims in got:
        for claim in claims:
            assert set(Counter(r.target for r in claim).values()) == {4}
