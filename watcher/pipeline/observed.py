"""The value that flows from the first half of a check to the second, and the small pure steps
both halves share."""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from watcher import volatility as vol
from watcher.models import (
    CheckResult,
    Diff,
    Extracted,
    Fetched,
    Item,
    Outcome,
    Snapshot,
    Source,
    SourceState,
    Validators,
)

log = logging.getLogger("watcher.pipeline")  # the checker's logger: its lines, told apart by name
V = TypeVar("V")
HostEvidence = Mapping[str, tuple[float, float]]


def digest(data: bytes | str) -> str:
    """The SHA-256 of bytes or UTF-8 text, as hex: how bodies and texts are addressed."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


class StartMark:
    """Egress's `on_start` for one fetch: notes when the request started, its waits over, so
    that a check's time and duration are the fetch's and the wait is told apart."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.at: tuple[float, datetime] | None = None

    def __call__(self) -> None:
        if self.at is None:
            self.at = (time.monotonic(), self._clock())

    def applied(self, observed: Observed) -> Observed:
        return observed if self.at is None else observed.fetch_started(*self.at)


@dataclass(frozen=True)
class Received:
    """What settle needs of a fetched response once it has been read: never its bytes or text,
    so a pass holds no page's body past its extraction (memory stays flat in the sources)."""

    status: int
    validators: Validators
    size: int  # bytes received
    final_url: str
    content_type: str

    @classmethod
    def of(cls, fetched: Fetched) -> Received:
        return cls(
            fetched.status,
            fetched.validators,
            len(fetched.body),
            fetched.final_url,
            fetched.content_type,
        )


@dataclass(frozen=True)
class ReadItem:
    """An item a listing names for the first time: read through its own kind when no source
    reported it before (or why it could not be), else only named."""

    item: Item
    extracted: Extracted | None = None
    url: str = ""  # where it was read from in the end
    problem: str = ""


@dataclass(frozen=True)
class Observed:
    """The first half of a check: everything up to a raw diff and its comparison, nothing
    written yet. A check that ended early (an error, a 304, the same bytes) carries its result,
    which settle records."""

    source: Source
    started_at: datetime  # when the check was queued; when its fetch started, once it has
    t0: float  # time.monotonic() of the same moment
    state: SourceState
    waited_ms: int = 0  # from queued to the fetch's start (the host's turn, room, a slot)
    result: CheckResult | None = None  # set when the check ended early (error, 304, same bytes)
    received: Received | None = None  # the response, without its body
    body_hash: str | None = None
    snapshot: Snapshot | None = None
    previous_title: str = ""  # the stored version's title, for a change's heading
    diff: Diff | None = None
    comparison: vol.Comparison | None = None  # the diff worked out once, for learning and judging
    observation: vol.Observation | None = None
    learned_now: vol.Observation | None = None  # two fetches of a first change compared
    # A listing-style source: the items it names for the first time, those whose stated date
    # moved (item, old block, new block), and whether more new ones wait for the next pass.
    items: tuple[ReadItem, ...] = ()
    updated: tuple[tuple[Item, str, str], ...] = ()
    waiting: bool = False
    parcel: bytes | None = None  # snapshot, diff and comparison, packed while the site is read

    def parked(self) -> Observed:
        """This check as it waits for the rest of its site: its snapshot, diff and comparison
        packed into a few KB (held as objects they take ~100 KB), its observation, which the
        site's fold reads, kept. A pass over one big site holds one of these per changed page.

        Pickle is safe here: the parcel is made and read by this process only, never stored.
        """
        heavy = (self.snapshot, self.diff, self.comparison)
        packed = zlib.compress(pickle.dumps(heavy, protocol=pickle.HIGHEST_PROTOCOL), 1)
        return replace(self, snapshot=None, diff=None, comparison=None, parcel=packed)

    def unparked(self) -> Observed:
        """The check as it was before `parked`."""
        if self.parcel is None:
            return self
        snapshot, diff, comparison = pickle.loads(zlib.decompress(self.parcel))  # noqa: S301
        return replace(self, snapshot=snapshot, diff=diff, comparison=comparison, parcel=None)

    def fetch_started(self, t0: float, started_at: datetime) -> Observed:
        """This check with its clock moved to its fetch's start: what came before was waiting."""
        waited = self.waited_ms + int((t0 - self.t0) * 1000)
        return replace(self, t0=t0, started_at=started_at, waited_ms=waited)

    def failed(
        self, reason: str, message: str, status: int | None = None, size: int = 0
    ) -> CheckResult:
        """A failed check's result, logged; settle records it (and the source's health)."""
        name = self.source.name
        result = CheckResult(
            name,
            Outcome.error,
            self.started_at,
            int((time.monotonic() - self.t0) * 1000),
            status=status,
            bytes=size,
            error_reason=reason,
            error=message,
            waited_ms=self.waited_ms,
        )
        log.warning(
            "check failed",
            extra={
                "source": name,
                "reason": reason,
                "error": message,
                "duration_ms": result.duration_ms,
                "waited_ms": result.waited_ms,
            },
        )
        return result

    def ended(self, outcome: Outcome) -> CheckResult:
        """The result of a check that ended once its response was received (the same bytes or
        the same text as last time)."""
        assert self.received is not None
        ms = int((time.monotonic() - self.t0) * 1000)
        return CheckResult(
            self.source.name,
            outcome,
            self.started_at,
            ms,
            self.received.status,
            self.received.size,
            waited_ms=self.waited_ms,
        )

    @property
    def site_bound(self) -> bool:
        """Whether judging this check waits for the rest of its site: it compared two versions,
        and what the site's other pages did in the same pass may explain the difference."""
        return self.result is None and (
            self.observation is not None or self.learned_now is not None
        )

    @property
    def quiet(self) -> bool:
        """Whether the page was checked and its text had not changed: a page of its site that
        counts toward every site-wide share."""
        if self.result is not None:
            return self.result.outcome in (Outcome.not_modified, Outcome.unchanged)
        return self.observation is None and self.learned_now is None


def changed_evidence(stored: Mapping[str, V], now: Mapping[str, V]) -> dict[str, V]:
    """Only the entries a check moved: the rest need no write."""
    return {k: v for k, v in now.items() if stored.get(k) != v}


def gone(stored: Mapping[str, object], now: Mapping[str, object]) -> list[str]:
    """The entries a check forgot: bounded memories drop their oldest."""
    return [k for k in stored if k not in now]


def snapshot_of(extracted: Extracted) -> Snapshot:
    return Snapshot(
        hash=digest(extracted.text),
        title=extracted.title,
        text=extracted.text,
        paths=extracted.paths,
        metadata=extracted.metadata,
        note=extracted.note,
        links=(*extracted.links, *((a.url, a.title) for a in extracted.attachments)),
        documents=tuple(a.title for a in extracted.attachments if a.title),
    )


def moved_away(source: Source, fetched: Fetched | None) -> str | None:
    """A redirect to a different page (not just http to https, or a trailing slash) means the
    watched page is gone from its address, even though the fetch succeeded."""
    if fetched is None or not fetched.redirected:
        return None
    a, b = urlsplit(source.url), urlsplit(fetched.final_url)
    same_host = (a.hostname or "").removeprefix("www.") == (b.hostname or "").removeprefix("www.")
    if same_host and a.path.rstrip("/") == b.path.rstrip("/"):
        return None
    return f"redirected to {fetched.final_url}"
