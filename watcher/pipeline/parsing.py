"""Reading fetched pages off the event loop: in a thread by default, or in a pool of processes
when `[watcher] parse_processes` asks for one (pages of `min_bytes` or more only: pickling a page
and its blocks across costs more than reading a small one).

Measured on this machine (2 cores, 200 pages of 53 KB, bs4 extraction): serial 0.75 s, threads
0.85-0.91 s, a warm pool of 2 processes 0.85-0.89 s. Pickling each page out and its blocks back
eats the second core, so the pool is off by default.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from watcher import kinds
from watcher.errors import ExtractError
from watcher.models import Extracted, Fetched, Source

MIN_BYTES = 200_000  # smaller pages are read in a thread even with a pool


def _read(fetched: Fetched, source: Source) -> Extracted | tuple[str, str]:
    """kinds.read in a worker; an ExtractError comes back as its (reason, message), since the
    exception itself does not survive pickling."""
    try:
        return kinds.read(fetched, source)
    except ExtractError as exc:
        return exc.reason, str(exc)


@dataclass
class Parser:
    """Where pages are read: threads, or a process pool started at its first large page."""

    processes: int = 0  # 0: in threads
    min_bytes: int = MIN_BYTES
    _pool: ProcessPoolExecutor | None = field(default=None, init=False, repr=False)

    async def read(self, fetched: Fetched, source: Source) -> Extracted:
        """The readable blocks of `fetched`, read off the event loop."""
        if self.processes <= 0 or len(fetched.body) < self.min_bytes:
            return await asyncio.to_thread(kinds.read, fetched, source)
        if self._pool is None:
            # forkserver: a fork of a process running threads and an event loop is not safe.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.processes, mp_context=context)
        loop = asyncio.get_running_loop()
        got = await loop.run_in_executor(self._pool, _read, fetched, source)
        if isinstance(got, tuple):
            raise ExtractError(*got)
        return got

    def close(self) -> None:
        """Stop the pool's processes, if it was started."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Ticket:
    """One page's place among those fetched and not yet read: taken once its host's turn has
    come (so a page queued behind a busy host holds none), given back once its bytes are read.

    Fetching outruns reading on a fast network; without this, every page of a pass would sit
    fetched, bytes in memory, waiting for its turn to be read.
    """

    def __init__(self, room: asyncio.Semaphore) -> None:
        self._room = room
        self._held = False

    async def take(self) -> None:
        await self._room.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._room.release()


@dataclass
class Limits:
    """The bounds a running loop's checks share: pages read at once, and pages fetched but not
    yet read (semaphores belong to one loop, so a checker makes these for each it runs in)."""

    parsing: asyncio.Semaphore
    room: asyncio.Semaphore

    @classmethod
    def of(cls, parsing: int) -> Limits:
        # Twice the readers: the next pages are fetched while these are read.
        return cls(asyncio.Semaphore(parsing), asyncio.Semaphore(2 * parsing))
