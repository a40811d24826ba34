"""Operating the state database: health, backup, retention, integrity and the figures metrics show.

Each takes an open store (and `now` where time matters) and is shared by the CLI, the daemon and
the web app.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher.errors import StoreError
from watcher.store import snapshots
from watcher.store.codec import iso
from watcher.store.connection import Connection
from watcher.store.schema import DB_NAME, migrations

if TYPE_CHECKING:
    from watcher.store import Store

HEARTBEAT_KEY = "heartbeat"  # written by the daemon (scheduler.py) on every beat
PROBE_KEY = "health_probe"  # rewritten by each health check, proving a write commits
PRUNED_KEY = "pruned_checks"  # per-outcome totals of pruned checks, so counters never go back
PROBE_WAIT = 5.0  # seconds a health check waits for another writer before calling it stuck
DAMAGED_FIX = "restore from a backup made by `watcher backup`, or move the file aside"
# Upper bounds of the fetch-duration histogram, in seconds (the +Inf bucket is implied).
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ALERT_STATUSES = ("pending", "sent", "dead")


def default_max_age(heartbeat_every: timedelta) -> timedelta:
    """How old a heartbeat may be before the daemon counts as stuck: three beats, at least 2 min."""
    return max(3 * heartbeat_every, timedelta(minutes=2))


def open_store(state_dir: Path) -> Store:
    """`Store.open`, with a damaged file reported as one line naming the fix."""
    from watcher.store import Store  # the whole store, built from the parts that import this

    try:
        return Store.open(state_dir)
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
    except sqlite3.DatabaseError as exc:
        return HealthReport(
            ok=False,
            reasons=[str(_damaged(store.path, str(exc)))],
            max_age_seconds=max_age.total_seconds(),
        )
    beat_at = _parse_time(beat)
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
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (PROBE_KEY, iso(now))
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


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- integrity, backup and migrations ------------------------------------------------------------


def integrity(store: Connection) -> None:
    """`PRAGMA quick_check`; a damaged database raises StoreError naming the problem and the fix."""
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


def schema_on_disk(state_dir: Path) -> int:
    """How many migrations the database file has had, read without migrating it (0 if none)."""
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


# --- figures for metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckTotals:
    """Checks of one outcome: how many, their summed duration, and cumulative bucket counts."""

    count: int
    sum_ms: int
    buckets: tuple[int, ...]  # checks at or under each DURATION_BUCKETS bound

    @classmethod
    def empty(cls) -> CheckTotals:
        return cls(0, 0, (0,) * len(DURATION_BUCKETS))

    def plus(self, other: CheckTotals) -> CheckTotals:
        return CheckTotals(
            self.count + other.count,
            self.sum_ms + other.sum_ms,
            tuple(a + b for a, b in zip(self.buckets, other.buckets, strict=True)),
        )


@dataclass(frozen=True)
class Figures:
    """What the metrics endpoint shows, read in a few aggregate queries."""

    checks: dict[str, CheckTotals]
    changes: dict[str, int]
    alerts: dict[str, int]
    sources_failing: int
    last_check_at: datetime | None
    heartbeat_at: datetime | None


def figures(store: Connection) -> Figures:
    """Totals since the database was created (pruned checks included), read at call time."""
    conn = store.conn
    checks = _pruned_totals(conn)
    for outcome, totals in _check_totals(conn, "1", ()).items():
        checks[outcome] = checks.get(outcome, CheckTotals.empty()).plus(totals)
    changes = {
        str(category): int(n)
        for category, n in conn.execute(
            "SELECT coalesce(category, 'none'), count(*) FROM changes GROUP BY 1"
        )
    }
    alerts = dict.fromkeys(ALERT_STATUSES, 0)
    for status, n in conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"):
        alerts[str(status)] = int(n)
    failing = conn.execute("SELECT count(*) FROM sources WHERE error_streak > 0").fetchone()[0]
    last = conn.execute("SELECT max(last_check_at) FROM sources").fetchone()[0]
    return Figures(
        checks=checks,
        changes=changes,
        alerts=alerts,
        sources_failing=int(failing),
        last_check_at=_parse_time(last),
        heartbeat_at=_parse_time(store.meta(HEARTBEAT_KEY)),
    )


def _check_totals(
    conn: sqlite3.Connection, where: str, args: tuple[Any, ...]
) -> dict[str, CheckTotals]:
    # One scan gives every outcome's count, sum and histogram buckets.
    buckets = ", ".join(f"sum(duration_ms <= {round(bound * 1000)})" for bound in DURATION_BUCKETS)
    sql = (
        f"SELECT outcome, count(*), coalesce(sum(duration_ms), 0), {buckets} "  # noqa: S608
        f"FROM checks WHERE {where} GROUP BY outcome"
    )
    return {
        str(row[0]): CheckTotals(int(row[1]), int(row[2]), tuple(int(n or 0) for n in row[3:]))
        for row in conn.execute(sql, args)
    }


def _pruned_totals(conn: sqlite3.Connection) -> dict[str, CheckTotals]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (PRUNED_KEY,)).fetchone()
    if row is None:
        return {}
    data = json.loads(row[0])
    same_buckets = data.get("bounds") == list(DURATION_BUCKETS)
    totals = {}
    for outcome, t in data.get("outcomes", {}).items():
        # Totals kept under other bucket bounds still count; only their bucket split is lost.
        buckets = tuple(t["buckets"]) if same_buckets else (0,) * len(DURATION_BUCKETS)
        totals[outcome] = CheckTotals(int(t["count"]), int(t["sum_ms"]), buckets)
    return totals


def _dump_totals(totals: dict[str, CheckTotals]) -> str:
    return json.dumps(
        {
            "bounds": list(DURATION_BUCKETS),
            "outcomes": {
                outcome: {"count": t.count, "sum_ms": t.sum_ms, "buckets": list(t.buckets)}
                for outcome, t in sorted(totals.items())
            },
        }
    )
