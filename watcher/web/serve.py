"""Serving the web app with uvicorn, alone (`watcher serve`) or beside the daemon (`watcher run`)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Generator

import uvicorn

from watcher.config import Config, parse_listen
from watcher.errors import ConfigError, WatcherError
from watcher.web.app import create_app

log = logging.getLogger(__name__)


class WebError(WatcherError):
    """The web app could not start (the address is taken, or not ours): a usage error."""

    exit_code = 2


def bind(listen: str) -> socket.socket:
    """A socket bound to `listen` for the web app, taken before anything is said or started, so
    that an address in use is one clean line (uvicorn would log its raw OSError first)."""
    parsed = parse_listen(listen)
    if parsed is None:
        raise ConfigError(
            f'--listen {listen!r} is not an address; write it like "127.0.0.1:8080" or "off"'
        )
    host, port = parsed
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise WebError(
            f"{host} is not a known host name; pick another address with --listen"
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WebError(_bind_problem(exc, host, port)) from None
    return sock


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use; pick another with --listen or stop the other program"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; pick another with --listen"
    if exc.errno == errno.EACCES:
        return f"port {port} on {host} needs privileges; pick one above 1023 with --listen"
    return f"cannot listen on port {port} on {host} ({exc.strerror}); pick another with --listen"


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


async def serve(server: uvicorn.Server, listen: str, sock: socket.socket | None = None) -> None:
    """Serve until the server is told to exit, on `sock` when it is bound already (`bind`); a
    failure to bind is a WebError."""
    try:
        await server.serve(sockets=[sock] if sock is not None else None)
    except SystemExit:  # uvicorn exits this way when it cannot bind
        raise WebError(
            f"cannot listen on {listen}: the address is in use or not on this machine; "
            "choose another with --listen or [web] listen"
        ) from None
    if not server.started:
        raise WebError(f"cannot listen on {listen}; see the error above")


async def serve_beside(
    web: uvicorn.Server, listen: str, sock: socket.socket | None, stop: asyncio.Event
) -> None:
    """Run the web app on `sock` (bound before the daemon started, so an address in use stops
    `run` at once) until `stop` is set (the daemon's shutdown). A web app that fails later is
    logged and the daemon goes on checking: alerts matter more than the pages."""
    task = asyncio.ensure_future(serve(web, listen, sock))
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
