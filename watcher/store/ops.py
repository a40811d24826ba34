"""Operating the state database: health, backup, retention, integrity and the figures metrics show.

Each takes an open store (and `now` where time matters) and is shared by the CLI, the daemon and
the web app.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.errors import StoreError
from watcher.store import snapshots
from watcher.store.codec import iso
from watcher.store.connection import Connection
from watcher.store.engine import DatabaseError, PgConnection, PgError
from watcher.store.figures import (  # re-exported: callers read the figures from ops
    ALERT_STATUSES,
    DURATION_BUCKETS,
    HEARTBEAT_KEY,
    PRUNED_KEY,
    CheckTotals,
    Figures,
    _check_totals,
    _dump_totals,
    _pruned_totals,
    figures,
    parse_time,
)
from watcher.store.schema import DB_NAME, migrations

if TYPE_CHECKING:
    from watcher.store import Store

PROBE_KEY = "health_probe"  # rewritten by each health check, proving a write commits
PROBE_WAIT = 5.0  # seconds a health check waits for another writer before calling it stuck
DAMAGED_FIX = "restore from a backup made by `watcher backup`, or move the file aside"


def default_max_age(heartbeat_every: timedelta) -> timedelta:
    """How old a heartbeat may be before the daemon counts as stuck: three beats, at least 2 min."""
    return max(3 * heartbeat_every, timedelta(minutes=2))


def open_store(state_dir: Path, database: str | None = None) -> Store:
    """`Store.open` (the PostgreSQL database at `database` when given), with a damaged file
    reported as one line naming the fix."""
    from watcher.store import Store  # the whole store, built from the parts that import this

    try:
        return Store.open(state_dir, database)
    except sqlite3.DatabaseError as exc:  # OperationalError is already a StoreError
        raise _damaged(state_dir / DB_NAME, str(exc)) from None


def _damaged(path: Path, problem: str) -> StoreError:
    # quick_check heads its report with "*** in database main ***" and puts a problem per line.
    problem = " ".join(problem.replace("*** in database main ***", "").split())
    return StoreError(f"{path}: the database is damaged ({problem}); {DAMAGED_FIX}")


# --- health -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthReport:
    """Whether the daemon is alive and its database takes writes; `reasons` say what is wrong."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    heartbeat_at: str | None = None
    heartbeat_age_seconds: float | None = None
    max_age_seconds: float = 0.0
    writable: bool = False


def health(
    store: Connection,
    now: datetime,
    max_age: timedelta,
    probe_wait: float = PROBE_WAIT,
    keep_probe: bool = True,
) -> HealthReport:
    """Unhealthy when the scheduler's heartbeat is older than `max_age` or a write cannot commit."""
    reasons: list[str] = []
    try:
        beat = store.meta(HEARTBEAT_KEY)
    except DatabaseError as exc:
        reason = (
            f"{store.path}: cannot read the database ({exc}); check that PostgreSQL is running"
            if store.engine == "postgresql"
            else str(_damaged(store.path, str(exc)))
        )
        return HealthReport(
            ok=False,
            reasons=[reason],
            max_age_seconds=max_age.total_seconds(),
        )
    beat_at = parse_time(beat)
    age: float | None = None
    if beat is None:
        reasons.append("no heartbeat: the daemon (`watcher run`) has not run on this database")
    elif beat_at is None:
        reasons.append(f"heartbeat {beat!r} is not a time; the daemon rewrites it when it runs")
    else:
        age = (now - beat_at).total_seconds()
        if age > max_age.total_seconds():
            reasons.append(
                f"heartbeat is {age:.0f}s old (limit {max_age.total_seconds():.0f}s): "
                "the daemon is stopped or stuck; check its log and restart it"
            )
    if store.engine == "postgresql":
        writable, problem = _probe_postgres(store, now, probe_wait, keep_probe)
        if problem:
            reasons.append(f"database not writable: {problem}")
        return HealthReport(
            ok=not reasons,
            reasons=reasons,
            heartbeat_at=beat,
            heartbeat_age_seconds=age,
            max_age_seconds=max_age.total_seconds(),
            writable=writable,
        )
    writable = True
    previous = store.conn.execute("PRAGMA busy_timeout").fetchone()[0]
    # A stuck writer must make the check fail in seconds, not wait out the store's long timeout.
    store.conn.execute(f"PRAGMA busy_timeout = {int(probe_wait * 1000)}")
    try:
        if keep_probe:
            with store.transaction() as c:
                c.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (PROBE_KEY, iso(now)),
                )
        else:
            # A GET must change nothing: take the write lock and write, then roll back.
            try:
                store.conn.execute("BEGIN IMMEDIATE")
                store.conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (PROBE_KEY, iso(now)),
                )
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{store.path}: {exc}") from None
            finally:
                if store.conn.in_transaction:
                    store.conn.rollback()
    except StoreError as exc:
        writable = False
        reasons.append(f"database not writable: {exc}")
    finally:
        store.conn.execute(f"PRAGMA busy_timeout = {int(previous)}")
    return HealthReport(
        ok=not reasons,
        reasons=reasons,
        heartbeat_at=beat,
        heartbeat_age_seconds=age,
        max_age_seconds=max_age.total_seconds(),
        writable=writable,
    )


