"""The outbox: alerts queued by checks and reminders, claimed, sent, retried or dead."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from watcher.notify.policy import reminder_window
from watcher.rows import OutboxRow
from watcher.store.codec import iso, rows
from watcher.store.connection import Connection


class AlertStore(Connection):
    """Alert rows: claimed by one sender at a time, each settled as sent, retrying or dead."""

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        rows = self.conn.execute(
            "SELECT id, change_id, target, attempts, kind, deadline_id, days, mode, source, payload "
            "FROM outbox "
            "WHERE status = 'pending' "
            "AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (iso(now), limit),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def claimants(self) -> list[str]:
        """Who holds claims on unsent alerts (normally nobody between deliveries)."""
        rows = self.conn.execute(
            "SELECT DISTINCT claimed_by FROM outbox "
            "WHERE status = 'pending' AND claimed_by IS NOT NULL"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def claim_due(
        self,
        due_by: datetime,
        owner: str,
        now: datetime,
        stale_before: datetime,
        gone: Sequence[str] = (),
        limit: int = 100,
        silent_before: datetime | None = None,
    ) -> list[OutboxRow]:
        """Claim, in one statement, the pending rows due by `due_by` that no other sender holds
        (a claim older than `stale_before`, by an owner in `gone`, or by a worker not seen since
        `silent_before` is free again), for at most `limit` targets.

        A target's due rows are claimed together, and none of a target another sender is
        working on: its digest or storm summary is one message, sent by one worker."""
        gone = list(gone)
        free = (
            "(claimed_by IS NULL OR claimed_by = ? OR claimed_at < ? "  # noqa: S608 (placeholders and fixed clauses)
            "OR claimed_by IN (SELECT name FROM workers WHERE seen_at < ?)"
            + (f" OR claimed_by IN ({', '.join('?' for _ in gone)})" if gone else "")
            + ")"
        )
        free_args = (owner, iso(stale_before), iso(silent_before) if silent_before else "", *gone)
        due = "status = 'pending' AND next_attempt_at <= ?"
        with self.transaction() as c:
            # Claimers take turns (the upsert locks one row until commit; SQLite's BEGIN
            # IMMEDIATE does it already): rows are locked one by one as a claim scans them,
            # so two claimers at once could each take part of one target's rows.
            c.execute(
                "INSERT INTO job_claims (job) VALUES ('outbox claims') "
                "ON CONFLICT(job) DO UPDATE SET worker = job_claims.worker"
            )
            rows = c.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id IN ("  # noqa: S608 (placeholders and fixed clauses)
                f"SELECT id FROM outbox WHERE {due} AND {free} AND target IN ("
                f"SELECT target FROM outbox WHERE {due} AND {free} "
                "GROUP BY target ORDER BY min(id) LIMIT ?) "
                f"AND target NOT IN (SELECT target FROM outbox WHERE status = 'pending' "
                f"AND NOT {free}) ORDER BY id{self.skip_locked}) "
                "RETURNING id, change_id, target, attempts, kind, deadline_id, days, mode, "
                "source, payload",
                (
                    owner,
                    iso(now),
                    iso(due_by),
                    *free_args,
                    iso(due_by),
                    *free_args,
                    limit,
                    *free_args,
                ),
            ).fetchall()
        return sorted((OutboxRow(*r) for r in rows), key=lambda r: r.id)

    def queue_reminders(self, now: datetime, days: Sequence[int], targets: Sequence[str]) -> int:
        """Queue one reminder per target for each deadline entering a reminder window; returns
        how many deadlines got one. Each window (7 days, 1 day...) is used once per deadline."""
        today = now.astimezone(UTC).date()
        queued = 0
        with self.transaction() as c:
            rows = c.execute(
                "SELECT id, change_id, due, reminded, created_at FROM deadlines WHERE due >= ?",
                (today.isoformat(),),
            ).fetchall()
            for deadline_id, change_id, due, reminded_json, created_at in rows:
                window, done = reminder_window(
                    datetime.fromisoformat(due).date(),
                    today,
                    datetime.fromisoformat(created_at).astimezone(UTC).date(),
                    days,
                    json.loads(reminded_json),
                )
                if window is not None:
                    at = iso(now)
                    c.executemany(
                        "INSERT INTO outbox (change_id, target, kind, deadline_id, days, "
                        "created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?) "
                        "ON CONFLICT DO NOTHING",
                        [(change_id, t, "reminder", deadline_id, window, at, at) for t in targets],
                    )
                    queued += 1
                c.execute(
                    "UPDATE deadlines SET reminded = ? WHERE id = ?",
                    (json.dumps(done), deadline_id),
                )
        return queued

    def outbox(self, status: str | None = None, limit: int | None = None) -> list[OutboxRow]:
        """Alert rows, oldest first (newest first when a limit is given)."""
        sql = "SELECT * FROM outbox"
        args: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY id" + (f" DESC LIMIT {int(limit)}" if limit else "")
        return rows(OutboxRow, self.conn.execute(sql, args))

    def retry(self, outbox_id: int, now: datetime) -> bool:
        """Send a dead (or waiting) alert again on the next delivery, with a fresh set of tries."""
        with self.transaction() as c:
            done = c.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND status != 'sent'",
                (iso(now), outbox_id),
            ).rowcount
        return bool(done)

    def mark_sent(self, outbox_ids: int | Sequence[int], now: datetime) -> None:
        """Rows sent together (a digest, a storm summary) are marked in one transaction."""
        ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
        with self.transaction() as c:
            c.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
                [(iso(now), i) for i in ids],
            )

    def mark_failed(
        self, outbox_ids: int | Sequence[int], error: str, next_attempt: datetime, dead: bool
    ) -> None:
        ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
        with self.transaction() as c:
            c.executemany(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
                [("dead" if dead else "pending", error, iso(next_attempt), i) for i in ids],
            )
