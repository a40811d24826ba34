"""The outbox worker: sends due alerts through Apprise, with retries and backoff, until sent or dead.

Rows due together are grouped before sending: a target's digest rows become one digest; when
more than a set share of a site's sources (or of all sources) changed together, their alerts
become one summary. Each message is marked sent or failed as one unit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.clock import Clock, utcnow
from watcher.config import NotifyTarget, Settings
from watcher.errors import ConfigError
from watcher.models import Source
from watcher.notify import capture
from watcher.notify.policy import Batch, StormPolicy, batches
from watcher.notify.render import (
    Message,
    channel_for,
    render_change,
    render_digest,
    render_health,
    render_reminder_message,
    render_storm,
    render_test,
)
from watcher.rows import ChangeRow, OutboxRow, SourceRow
from watcher.store import Store

log = logging.getLogger(__name__)
# Apprise's NotifyFormat values, by name: apprise itself (60 ms to import) is imported only when
# a target is checked or an alert is sent, so a pass with nothing to send never pays for it.
FORMATS = {"text": "text", "html": "html", "markdown": "markdown"}


# A claim left by a sender that died mid-send is taken over after this long (at once when the
# claimant was a process on this machine that no longer exists).
CLAIM_TTL = timedelta(minutes=15)


def check_targets(targets: Sequence[NotifyTarget]) -> None:
    """Refuse to start with a target whose Apprise URL cannot work: it would only fail at send
    time and be retried until dead. The message names the variable, never the value."""
    if all(t.secret is None for t in targets):
        return
    import apprise

    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it would log the parts it rejects; our line says enough
    try:
        unusable = [
            t
            for t in targets
            if t.secret is not None and not apprise.Apprise().add(t.secret.reveal())
        ]
    finally:
        quiet.setLevel(level)
    for target in unusable:
        raise ConfigError(
            f"notify target {target.name!r}: Apprise cannot use the URL in ${target.env} "
            "(value hidden): a scheme it does not know, or parts missing for that service; "
            f"fix {target.env} by the service's page in the Apprise docs, or unset it"
        )


def claim_owner() -> str:
    """This process, as written in the outbox's claimed_by."""
    return f"{os.uname().nodename}:{os.getpid()}"


def owner_gone(owner: str) -> bool:
    """True when `owner` was a process on this machine that has since exited."""
    host, _, pid = owner.rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    messages: int = 0  # one digest or storm summary carries several rows


