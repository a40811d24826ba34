"""Huge pages under the byte cap: refused before parsing when over the element limit (one error
check, little memory), and parsed off the event loop when under it, so the web app sharing the
loop keeps answering during a heavy check."""

from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import PageServer, free_port, html_page, write_config
from watcher.config import load_config
from watcher.errors import ExtractError
from watcher.extract import MAX_ELEMENTS, extract
from watcher.runtime import check_once
from watcher.web.app import create_app


def tiny_paragraphs(count: int) -> str:
    return (
        "<html><body><main>"
        + "".join(f"<p>x{n}</p>" for n in range(count))
        + "</main></body></html>"
    )


def test_a_page_over_the_element_limit_is_refused_before_parsing() -> None:
    page = tiny_paragraphs(MAX_ELEMENTS + 1)
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(ExtractError) as caught:
        extract(page)
    took = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert caught.value.reason == "too_many_nodes"
    assert "select" in str(caught.value)
    assert took < 1.0 and peak < 5_000_000, (took, peak)


def test_the_probes_page_is_one_error_check_and_the_pass_goes_on(
    tmp_path: Path, site: PageServer
) -> None:
    """4.8 MB of tiny paragraphs (the probe's page: 693 MB and ~20 s per check before)."""
    huge = tiny_paragraphs(360_000)
    assert 4_500_000 < len(huge) < 5_500_000
    site.set("/huge", huge)
    site.set("/fine", html_page("Fine", ["An ordinary page."]))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "huge", "url": site.url("/huge")}, {"name": "fine", "url": site.url("/fine")}],
        watcher="max_bytes = 8000000",
    )
    started = time.monotonic()
    results, _ = asyncio.run(check_once(load_config(path, environ={})))
    took = time.monotonic() - started
    outcomes = {r.source: r for r in results}
    assert outcomes["huge"].outcome == "error"
    assert outcomes["huge"].error_reason == "too_many_nodes"
    assert outcomes["fine"].outcome == "baseline"
    assert took < 10, took


@pytest.mark.slow
def test_the_web_app_answers_during_a_heavy_check(tmp_path: Path, site: PageServer) -> None:
    heavy = tiny_paragraphs(int(MAX_ELEMENTS * 0.9))  # parsed: 1 s of CPU with bs4, 0.2 s with lxml
    site.set("/heavy", heavy)
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": f"heavy{n}", "url": site.url("/heavy")} for n in range(6)],
    )
    config = load_config(path, environ={})
    port = free_port()
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.monotonic()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/sources", timeout=30).read()
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)

    async def main() -> float:
        app = create_app(config, listen=f"127.0.0.1:{port}")
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
        )
        serving = asyncio.ensure_future(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        started = time.monotonic()
        await check_once(config)  # in the same event loop as the web app, as under `watcher run`
        took = time.monotonic() - started
        stop.set()
        await asyncio.to_thread(poller.join, 30)
        server.should_exit = True
        await serving
        return took

    took = asyncio.run(main())
    worst = max(latencies)
    print(f"heavy check {took:.1f} s; web answers {len(latencies)}, worst {worst * 1000:.0f} ms")
    # Before: 4 answers in 1.9 s, the worst 910 ms (the loop parsed); after: 38, worst ~215 ms.
    # Since lxml (issue 17) six such pages take ~0.9 s: the web app must keep answering through
    # them, each answer within a second.
    assert len(latencies) >= 2 and worst < 1.0, (took, latencies)
