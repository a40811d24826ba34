"""Politeness: one request per host at a time, and a minimum gap between them."""

from __future__ import annotations

import asyncio
import time


class HostGate:
    """At most one request per host at a time, and a minimum gap between them."""

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    def lock(self, host: str) -> asyncio.Lock:
        return self._locks.setdefault(host, asyncio.Lock())

    async def wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            delay = last + self.gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    def done(self, host: str) -> None:
        self._last[host] = time.monotonic()
