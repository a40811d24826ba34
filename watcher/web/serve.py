"""Serving the web app with uvicorn, alone (`watcher serve`) or beside the daemon (`watcher run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator

import uvicorn

from watcher.config import Config, parse_listen
from watcher.errors import ConfigError, WatcherError
from watcher.web.app import create_app

log = logging.getLogger(__name__)


class WebError(WatcherError):
    """The web app could not start (the address is taken, or not ours)."""


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the daemon it runs beside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def server(config: Config, listen: str | None = None, embedded: bool = False) -> uvicorn.Server:
    """A uvicorn server for the web app on `listen` (default: `[web] listen`)."""
    address = listen or config.web.listen
    parsed = parse_listen(address)
    if parsed is None:
        raise ConfigError(
            f'--listen {address!r} is not an address; write it like "127.0.0.1:8080" or "off"'
        )
    host, port = parsed
    app = create_app(config, listen=address, scheduled=embedded)
    settings = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-* from anyone would fake the client address
        lifespan="on",
    )
    return _EmbeddedServer(settings) if embedded else uvicorn.Server(settings)


async def serve(server: uvicorn.Server, listen: str) -> None:
    """Serve until the server is told to exit; a failure to bind is a WebError."""
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits this way when it cannot bind
        raise WebError(
            f"cannot listen on {listen}: the address is in use or not on this machine; "
            "choose another with --listen or [web] listen"
        ) from None
    if not server.started:
        raise WebError(f"cannot listen on {listen}; see the error above")


async def serve_beside(web: uvicorn.Server, listen: str, stop: asyncio.Event) -> None:
    """Run the web app until `stop` is set (the daemon's shutdown). A web app that cannot bind
    is logged and the daemon goes on checking: alerts matter more than the pages."""
    task = asyncio.ensure_future(serve(web, listen))
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        exc = task.exception()
        if exc is not None:
            log.error("web app not started", extra={"error": str(exc)})
        return
    log.info("stopping the web app")
    web.should_exit = True
    await task