def _probe_postgres(
    store: Connection, now: datetime, probe_wait: float, keep_probe: bool
) -> tuple[bool, str]:
    """Commit (or, for a GET, roll back) a probe write, waiting at most `probe_wait` for a lock."""
    try:
        store.conn.execute("BEGIN")
        try:
            store.conn.execute(f"SET LOCAL lock_timeout = '{int(probe_wait * 1000)}ms'")
            store.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (PROBE_KEY, iso(now)),
            )
            if keep_probe:
                store.conn.commit()
        finally:
            store.conn.rollback()
    except DatabaseError as exc:
        return False, f"{store.path}: {exc}"
    return True, ""


# --- integrity, backup and migrations ------------------------------------------------------------


def integrity(store: Connection) -> None:
    """`PRAGMA quick_check`; a damaged database raises StoreError naming the problem and the fix.
    Nothing to check on PostgreSQL: the server owns its files."""
    if store.engine == "postgresql":
        return
    try:
        rows = [str(r[0]) for r in store.conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise _damaged(store.path, str(exc)) from None
    if rows != ["ok"]:
        more = f" and {len(rows) - 1} more problems" if len(rows) > 1 else ""
        raise _damaged(store.path, rows[0] + more)


@dataclass(frozen=True)
class Backup:
    path: Path
    bytes: int


def backup(store: Connection, dest: Path) -> Backup:
    """A consistent copy of the live database (VACUUM INTO), verified with `integrity_check`.

    Writers carry on meanwhile: the copy is one read transaction, so it holds the database as it
    was when the copy began. An existing file is never overwritten.
    """
    if store.engine == "postgresql":
        raise StoreError(
            f"{store.path}: a PostgreSQL database is backed up with PostgreSQL's own tool: "
            "pg_dump -Fc (and restored with pg_restore)"
        )
    if dest.exists():
        raise StoreError(f"{dest}: already exists; a backup never overwrites, choose a new name")
    if not dest.parent.is_dir():
        raise StoreError(f"{dest.parent}: no such directory; create it or choose another path")
    try:
        store.conn.execute("VACUUM INTO ?", (str(dest),))
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{dest}: backup failed ({exc}); check free space and permissions there"
        ) from None
    problems = _check_file(dest)
    if problems != ["ok"]:
        raise StoreError(
            f"{dest}: the backup fails its integrity check ({problems[0]}); "
            f"run `watcher health` on the live database and {DAMAGED_FIX}"
        )
    return Backup(path=dest, bytes=dest.stat().st_size)


def _check_file(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()


def schema_on_disk(state_dir: Path, database: str | None = None) -> int:
    """How many migrations the database has had, read without migrating it (0 if none)."""
    if database:
        from watcher.store.pg_migrate import applied

        try:
            server = PgConnection(database)
        except PgError as exc:
            raise StoreError(str(exc)) from None
        try:
            return len(applied(server))
        finally:
            server.close()
    path = state_dir / DB_NAME
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open it ({exc}); check its permissions") from None
    try:
        table = migrations.migrations_table
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone():
            return 0
        # The table name is sqlite-utils' constant, not input.
        row = conn.execute(
            f"SELECT count(*) FROM [{table}] WHERE migration_set = ?",  # noqa: S608
            (migrations.name,),
        ).fetchone()
        return int(row[0])
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from None
    finally:
        conn.close()


def latest_schema() -> int:
    return len(migrations._migrations)


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    checks: int
    snapshots: int


# Checks and snapshots that nothing refers to; a change's check and both its snapshots, and each
# source's current snapshot, are always kept.
_OLD_CHECKS = "started_at < ? AND id NOT IN (SELECT check_id FROM changes)"
_OLD_SNAPSHOTS = (
    "created_at < ? "
    "AND hash NOT IN (SELECT before_hash FROM changes) "
    "AND hash NOT IN (SELECT after_hash FROM changes) "
    "AND hash NOT IN (SELECT snapshot_hash FROM sources WHERE snapshot_hash IS NOT NULL)"
)


def retention(
    store: Connection, now: datetime, keep_checks: timedelta, keep_snapshots: timedelta
) -> Pruned:
    """Delete checks and snapshots older than their keep periods that no change refers to.

    One transaction. The pruned checks' totals are kept in `meta`, so the metrics counters
    built from the checks table never run backwards.
    """
    check_cutoff = iso(now - keep_checks)
    snapshot_cutoff = iso(now - keep_snapshots)
    with store.transaction() as c:
        gone = _check_totals(c, _OLD_CHECKS, (check_cutoff,))
        if gone:
            kept = _pruned_totals(c)
            for outcome, totals in gone.items():
                kept[outcome] = kept.get(outcome, CheckTotals.empty()).plus(totals)
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (PRUNED_KEY, _dump_totals(kept)),
            )
        checks = c.execute(
            f"DELETE FROM checks WHERE {_OLD_CHECKS}",  # noqa: S608 - a fixed clause
            (check_cutoff,),
        ).rowcount
        deleted = snapshots.delete(c, _OLD_SNAPSHOTS, (snapshot_cutoff,))
    return Pruned(checks=checks, snapshots=deleted)


__all__ = [
    "ALERT_STATUSES",
    "DURATION_BUCKETS",
    "HEARTBEAT_KEY",
    "PRUNED_KEY",
    "CheckTotals",
    "Figures",
    "figures",
]
