"""Checking one source end to end: fetch, extract, diff, then one transaction in the store."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from watcher.diff import diff_blocks, summarise
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.extract import extract, extract_text
from watcher.models import Change, CheckResult, Extracted, Fetched, Snapshot, Source, Validators
from watcher.store import Store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def digest(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def to_text(fetched: Fetched, source: Source) -> Extracted:
    """Pick the extractor for the document's type."""
    if fetched.content_type == "text/plain":
        return extract_text(fetched.text)
    return extract(fetched.text, select=source.select, exclude=source.exclude)


@dataclass
class Checker:
    """Holds the long-lived parts a check needs; `check` runs one source once."""

    egress: Egress
    store: Store
    targets: Sequence[str] = ()
    clock: Clock = utcnow

    async def check(self, source: Source) -> CheckResult:
        started_at = self.clock()
        t0 = time.monotonic()
        state = self.store.state(source.name)

        def ms() -> int:
            return int((time.monotonic() - t0) * 1000)

        def failed(
            reason: str, message: str, status: int | None = None, size: int = 0
        ) -> CheckResult:
            result = CheckResult(
                source.name,
                "error",
                started_at,
                ms(),
                status=status,
                bytes=size,
                error_reason=reason,
                error=message,
            )
            self.store.record(result)
            log.warning(
                "check failed",
                extra={
                    "source": source.name,
                    "reason": reason,
                    "error": message,
                    "duration_ms": result.duration_ms,
                },
            )
            return result

        try:
            # Validators are only worth sending when we hold the text they vouch for.
            fetched = await self.egress.fetch(
                source.url, state.validators if state.snapshot_hash else None
            )
        except FetchError as exc:
            return failed(exc.reason, str(exc), exc.status)

        if fetched.not_modified:
            return self._done(
                CheckResult(source.name, "not_modified", started_at, ms(), status=304),
                validators=fetched.validators,
            )

        body_hash = digest(fetched.body)
        if state.snapshot_hash and body_hash == state.body_hash:
            # Same bytes as last time: skip parsing, the expensive part of a pass.
            return self._done(
                CheckResult(
                    source.name, "unchanged", started_at, ms(), fetched.status, len(fetched.body)
                ),
                validators=fetched.validators,
                body_hash=body_hash,
            )
        try:
            extracted = to_text(fetched, source)
        except ExtractError as exc:
            return failed(exc.reason, str(exc), fetched.status, len(fetched.body))

        snapshot = Snapshot(hash=digest(extracted.text), title=extracted.title, text=extracted.text)

        def result(outcome: str, change: Change | None = None) -> CheckResult:
            return CheckResult(
                source.name,
                outcome,
                started_at,
                ms(),
                status=fetched.status,
                bytes=len(fetched.body),
                change=change,
            )

        if state.snapshot_hash is None:
            return self._done(
                result("baseline"),
                validators=fetched.validators,
                body_hash=body_hash,
                snapshot=snapshot,
            )
        if snapshot.hash == state.snapshot_hash:
            return self._done(
                result("unchanged"), validators=fetched.validators, body_hash=body_hash
            )

        previous = self.store.snapshot(state.snapshot_hash)
        before = tuple(previous.text.split("\n")) if previous else ()
        diff = diff_blocks(before, extracted.blocks)
        change = Change(
            source=source.name,
            url=fetched.final_url,
            detected_at=started_at,
            before=state.snapshot_hash,
            after=snapshot.hash,
            diff=diff,
            title=extracted.title or (previous.title if previous else source.name),
            summary=summarise(diff),
        )
        return self._done(
            result("changed", change),
            validators=fetched.validators,
            body_hash=body_hash,
            snapshot=snapshot,
        )

    def _done(
        self,
        result: CheckResult,
        *,
        validators: Validators | None = None,
        body_hash: str | None = None,
        snapshot: Snapshot | None = None,
    ) -> CheckResult:
        change_id = self.store.record(
            result,
            validators=validators,
            body_hash=body_hash,
            snapshot=snapshot,
            targets=self.targets if result.change else (),
        )
        log.info(
            "checked",
            extra={
                "source": result.source,
                "outcome": result.outcome,
                "duration_ms": result.duration_ms,
                "change_id": change_id,
            },
        )
        return replace(result, change_id=change_id) if change_id is not None else result
