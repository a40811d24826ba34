"""What a check reads and writes: source state, snapshots, learned evidence, and its one transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from watcher.models import (
    CheckResult,
    Deadline,
    Delivery,
    Publication,
    Snapshot,
    Source,
    SourceState,
    Validators,
)
from watcher.notify.policy import Health, health_change
from watcher.store import snapshots
from watcher.store.changes import insert_change
from watcher.store.codec import iso, parse_iso
from watcher.store.engine import Db
from watcher.store.publications import PublicationStore


class CheckStore(PublicationStore):
    """The rows of checks: read before a check, written by it in one transaction."""

    def sync_sources(self, sources: Sequence[Source], now: datetime) -> None:
        """Make sure each configured source has a row; existing state is kept, except that a
        source read as another kind than before (a GOV.UK page now read through its API) starts
        from a new baseline: text read another way is not a change of the page."""
        with self.transaction() as c:
            for s in sources:
                c.execute(
                    "UPDATE sources SET snapshot_hash = NULL, body_hash = NULL, etag = NULL, "
                    "last_modified = NULL, baseline_at = NULL "
                    "WHERE name = ? AND coalesce(kind, 'page') != ?",
                    (s.name, s.kind),
                )
                c.execute(
                    "INSERT INTO sources (name, url, tags, added_at, kind) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET url = excluded.url, tags = excluded.tags, "
                    "kind = excluded.kind",
                    (s.name, s.url, json.dumps(list(s.tags)), iso(now), s.kind),
                )

    def state(self, name: str) -> SourceState:
        row = self.conn.execute(
            "SELECT etag, last_modified, body_hash, snapshot_hash, last_check_at, error_streak "
            "FROM sources WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return SourceState()
        return SourceState(
            validators=Validators(etag=row[0], last_modified=row[1]),
            body_hash=row[2],
            snapshot_hash=row[3],
            last_check_at=parse_iso(row[4]),
            error_streak=row[5],
        )

    def snapshot(self, digest: str) -> Snapshot | None:
        return snapshots.read(self.conn, digest)

    def learned(self, name: str) -> tuple[int, dict[str, float]]:
        """A source's comparison count and its slots' replacement counts."""
        row = self.conn.execute(
            "SELECT comparisons FROM sources WHERE name = ?", (name,)
        ).fetchone()
        slots = dict(
            self.conn.execute(
                "SELECT key, seen FROM volatility WHERE scope = ?", (f"source:{name}",)
            ).fetchall()
        )
        return (row[0] if row else 0), slots

    def host_evidence(self, host: str) -> dict[str, tuple[float, float]]:
        """A site's template evidence: element path -> (pages seen, pages that turned it over)."""
        rows = self.conn.execute(
            "SELECT key, seen, churned FROM volatility WHERE scope = ?", (f"host:{host}",)
        ).fetchall()
        return {key: (seen, churned) for key, seen, churned in rows}

    def save_host_evidence(
        self,
        host: str,
        evidence: Mapping[str, tuple[float, float]],
        forget: Sequence[str] = (),
    ) -> None:
        with self.transaction() as c:
            c.executemany(
                "DELETE FROM volatility WHERE scope = ? AND key = ?",
                [(f"host:{host}", k) for k in forget],
            )
            c.executemany(
                "INSERT INTO volatility (scope, key, seen, churned) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(scope, key) DO UPDATE SET seen = excluded.seen, churned = excluded.churned",
                [(f"host:{host}", k, seen, churned) for k, (seen, churned) in evidence.items()],
            )

    def record(
        self,
        result: CheckResult,
        *,
        snapshot: Snapshot | None = None,
        validators: Validators | None = None,
        body_hash: str | None = None,
        targets: Sequence[str | Delivery] = (),
        slots: Mapping[str, float] | None = None,
        forget: Sequence[str] = (),
        comparisons: int | None = None,
        suppressed: int = 0,
        deadlines: Sequence[Deadline] = (),
        health: Health | None = None,
        publications: Sequence[Publication] = (),
        follow_max: int = 0,
    ) -> int | None:
        """Write one check's rows (check, snapshot, change, outbox, source state, and what a
        listing reported) in one transaction.

        Returns the id of the change, if the check found one (a listing's first new publication).
        """
        at = iso(result.started_at)
        with self.transaction() as c:
            if health is not None:
                self._health_alerts(c, result, health, at)
            check_id = c.execute(
                "INSERT INTO checks (source, started_at, duration_ms, status, bytes, outcome, "
                "error_reason, error, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    result.source,
                    at,
                    result.duration_ms,
                    result.status,
                    result.bytes,
                    result.outcome,
                    result.error_reason,
                    result.error,
                    suppressed,
                ),
            ).fetchone()[0]
            if result.outcome == "error":
                c.execute(
                    "UPDATE sources SET last_check_at = ?, last_outcome = 'error', last_error = ?, "
                    "error_streak = error_streak + 1 WHERE name = ?",
                    (at, result.error, result.source),
                )
                return None
            if snapshot is not None:
                snapshots.insert(c, snapshot, at)
            change_id = None
            if result.change is not None:
                deliveries = [
                    t if isinstance(t, Delivery) else Delivery(t, "immediate", result.started_at)
                    for t in targets
                ]
                change_id = insert_change(
                    c,
                    result.change,
                    check_id,
                    at,
                    deliveries,
                    deadlines,
                    suppressed,
                    snapshot=snapshot,
                )
            if publications:
                made = self._publications(c, result, check_id, publications, follow_max)
                change_id = change_id or (made[0] if made else None)
            sets = [
                "last_check_at = ?",
                "last_success_at = ?",
                "last_outcome = ?",
                "last_error = NULL",
                "error_streak = 0",
            ]
            args: list[Any] = [at, at, result.outcome]
            if validators is not None:
                sets += ["etag = ?", "last_modified = ?"]
                args += [validators.etag, validators.last_modified]
            if body_hash is not None:
                sets.append("body_hash = ?")
                args.append(body_hash)
            if snapshot is not None:
                sets.append("snapshot_hash = ?")
                args.append(snapshot.hash)
            if change_id is not None:
                sets.append("last_change_at = ?")
                args.append(at)
            if result.outcome == "baseline":
                sets.append("baseline_at = ?")  # staleness counts from here until a change
                args.append(at)
            if comparisons is not None:
                sets.append("comparisons = ?")
                args.append(comparisons)
            if slots:
                c.executemany(
                    "INSERT INTO volatility (scope, key, seen) VALUES (?, ?, ?) "
                    "ON CONFLICT(scope, key) DO UPDATE SET seen = excluded.seen",
                    [(f"source:{result.source}", k, v) for k, v in slots.items()],
                )
            if forget:
                c.executemany(
                    "DELETE FROM volatility WHERE scope = ? AND key = ?",
                    [(f"source:{result.source}", k) for k in forget],
                )
            c.execute(
                # Column names come from the fixed list above, never from input.
                f"UPDATE sources SET {', '.join(sets)} WHERE name = ?",  # noqa: S608
                (*args, result.source),
            )
            return change_id

    def _health_alerts(self, c: Db, result: CheckResult, health: Health, at: str) -> None:
        """Apply what the health policy decides, with the state read inside the transaction."""
        row = c.execute(
            "SELECT health, error_streak FROM sources WHERE name = ?", (result.source,)
        ).fetchone()
        if row is None:
            return
        change = health_change(
            row[0],
            row[1],
            result.outcome,
            result.status,
            result.error_reason,
            result.error,
            health.failing_after,
        )
        if change is None:
            return
        c.execute("UPDATE sources SET health = ? WHERE name = ?", (change.state, result.source))
        payload = json.dumps(change.payload)
        c.executemany(
            "INSERT INTO outbox (change_id, source, target, kind, payload, created_at, "
            "next_attempt_at) VALUES (NULL,?,?,'health',?,?,?)",
            [(result.source, t, payload, at, at) for t in health.targets],
        )