@dataclass
class Deliverer:
    """Delivers pending outbox rows. Apprise is blocking, so each send runs in a worker thread."""

    store: Store
    targets: Mapping[str, NotifyTarget]
    clock: Clock = utcnow
    max_attempts: int = Settings.max_attempts
    base_delay: timedelta = field(default=timedelta(seconds=30))
    sources: Mapping[str, Source] = field(default_factory=dict)
    storm: StormPolicy = field(default_factory=StormPolicy)
    link: Callable[[int], str | None] = lambda _change_id: None
    # Checks finishing together each ask for delivery; one at a time, or a row is sent twice.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def deliver_due(self, horizon: timedelta = timedelta(0)) -> DeliveryReport:
        """Send what is due now (or within `horizon`: a finished pass need not wait out the
        hold that lets a daemon see a storm whole)."""
        async with self._lock:
            capture.install()
            report = DeliveryReport()
            now = self.clock()
            me = claim_owner()
            gone = [o for o in self.store.claimants() if o != me and owner_gone(o)]
            due = self.store.claim_due(now + horizon, me, now, now - CLAIM_TTL, gone, limit=1000)
            for batch in self.batches(due):
                await self._deliver(batch, report)
            return report

    def batches(self, rows: Sequence[OutboxRow]) -> list[Batch]:
        return batches(rows, self.sources, self.storm)

    async def _deliver(self, batch: Batch, report: DeliveryReport) -> None:
        ids = [r.id for r in batch.rows]
        error, wait = await self._send(batch)
        now = self.clock()
        context = {"target": batch.target, "kind": batch.kind, "alerts": len(ids)}
        if error is None:
            self.store.mark_sent(ids, now)
            report.sent += len(ids)
            report.messages += 1
            log.info("alert sent", extra=context)
            return
        attempts = max(r.attempts for r in batch.rows) + 1
        dead = attempts >= self.max_attempts
        delay = max(self.base_delay * (2 ** (attempts - 1)), wait or timedelta(0))
        self.store.mark_failed(ids, error, now + delay, dead)
        if dead:
            report.dead += len(ids)
        else:
            report.retrying += len(ids)
        log.warning(
            "alert not delivered",
            extra={**context, "attempts": attempts, "error": error, "dead": dead},
        )

    async def _send(self, batch: Batch) -> tuple[str | None, timedelta | None]:
        """(None, _) on success, else a message naming the target but never its URL, and the
        wait the receiver asked for."""
        target = self.targets.get(batch.target)
        if target is None or target.secret is None:
            return (
                f"target {batch.target!r} has no Apprise URL set (environment variable unset)",
                None,
            )
        channel = channel_for(target.scheme, target.format)
        try:
            message = self._render(batch, channel)
        except LookupError as exc:
            return str(exc), None
        return await asyncio.to_thread(_notify, target, message, self.clock())

    def _render(self, batch: Batch, channel: str) -> Message:
        row = batch.rows[0]
        if batch.kind == "health":
            status = {s.name: s for s in self.store.sources_status()}
            name = row.source or ""
            source = status.get(name) or SourceRow(name=name, url="", tags=(), added_at="")
            payload: dict[str, Any] = json.loads(row.payload or "{}")
            return render_health(
                source, payload.get("state", "failing"), payload.get("reason", ""), channel
            )
        changes = self._changes([r.change_id for r in batch.rows if r.change_id is not None])
        links = {cid: link for cid in changes if (link := self.link(cid))}
        if batch.kind == "reminder":
            deadline = self.store.deadline(row.deadline_id or -1)
            if deadline is None or row.change_id not in changes:
                raise LookupError(f"deadline {row.deadline_id} no longer exists")
            today = self.clock().astimezone(UTC).date().isoformat()
            return render_reminder_message(
                deadline,
                changes[row.change_id],
                row.days or 0,
                today,
                channel,
                links.get(row.change_id),
            )
        if not changes:
            raise LookupError(f"change {row.change_id} no longer exists")
        ordered = [changes[cid] for cid in sorted(changes, key=lambda c: changes[c].detected_at)]
        stories = self.store.story_marks(list(changes))
        if batch.kind == "digest":
            return render_digest(ordered, batch.scope, channel, links, stories)
        if batch.kind == "storm":
            total = (
                len(self.sources)
                if batch.scope == "all sources"
                else sum(1 for s in self.sources.values() if s.host == batch.scope)
            )
            return render_storm(batch.scope, ordered, total, channel, links)
        first = ordered[0]
        return render_change(first, channel, links.get(first.id), stories.get(first.id))

    def _changes(self, ids: Sequence[int]) -> dict[int, ChangeRow]:
        return {c.id: c for c in self.store.changes(ids=list(ids))} if ids else {}

    async def send_test(self, name: str) -> str | None:
        target = self.targets.get(name)
        if target is None or target.secret is None:
            return f"target {name!r} has no Apprise URL set (environment variable unset)"
        message = render_test(name, channel_for(target.scheme, target.format))
        error, _ = await asyncio.to_thread(_notify, target, message, self.clock())
        return error


def _notify(
    target: NotifyTarget, message: Message, now: datetime
) -> tuple[str | None, timedelta | None]:
    assert target.secret is not None
    import apprise

    ap = apprise.Apprise()
    if not ap.add(target.secret.reveal()):
        return f"target {target.name!r}: Apprise does not understand the URL in ${target.env}", None
    capture.reset()
    ok = ap.notify(title=message.title, body=message.body, body_format=FORMATS[message.format])
    if ok:
        return None, None
    wait = capture.retry_after(now)
    asked = f" (asked to wait {int(wait.total_seconds())} s)" if wait else ""
    return f"target {target.name!r}: Apprise reported a failed send{asked}", wait
