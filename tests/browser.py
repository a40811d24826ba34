"""What the browser tests share: the web app served on 127.0.0.1 by uvicorn in a thread, and
Debian's Chromium launched headless, with a route that keeps every request on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from tests.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
# Every browser test: slow, and skipped (saying why) where Debian's Chromium is not installed.
BROWSER_TESTS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)"
    ),
]
# Headless, and none of the browser's own traffic (updates, sync, first-run pages) on the wire.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serving(app: Any, log_level: str = "warning") -> Iterator[str]:
    """`app` served on a free 127.0.0.1 port for the block; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium (never a downloaded build), headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def loopback_only(strays: list[str]) -> Callable[[Route, Request], None]:
    """A route for every request: loopback goes on, anything else is refused and noted."""

    def route(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname != "127.0.0.1":
            strays.append(request.url)
            route.abort()
        else:
            route.continue_()

    return route


def watched_page(
    browser: Browser, width: int, height: int = 900
) -> tuple[Page, list[str], list[str]]:
    """A new page of `width` x `height`, with the console errors and page errors it reports and
    the off-loopback requests it tried (refused), each in a list the test asserts empty."""
    errors: list[str] = []
    strays: list[str] = []
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", loopback_only(strays))
    return page, errors, strays
