"""Migration m014: the tables several workers share the work through (heartbeats, site leases,
a host's asked-for wait, once-per-period jobs). Registered on schema.py's `migrations`, after
schema_teams.py's; `PG_M014_WORKERS` is the same tables for PostgreSQL."""

from __future__ import annotations

from sqlite_utils import Database

from watcher.store.schema import _run, migrations

WORKERS_TABLES = """
CREATE TABLE workers (name TEXT PRIMARY KEY, started_at TEXT NOT NULL, seen_at TEXT NOT NULL);
CREATE TABLE site_claims (site TEXT PRIMARY KEY, worker TEXT, claimed_until TEXT,
    next_due TEXT);
CREATE TABLE host_holds (host TEXT PRIMARY KEY, not_before TEXT NOT NULL);
CREATE TABLE job_claims (job TEXT PRIMARY KEY, worker TEXT, claimed_until TEXT, done_for TEXT);
CREATE INDEX site_claims_worker ON site_claims(worker)
"""

# Every column is text (ISO timestamps compared as text, as the SQLite store does), so the
# statements are the same on both engines.
PG_M014_WORKERS = WORKERS_TABLES


@migrations()
def m014_workers(db: Database) -> None:
    # `workers`: a heartbeat row per worker, so another can tell its claims are abandoned;
    # `site_claims`: one lease per site (host), so a host's pages are in one worker's hands and
    # its politeness holds across workers; `host_holds`: a 429/503's not-before, which must
    # outlive a claim; `job_claims`: a digest, sweep or prune produced once per period.
    _run(db, WORKERS_TABLES)
