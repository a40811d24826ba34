"""The figures the metrics endpoint shows, read in a few aggregate queries, and the totals of
pruned checks kept in `meta` so counters never run backwards (shared by ops.retention)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watcher.store.connection import Connection
from watcher.store.engine import Db

HEARTBEAT_KEY = "heartbeat"  # written by the daemon (scheduler.py) on every beat
PRUNED_KEY = "pruned_checks"  # per-outcome totals of pruned checks, so counters never go back
# Upper bounds of the fetch-duration histogram, in seconds (the +Inf bucket is implied).
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ALERT_STATUSES = ("pending", "sent", "dead")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    for outcome, totals in _check_totals(conn, "true", ()).items():
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
        last_check_at=parse_time(last),
        heartbeat_at=parse_time(store.meta(HEARTBEAT_KEY)),
    )


def _check_totals(conn: Db, where: str, args: tuple[Any, ...]) -> dict[str, CheckTotals]:
    # One scan gives every outcome's count, sum and histogram buckets.
    # Sums of CASE, not of comparisons: PostgreSQL does not sum booleans.
    buckets = ", ".join(
        f"sum(CASE WHEN duration_ms <= {round(bound * 1000)} THEN 1 ELSE 0 END)"
        for bound in DURATION_BUCKETS
    )
    sql = (
        f"SELECT outcome, count(*), coalesce(sum(duration_ms), 0), {buckets} "  # noqa: S608
        f"FROM checks WHERE {where} GROUP BY outcome"
    )
    return {
        str(row[0]): CheckTotals(int(row[1]), int(row[2]), tuple(int(n or 0) for n in row[3:]))
        for row in conn.execute(sql, args)
    }


def _pruned_totals(conn: Db) -> dict[str, CheckTotals]:
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
