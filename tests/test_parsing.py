"""Reading pages off the event loop: a process pool (when configured) gives what a thread gives,
errors included, and small pages stay in a thread."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.conftest import html_page
from watcher import kinds
from watcher.errors import ExtractError
from watcher.models import Fetched, Source, Validators
from watcher.pipeline.parsing import Parser

SOURCE = Source(name="p", url="http://127.0.0.1/p", every=timedelta(hours=1))


def _fetched(text: str) -> Fetched:
    return Fetched(
        url=SOURCE.url,
        final_url=SOURCE.url,
        status=200,
        not_modified=False,
        content_type="text/html",
        body=text.encode("utf-8"),
        text=text,
        validators=Validators(),
        duration_ms=1,
    )


def test_a_process_pool_reads_as_a_thread_does_and_is_started_only_for_large_pages() -> None:
    page = _fetched(html_page("Kinship", ["Kinship carers will receive an allowance."] * 20))

    async def run(parser: Parser) -> object:
        try:
            return await parser.read(page, SOURCE)
        finally:
            started = parser._pool is not None
            parser.close()
            assert started == (parser.processes > 0 and len(page.body) >= parser.min_bytes)

    in_thread = asyncio.run(run(Parser()))
    assert asyncio.run(run(Parser(processes=1, min_bytes=len(page.body) + 1))) == in_thread
    assert asyncio.run(run(Parser(processes=1, min_bytes=0))) == in_thread
    assert in_thread == kinds.read(page, SOURCE)


def test_an_extract_error_crosses_the_process_boundary_as_itself() -> None:
    selecting = Source(name="p", url=SOURCE.url, every=SOURCE.every, select=("#nowhere",))
    page = _fetched(html_page("Kinship", ["Text."]))
    parser = Parser(processes=1, min_bytes=0)
    try:
        with pytest.raises(ExtractError) as caught:
            asyncio.run(parser.read(page, selecting))
    finally:
        parser.close()
    with pytest.raises(ExtractError) as direct:
        kinds.read(page, selecting)
    assert (caught.value.reason, str(caught.value)) == (direct.value.reason, str(direct.value))
