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

from watcher.claims import SILENT_AFTER
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
    render_staleness,
    render_storm,
    render_test,
)
from watcher.rows import ChangeRow, OutboxRow, SourceRow
from watcher.store import Store, reads
from watcher.structured import (
    batch_object,
    change_object,
    health_object,
    probe_object,
    reminder_object,
)

log = logging.getLogger(__name__)
# Apprise's NotifyFormat values, by name: apprise itself (60 ms to import) is imported only when
# a target is checked or an alert is sent, so a pass with nothing to send never pays for it.
FORMATS = {"text": "text", "html": "html", "markdown": "markdown", "json": "text"}
# A `format = "json"` target receives the change as data (watcher.structured): Apprise's json://
# and jsons:// post one JSON object, whose own keys are replaced by ours (see `_as_data`).
JSON_SCHEMES = frozenset({"json", "jsons"})
APPRISE_JSON_KEYS = ("version", "message", "attachments", "type")  # "title" carries ours


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
    for target in targets:
        if target.format == "json" and target.secret and target.scheme not in JSON_SCHEMES:
            raise ConfigError(
                f'notify target {target.name!r}: format = "json" needs a json:// or jsons:// '
                f"Apprise URL in ${target.env} (value hidden), which posts the change as "
                "one JSON object"
            )
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
    public_url: str | None = None  # the web app's address, for links in JSON payloads
    owner: str = field(default_factory=claim_owner)  # the worker its claims are made as
    silent_after: timedelta = SILENT_AFTER  # a sender not seen this long is gone; its claims free
    # Checks finishing together each ask for delivery; one at a time, or a row is sent twice.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def deliver_due(self, horizon: timedelta = timedelta(0)) -> DeliveryReport:
        """Send what is due now (or within `horizon`: a finished pass need not wait out the
        hold that lets a daemon see a storm whole)."""
        async with self._lock:
            capture.install()
            report = DeliveryReport()
            now = self.clock()
            me = self.owner
            gone = [o for o in self.store.claimants() if o != me and owner_gone(o)]
            due = self.store.claim_due(
                now + horizon, me, now, now - CLAIM_TTL, gone, 1000, now - self.silent_after
            )
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
            if target.format == "json":
                message = self._render_data(batch)
            else:
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
        if batch.kind == "stale":
            status = {s.name: s for s in self.store.sources_status()}
            name = row.source or ""
            source = status.get(name) or SourceRow(name=name, url="", tags=(), added_at="")
            payload = json.loads(row.payload or "{}")
            latest = self.store.changes(source=name, limit=1)
            link = self.link(latest[0].id) if latest and payload.get("state") == "changed" else None
            return render_staleness(source, payload, channel, link)
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

    def _change_object(self, change_id: int) -> dict[str, Any]:
        row = reads.change(self.store, change_id)
        if row is None:
            raise LookupError(f"change {change_id} no longer exists")
        story = self.store.story_marks([change_id]).get(change_id)
        return change_object(row, self.public_url, story=story)

    def _render_data(self, batch: Batch) -> Message:
        """The batch as data for a `format = "json"` target (docs/schema/change-v1.json)."""
        row = batch.rows[0]
        data: dict[str, Any]
        if batch.kind == "health":
            payload: dict[str, Any] = json.loads(row.payload or "{}")
            data = health_object(
                row.source or "", payload.get("state", "failing"), payload.get("reason", "")
            )
            return Message(f"{data['source']}: {data['state']}", "health", "json", data=data)
        ids = [r.change_id for r in batch.rows if r.change_id is not None]
        if not ids:
            raise LookupError(f"change {row.change_id} no longer exists")
        if batch.kind == "reminder":
            deadline = self.store.deadline(row.deadline_id or -1)
            if deadline is None:
                raise LookupError(f"deadline {row.deadline_id} no longer exists")
            data = reminder_object(deadline, row.days or 0, self._change_object(ids[0]))
            return Message(f"closes {deadline.due}", "reminder", "json", data=data)
        if batch.kind in ("digest", "storm"):
            objects = sorted(
                (self._change_object(i) for i in dict.fromkeys(ids)),
                key=lambda o: (o["detected_at"], o["id"]),
            )
            data = batch_object(batch.kind, batch.scope, objects)
            return Message(f"{len(objects)} changes", batch.kind, "json", data=data)
        data = self._change_object(ids[0])
        return Message(str(data["title"]), "change", "json", data=data)

    def _changes(self, ids: Sequence[int]) -> dict[int, ChangeRow]:
        return {c.id: c for c in self.store.changes(ids=list(ids))} if ids else {}

    async def send_test(self, name: str) -> str | None:
        target = self.targets.get(name)
        if target is None or target.secret is None:
            return f"target {name!r} has no Apprise URL set (environment variable unset)"
        if target.format == "json":
            message = Message("test", "test", "json", data=probe_object(name))
        else:
            message = render_test(name, channel_for(target.scheme, target.format))
        error, _ = await asyncio.to_thread(_notify, target, message, self.clock())
        return error


def _notify(
    target: NotifyTarget, message: Message, now: datetime
) -> tuple[str | None, timedelta | None]:
    assert target.secret is not None
    import apprise

    ap = apprise.Apprise()
    if message.format == "json":
        plugin = _as_data(target, message) if target.scheme in JSON_SCHEMES else None
        if plugin is None or not ap.add(plugin):
            return (
                f'target {target.name!r}: format = "json" needs a json:// or jsons:// Apprise URL '
                f"in ${target.env}",
                None,
            )
    elif not ap.add(target.secret.reveal()):
        return f"target {target.name!r}: Apprise does not understand the URL in ${target.env}", None
    capture.reset()
    title = message.title
    if message.format == "json" and message.data is not None:
        title = str(message.data.get("title", ""))  # as the object has it, uncut
    ok = ap.notify(title=title, body=message.body, body_format=FORMATS[message.format])
    if ok:
        return None, None
    wait = capture.retry_after(now)
    asked = f" (asked to wait {int(wait.total_seconds())} s)" if wait else ""
    return f"target {target.name!r}: Apprise reported a failed send{asked}", wait


def _as_data(target: NotifyTarget, message: Message) -> Any:
    """Apprise's json:// plugin set to post `message.data` as the whole JSON object.

    The plugin posts {"version", "title", "message", "attachments", "type"} plus its "payload
    extras" (the URL's `:key=value` entries): an extra naming one of its own keys with an empty
    value drops that key, any other extra is added as it is. So its keys are dropped and ours
    added, the title going through as Apprise's own title (uncut). The URL's own extras stay.
    """
    import apprise

    assert target.secret is not None and message.data is not None
    plugin: Any = apprise.Apprise.instantiate(target.secret.reveal())
    if plugin is None:
        return None
    data = dict(message.data)
    dropped = APPRISE_JSON_KEYS if "title" in data else (*APPRISE_JSON_KEYS, "title")
    title = str(data.pop("title", ""))
    extras = dict(getattr(plugin, "payload_extras", {}) or {})
    extras.update({key: "" for key in dropped})
    extras.update(data)
    plugin.payload_extras = extras
    plugin.title_maxlen = max(plugin.title_maxlen, len(title) + 1)
    return plugin
