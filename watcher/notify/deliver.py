"""The outbox worker: sends due alerts through Apprise, with retries and backoff, until sent or dead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import apprise

from watcher.config import NotifyTarget
from watcher.notify.render import render_alert, render_reminder
from watcher.store import OutboxRow, Store

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0


@dataclass
class Deliverer:
    """Delivers pending outbox rows. Apprise is blocking, so each send runs in a worker thread."""

    store: Store
    targets: Mapping[str, NotifyTarget]
    clock: Callable[[], datetime] = _utcnow
    max_attempts: int = 8
    base_delay: timedelta = field(default=timedelta(seconds=30))
    # Checks finishing together each ask for delivery; one at a time, or a row is sent twice.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def deliver_due(self) -> DeliveryReport:
        async with self._lock:
            return await self._deliver_due()

    async def _deliver_due(self) -> DeliveryReport:
        report = DeliveryReport()
        for row in self.store.due_alerts(self.clock()):
            error = await self._send(row)
            if error is None:
                self.store.mark_sent(row.id, self.clock())
                report.sent += 1
                log.info("alert sent", extra={"target": row.target, "change_id": row.change_id})
                continue
            attempts = row.attempts + 1
            dead = attempts >= self.max_attempts
            delay = self.base_delay * (2 ** (attempts - 1))
            self.store.mark_failed(row.id, error, self.clock() + delay, dead)
            if dead:
                report.dead += 1
            else:
                report.retrying += 1
            log.warning(
                "alert not delivered",
                extra={
                    "target": row.target,
                    "change_id": row.change_id,
                    "attempts": attempts,
                    "error": error,
                    "dead": dead,
                },
            )
        return report

    async def _send(self, row: OutboxRow) -> str | None:
        """None on success, else a message that names the target but never its URL."""
        target = self.targets.get(row.target)
        if target is None or target.secret is None:
            return f"target {row.target!r} has no Apprise URL set (environment variable unset)"
        found = self.store.changes(ids=[row.change_id])
        if not found:
            return f"change {row.change_id} no longer exists"
        if row.kind == "reminder" and row.deadline_id is not None:
            deadline = self.store.deadline(row.deadline_id)
            if deadline is None:
                return f"deadline {row.deadline_id} no longer exists"
            today = self.clock().astimezone(UTC).date().isoformat()
            title, body = render_reminder(deadline, found[0], row.days or 0, today)
        else:
            title, body = render_alert(found[0])
        return await asyncio.to_thread(_notify, target, title, body)


def _notify(target: NotifyTarget, title: str, body: str) -> str | None:
    assert target.secret is not None
    ap = apprise.Apprise()
    if not ap.add(target.secret.reveal()):
        return f"target {target.name!r}: Apprise does not understand the URL in ${target.env}"
    ok = ap.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    return None if ok else f"target {target.name!r}: Apprise reported a failed send"
