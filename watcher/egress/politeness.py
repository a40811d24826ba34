"""Politeness: one request per host at a time (or `per_host_concurrency`), a minimum gap between
them, and a host's own request to wait (429 or 503 with Retry-After) kept until the time it asked
for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

# However long a host asks watcher to wait, it is asked again after this: a hostile or mistaken
# Retry-After of a year must not silence a source for a year.
MAX_HOLD = 3600.0
# A 429 without Retry-After still means "slower": the host is left alone for this long.
DEFAULT_HOLD = 60.0


class HostGate:
    """At most `concurrency` requests per host at a time (one by default), a minimum gap between
    them, and a per-host "not before" time learned from 429/503 answers."""

    def __init__(
        self, gap: float, concurrency: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.gap = gap
        self.concurrency = concurrency
        self._clock = clock
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._last: dict[str, float] = {}
        self._not_before: dict[str, float] = {}

    def slot(self, host: str) -> asyncio.Semaphore:
        """The host's turn: held for the whole request, `concurrency` of them at once."""
        return self._slots.setdefault(host, asyncio.Semaphore(self.concurrency))

    def delay(self, host: str) -> float:
        """Seconds until `host` may be asked again: the gap after its last request, or longer
        if it asked for a wait."""
        now = self._clock()
        last = self._last.get(host)
        ready = max(last + self.gap if last is not None else now, self._not_before.get(host, now))
        return max(0.0, ready - now)

    def held(self, host: str) -> float:
        """Seconds left of the wait `host` asked for (0 when it asked for none)."""
        return max(0.0, self._not_before.get(host, 0.0) - self._clock())

    async def wait_turn(self, host: str) -> None:
        """Sleep out the host's gap, then take its start: requests sharing a host start at least
        the gap apart, however many may be in flight."""
        while (delay := self.delay(host)) > 0:
            await asyncio.sleep(delay)
        if self.gap > 0:
            self._last[host] = self._clock()

    def done(self, host: str) -> None:
        self._last[host] = self._clock()

    def hold(self, host: str, seconds: float) -> float:
        """Ask nothing of `host` for `seconds` (capped at MAX_HOLD); the wait actually kept."""
        seconds = min(max(seconds, 0.0), MAX_HOLD)
        until = self._clock() + seconds
        self._not_before[host] = max(self._not_before.get(host, until), until)
        return seconds


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), None if unreadable.

    `now` is the wall-clock time (Unix seconds) an HTTP date is measured from."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text[:9]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP date is always GMT; one without a zone is not one
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
