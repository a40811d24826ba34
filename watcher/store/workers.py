"""Sharing the work between workers: heartbeats, site leases, a host's asked-for wait, and jobs
produced once per period.

A lease is a row claimed in one short statement (`UPDATE … WHERE key IN (SELECT … {skip_locked})
RETURNING`), not a lock held through the work: it outlives the transaction, expires when its
worker dies (or stops beating), and is renewed by the worker's heartbeat for long work. Times are
ISO text compared as text; `now` and every deadline are computed by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from watcher.errors import ClaimLost
from watcher.store.codec import iso, parse_iso
from watcher.store.connection import Connection


def marks(values: Sequence[object]) -> str:
    """`?, ?, ?` for an IN list of `values` (never empty: callers return early)."""
    return ", ".join("?" for _ in values)


class WorkerStore(Connection):
    """Heartbeat rows, site claims, host holds and job claims."""

    def beat(self, worker: str, now: datetime) -> None:
        """Say `worker` is alive: its claims stay its own while it beats."""
        at = iso(now)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO workers (name, started_at, seen_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET seen_at = excluded.seen_at",
                (worker, at, at),
            )

    def workers_seen(self) -> dict[str, datetime]:
        """When each worker last beat."""
        rows = self.conn.execute("SELECT name, seen_at FROM workers").fetchall()
        return {str(name): datetime.fromisoformat(seen) for name, seen in rows}

    def claim_sites(
        self,
        worker: str,
        sites: Sequence[str],
        now: datetime,
        until: datetime,
        silent_before: datetime | None = None,
    ) -> list[str]:
        """Claim those of `sites` that are due (by the shared next_due), not held by a live
        worker, and not asked by their host to wait; the lease runs to `until`. A holder whose
        lease expired, or that has not beaten since `silent_before`, has lost its claim."""
        if not sites:
            return []
        at = iso(now)
        silent = iso(silent_before) if silent_before is not None else ""
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO site_claims (site) VALUES (?) ON CONFLICT(site) DO NOTHING",
                [(s,) for s in sites],
            )
            claimed = c.execute(
                "UPDATE site_claims SET worker = ?, claimed_until = ? WHERE site IN ("  # noqa: S608 (placeholders and fixed clauses)
                f"SELECT site FROM site_claims WHERE site IN ({marks(sites)}) "
                "AND (worker IS NULL OR claimed_until < ? "
                "OR worker IN (SELECT name FROM workers WHERE seen_at < ?)) "
                "AND (next_due IS NULL OR next_due <= ?) "
                "AND NOT EXISTS (SELECT 1 FROM host_holds h "
                "WHERE h.host = site_claims.site AND h.not_before > ?)"
                f"{self.skip_locked}) RETURNING site",
                (worker, iso(until), *sites, at, silent, at, at),
            ).fetchall()
        return sorted(str(r[0]) for r in claimed)

    def renew(self, worker: str, sites: Sequence[str], until: datetime) -> int:
        """Extend `worker`'s leases on `sites` to `until`; how many it still held."""
        if not sites:
            return 0
        with self.transaction() as c:
            return int(
                c.execute(
                    "UPDATE site_claims SET claimed_until = ? "  # noqa: S608 (placeholders and fixed clauses)
                    f"WHERE worker = ? AND site IN ({marks(sites)})",
                    (iso(until), worker, *sites),
                ).rowcount
            )

    def release_site(self, worker: str, site: str, next_due: datetime | None) -> bool:
        """Give the site back, due again at `next_due` (unchanged when None); only if it is
        still `worker`'s, so a worker that lost it cannot move another's due time."""
        with self.transaction() as c:
            return bool(
                c.execute(
                    "UPDATE site_claims SET worker = NULL, claimed_until = NULL, "
                    "next_due = coalesce(?, next_due) WHERE site = ? AND worker = ?",
                    (iso(next_due) if next_due is not None else None, site, worker),
                ).rowcount
            )

    def free_claims(self, keep: str) -> int:
        """Free every site and job claim not held by `keep`: for a single worker that knows no
        other can be running (SQLite under its file lock), so a crashed run's leases do not
        hold its successor back until they expire."""
        with self.transaction() as c:
            sites = c.execute(
                "UPDATE site_claims SET worker = NULL, claimed_until = NULL "
                "WHERE worker IS NOT NULL AND worker != ?",
                (keep,),
            ).rowcount
            jobs = c.execute(
                "UPDATE job_claims SET worker = NULL, claimed_until = NULL "
                "WHERE worker IS NOT NULL AND worker != ?",
                (keep,),
            ).rowcount
        return int(sites) + int(jobs)

    def site_claims(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Each site's (worker, claimed_until, next_due), for tests and the operator."""
        rows = self.conn.execute(
            "SELECT site, worker, claimed_until, next_due FROM site_claims ORDER BY site"
        ).fetchall()
        return {str(r[0]): (r[1], r[2], r[3]) for r in rows}

    def still_holds(self, worker: str, sites: Sequence[str], now: datetime) -> bool:
        """True when `worker`'s leases on all `sites` are current. Called inside the write
        transaction of a check's outcome: on PostgreSQL the claim rows are locked until it
        commits, so a takeover waits for it rather than racing it."""
        if not sites:
            return True
        lock = " FOR UPDATE" if self.engine == "postgresql" else ""
        held = self.conn.execute(
            f"SELECT site FROM site_claims WHERE site IN ({marks(sites)}) "  # noqa: S608 (placeholders and fixed clauses)
            f"AND worker = ? AND claimed_until >= ?{lock}",
            (*sites, worker, iso(now)),
        ).fetchall()
        return len({r[0] for r in held}) == len(set(sites))

    def ensure_holds(self, worker: str, sites: Iterable[str], now: datetime) -> None:
        """Raise ClaimLost unless `worker` still holds every one of `sites` (see still_holds)."""
        sites = sorted(set(sites))
        if not self.still_holds(worker, sites, now):
            raise ClaimLost(
                f"{', '.join(sites)}: the lease of worker {worker!r} ran out during its pass and "
                "another worker may hold the site now; these checks were not written, and the "
                "site is checked again on its next pass"
            )

    def hold(self, host: str, not_before: datetime) -> None:
        """Record that `host` asked to be left alone until `not_before` (429/503 Retry-After);
        the later of two holds wins."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO host_holds (host, not_before) VALUES (?, ?) "
                "ON CONFLICT(host) DO UPDATE SET not_before = CASE "
                "WHEN excluded.not_before > host_holds.not_before "
                "THEN excluded.not_before ELSE host_holds.not_before END",
                (host, iso(not_before)),
            )

    def holds(self, host: str) -> datetime | None:
        """Until when `host` asked to be left alone, if it ever did."""
        row = self.conn.execute(
            "SELECT not_before FROM host_holds WHERE host = ?", (host,)
        ).fetchone()
        return parse_iso(row[0]) if row else None

    def claim_job(
        self,
        job: str,
        period: str,
        worker: str,
        now: datetime,
        until: datetime,
        silent_before: datetime | None = None,
    ) -> bool:
        """Claim `job` for `period` (a key that sorts in time order: an ISO date or time),
        unless it was done for this period or a later one, or a live worker holds it."""
        at = iso(now)
        silent = iso(silent_before) if silent_before is not None else ""
        with self.transaction() as c:
            c.execute("INSERT INTO job_claims (job) VALUES (?) ON CONFLICT(job) DO NOTHING", (job,))
            claimed = c.execute(
                "UPDATE job_claims SET worker = ?, claimed_until = ? WHERE job IN ("  # noqa: S608 (placeholders and fixed clauses)
                "SELECT job FROM job_claims WHERE job = ? "
                "AND (done_for IS NULL OR done_for < ?) "
                "AND (worker IS NULL OR claimed_until < ? "
                "OR worker IN (SELECT name FROM workers WHERE seen_at < ?))"
                f"{self.skip_locked}) RETURNING job",
                (worker, iso(until), job, period, at, silent),
            ).fetchall()
        return bool(claimed)

    def done_job(self, job: str, period: str, worker: str) -> bool:
        """Mark `job` done for `period` and free it; only while `worker` holds it."""
        with self.transaction() as c:
            return bool(
                c.execute(
                    "UPDATE job_claims SET done_for = ?, worker = NULL, claimed_until = NULL "
                    "WHERE job = ? AND worker = ?",
                    (period, job, worker),
                ).rowcount
            )

    def drop_job(self, job: str, worker: str) -> None:
        """Give a claimed job back undone (it failed): another worker, or the next tick, tries."""
        with self.transaction() as c:
            c.execute(
                "UPDATE job_claims SET worker = NULL, claimed_until = NULL "
                "WHERE job = ? AND worker = ?",
                (job, worker),
            )
