"""The transport under the HTTP client: resolve once, refuse blocked answers, dial the checked
IP literal; and what its failures mean as a `FetchError`."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anyio
import httpcore
import httpx

from watcher.egress.address import IPNetwork, address_verdict, one_line
from watcher.errors import EgressDenied, FetchError
from watcher.models import EgressPolicy


def _literal(host: str) -> list[str]:
    """An IP literal is its own answer: no resolver call (a thread round trip per connection)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return []


async def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _GateBackend(httpcore.AsyncNetworkBackend):
    """Resolves once, refuses blocked answers, then dials the checked IP literal."""

    def __init__(self, allow: tuple[IPNetwork, ...]) -> None:
        self._allow = allow
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = _literal(host) or await _resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        for address in addresses:
            verdict = address_verdict(ipaddress.ip_address(address.split("%")[0]), self._allow)
            if verdict:
                raise EgressDenied(
                    f"{host} resolves to {address}, {verdict}; if this is an intranet source you "
                    "trust, add its network to [egress] allow_cidrs"
                )
        # Every answer was checked above, so any of them may be dialled: try them in the resolver's
        # order, as a browser does, instead of failing when the first (often IPv6) is unreachable.
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise EgressDenied("unix sockets are not reachable through egress")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CoreStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class GatedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport cannot take a network backend, so this thin one wraps httpcore's pool."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=max(4, policy.concurrency * 2),
            max_keepalive_connections=policy.concurrency,
            keepalive_expiry=5.0,
            retries=0,
            network_backend=_GateBackend(policy.allow_cidrs),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_CoreStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


TRANSPORT_ERRORS = (
    httpx.HTTPError,
    httpcore.ConnectError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    ssl.SSLError,
)


def as_fetch_error(exc: BaseException) -> FetchError:
    text = one_line(str(exc) or type(exc).__name__)
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, ssl.SSLError):
        return FetchError("tls", f"TLS failed: {text}")
    if isinstance(exc, httpcore.TimeoutException | httpx.TimeoutException):
        return FetchError("timeout", f"timed out: {text}")
    if isinstance(exc, httpcore.ConnectError | httpx.ConnectError):
        return FetchError("connect", f"could not connect: {text}")
    if "location header" in text.lower():
        return FetchError("redirects", f"redirect refused: {text}")
    return FetchError("protocol", f"broken HTTP exchange: {text}")
