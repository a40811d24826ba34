"""A pass's memory stays flat in its number of sources: a bounded number of parsed pages at
once, and no page's bytes kept past its reading (issue 17)."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import PageServer, html_page, write_config
from watcher.config import load_config
from watcher.kinds import base
from watcher.kinds.page import Page
from watcher.models import Extracted, Fetched, Source
from watcher.pipeline.checker import PARSING
from watcher.runtime import open_runtime

SOURCES = 200


class Counted(Page):
    """A page, read while counting the parsed pages alive and the responses not yet let go."""

    lock = threading.Lock()
    parsed: ClassVar[weakref.WeakSet[Extracted]] = weakref.WeakSet()
    responses: ClassVar[weakref.WeakSet[Fetched]] = weakref.WeakSet()
    most: ClassVar[int] = 0
    reads: ClassVar[int] = 0

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        extracted = super().read(fetched, source, explain=explain)
        with Counted.lock:
            Counted.reads += 1
            Counted.parsed.add(extracted)
            Counted.responses.add(fetched)
            Counted.most = max(Counted.most, len(Counted.parsed))
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
