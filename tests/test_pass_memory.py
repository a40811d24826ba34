"""A pass's memory stays flat in its number of sources: a bounded number of parsed pages and of
fetched, unread responses at once, checks written as the pass goes, and a big site's changed
pages parked small while the rest of the site is read (issue 17)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import PageServer, html_page, write_config
from watcher import volatility as vol
from watcher.config import load_config
from watcher.diff import diff_blocks
from watcher.kinds import base
from watcher.kinds.page import Page
from watcher.models import Extracted, Fetched, Snapshot, Source, SourceState
from watcher.normalise import mask
from watcher.pipeline.checker import PARSING
from watcher.pipeline.observed import Observed
from watcher.pipeline.passes import FLUSH
from watcher.runtime import check_once, open_runtime

SOURCES = 200


class Counted(Page):
    """A page, read while counting the parsed pages alive and the responses not yet let go."""

    lock = threading.Lock()
    parsed: ClassVar[weakref.WeakSet[Extracted]] = weakref.WeakSet()
    responses: ClassVar[weakref.WeakSet[Fetched]] = weakref.WeakSet()
    most: ClassVar[int] = 0
    most_responses: ClassVar[int] = 0
    reads: ClassVar[int] = 0

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        extracted = super().read(fetched, source, explain=explain)
        with Counted.lock:
            Counted.reads += 1
            Counted.parsed.add(extracted)
            Counted.responses.add(fetched)
            Counted.most = max(Counted.most, len(Counted.parsed))
            Counted.most_responses = max(Counted.most_responses, len(Counted.responses))
        return extracted


@pytest.fixture
def counted() -> Iterator[None]:
    """The counting kind, named for this test only (the kinds users see stay as shipped)."""
    base._KINDS["counted-page"] = Counted
    yield
    del base._KINDS["counted-page"]


def _pages(site: PageServer, edition: int) -> None:
    for i in range(SOURCES):
        paras = [f"Page {i} says this about children's services."]
        site.set(f"/p{i}", html_page(f"Page {i}", paras, sidebar=f"story {edition}"))


async def _pass(config_path: Path) -> int:
    config = load_config(config_path, environ={})
    async with open_runtime(config) as rt:
        observed = await asyncio.gather(*(rt.checker.observe(s) for s in config.sources))
        gc.collect()
        # Every page observed and none settled: no response's bytes are held any more.
        alive = len(Counted.responses)
        results = rt.checker.settle_all(observed)
        assert len(results) == SOURCES
        assert all(r.outcome != "error" for r in results), [r.error for r in results][:3]
    return alive


def test_a_pass_of_200_sources_holds_a_bounded_number_of_parsed_pages(
    tmp_path: Path, site: PageServer, counted: None
) -> None:
    sources = [
        {"name": f"p{i}", "url": site.url(f"/p{i}"), "kind": "counted-page"} for i in range(SOURCES)
    ]
    path = write_config(tmp_path / "sources.toml", sources, watcher="concurrency = 16")
    for edition in (1, 2):  # a first pass (with its learning), then every page read again
        _pages(site, edition)
        Counted.most = 0
        assert asyncio.run(_pass(path)) == 0
        assert Counted.reads >= SOURCES * edition
        # A page being read may hold two parsed versions (the learning fetch compares them).
        assert 0 < Counted.most <= 2 * PARSING


async def _check_once(config_path: Path) -> list[str]:
    results, _ = await check_once(load_config(config_path, environ={}))
    return [r.outcome for r in results]


def test_a_real_pass_holds_few_responses_fetched_and_unread(
    tmp_path: Path, site: PageServer, counted: None
) -> None:
    """Fetching outruns reading on loopback: without back-pressure every page of the pass would
    wait, bytes held, for its turn to be read."""
    sources = [
        {"name": f"p{i}", "url": site.url(f"/p{i}"), "kind": "counted-page"} for i in range(SOURCES)
    ]
    path = write_config(tmp_path / "sources.toml", sources, watcher="concurrency = 16")
    for edition in (1, 2):
        _pages(site, edition)
        Counted.most = Counted.most_responses = 0
        outcomes = asyncio.run(_check_once(path))
        assert len(outcomes) == SOURCES and "error" not in outcomes
        assert 0 < Counted.most <= 2 * PARSING
        # Room for 2 x PARSING responses fetched and unread, and the one being read.
        assert 0 < Counted.most_responses <= 2 * PARSING + 1


def test_a_pass_writes_its_checks_as_it_goes(tmp_path: Path, site: PageServer) -> None:
    """Checks that need nothing from the rest of their site are in the store before the pass
    ends, so a pass does not hold every page until its last source answers."""
    _pages(site, 1)
    site.set("/slow", html_page("Slow", ["A slow page."]), delay=3.0)
    sources = [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(SOURCES)]
    sources.append({"name": "slow", "url": site.url("/slow")})
    path = write_config(tmp_path / "sources.toml", sources, watcher="concurrency = 16")
    written: list[int] = []

    def watch() -> None:
        # Polls the real state file from another connection while the pass runs.
        db = tmp_path / "state" / "watcher.db"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not written:
            if db.exists():
                with contextlib.suppress(sqlite3.OperationalError):
                    with sqlite3.connect(db, timeout=0.1) as conn:
                        n = conn.execute("SELECT count(*) FROM checks").fetchone()[0]
                    if n >= SOURCES - SOURCES % FLUSH:  # every full batch of fast pages
                        written.append(time.monotonic())
            time.sleep(0.05)

    watcher_thread = threading.Thread(target=watch)
    watcher_thread.start()
    outcomes = asyncio.run(_check_once(path))
    ended = time.monotonic()
    watcher_thread.join()
    assert outcomes.count("baseline") == SOURCES + 1
    assert written, "the fast pages' checks were not in the store before the pass ended"
    assert written[0] < ended - 1.0  # written while the slow page was still being fetched


def test_a_parked_check_comes_back_whole() -> None:
    """What a changed page holds while its site is read is packed small and restored exactly."""
    old = vol.side(
        Extracted(title="t", blocks=("Intro.", "Closing 1 May.", "Menu"), paths=("p", "p", "nav"))
    )
    new_blocks = ("Intro.", "Closing 3 June.", "New: £2m fund.", "Menu")
    new = vol.side(Extracted(title="t", blocks=new_blocks, paths=("p", "p", "p", "nav")))
    diff = diff_blocks(old.blocks, new.blocks, key=mask)
    comparison = vol.compare(old, new, diff)
    observed = Observed(
        source=Source(name="a", url="http://127.0.0.1/a", every=timedelta(hours=1)),
        started_at=datetime(2026, 11, 29, tzinfo=UTC),
        t0=0.0,
        state=SourceState(),
        snapshot=Snapshot(hash="h", title="t", text="\n".join(new_blocks), paths=new.paths),
        diff=diff,
        comparison=comparison,
        observation=vol.observe(comparison),
    )
    parked = observed.parked()
    assert parked.snapshot is None and parked.comparison is None and parked.diff is None
    assert parked.parcel is not None and len(parked.parcel) < 2_000
    assert parked.site_bound and parked.observation == observed.observation
    assert parked.unparked() == observed
