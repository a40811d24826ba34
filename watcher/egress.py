"""The one HTTP client. Every outbound page request goes through `Egress.fetch`.

It owns the limits a polite, hostile-content-proof fetcher needs: a total deadline on top of
httpx's per-chunk timeouts, a cap on raw and decoded bytes (decompression is ours, so a gzip bomb
stops at the cap), redirects followed by hand with each hop re-checked, conditional GET with the
server's own validators, one request per host at a time with a minimum gap, and an address gate
that checks the IP actually dialled (so DNS rebinding and URL-parser tricks cannot reach private
or metadata addresses).
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx

from watcher.errors import EgressDenied, FetchError
from watcher.models import EgressPolicy, Fetched, Validators

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Never reachable, whatever the allowlist says: instance metadata services hand out credentials.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "168.63.129.16", "100.100.100.200")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Special-purpose ranges Python's `is_global` does not flag (as of 3.11): the 6to4 relay anycast
# (RFC 7526, deprecated and routed to whoever announces it) and IPv6 documentation (RFC 9637).
NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.88.99.0/24", "3fff::/20"))
ACCEPTED_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
)
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{1,40})""", re.I
)
LATIN_FAMILY = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
# Python codecs a page must not select: not web encodings (UTF-7 hides markup from sniffers), or
# unable to decode with errors="replace" (idna, undefined). Bytes-to-bytes codecs such as base64
# and zlib are refused by the probe in `_codec`.
NOT_WEB_CODECS = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden inside mapped, 6to4, Teredo and NAT64 IPv6 forms, if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


# A host made only of numbers (decimal, octal with a leading 0, or 0x hex) and dots: the resolver
# reads it as an IPv4 address (inet_aton), whatever a URL parser thinks.
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
HOST_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$", re.I)
MESSAGE_LIMIT = 300


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Hostile text made fit for a one-line error: whitespace collapsed, control characters shown
    escaped, and cut to `limit` characters."""
    flat = " ".join(text.split())
    flat = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def numeric_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numbers-and-dots host means to the resolver (`127.1`, `0x7f.0.0.1`,
    `0177.0.0.1`, `2130706433` are all 127.0.0.1), or None when the host is a name."""
    if not NUMERIC_HOST.match(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except OSError:
        return None


def parse_url(url: str) -> httpx.URL:
    """`url` as the fetcher will request it, or FetchError saying what makes it unusable.

    The one URL check: the config check calls it too, so a source that loads is a source the
    fetcher can request, and a redirect target is held to the same rules as a configured URL.
    """
    shown = one_line(url, 120)
    if any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in url):
        raise FetchError("bad_url", f"{shown} has a backslash or control character")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:  # unbalanced IPv6 brackets, a port out of range or not a number
        raise FetchError("bad_url", f"{shown} cannot be parsed ({one_line(str(exc))})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise EgressDenied(f"{shown} is not an http(s) URL")
    if not host:
        raise FetchError("bad_url", f"{shown} has no host")
    if port == 0:
        raise FetchError("bad_url", f"{shown} has port 0")
    meant = numeric_host(host)
    if meant is not None and str(meant) != host:
        raise FetchError(
            "bad_url",
            f"host {host!r} is a shorthand or zero-padded IPv4 form that parsers disagree on "
            f"(the resolver reads {meant}); write it as {meant}",
        )
    try:
        parsed = httpx.URL(url)
        _ = parsed.host  # decodes IDNA labels, which can fail
    except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors
        raise FetchError("bad_url", f"{shown} cannot be parsed ({one_line(str(exc))})") from None
    raw_host = parsed.raw_host.decode("ascii", "replace")
    if not raw_host:
        raise FetchError("bad_url", f"{shown} has no host")
    if ":" not in raw_host and not HOST_NAME.match(raw_host):
        raise FetchError("bad_url", f"{shown} has characters no host name can have")
    return parsed


def address_verdict(ip: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why connecting to `ip` is refused, or None when it is allowed."""
    inner = _unwrap(ip)
    if ip in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return "a cloud metadata address, never allowed"
    for net in allow:
        if inner.version == net.version and inner in net:
            return None
    if inner.is_loopback:
        return "a loopback address"
    if inner.is_multicast or inner.is_unspecified or inner.is_reserved or inner.is_link_local:
        return "a non-routable address"
    if not inner.is_global or any(
        inner in net for net in NOT_PUBLIC if net.version == inner.version
    ):
        return "a private address"
    return None


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
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
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


class _GatedTransport(httpx.AsyncBaseTransport):
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


class _HostGate:
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


class Egress:
    """Async context manager owning the HTTP client; `fetch` returns a `Fetched` or raises FetchError."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            transport=_GatedTransport(policy),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address gate
            timeout=httpx.Timeout(min(10.0, policy.timeout), read=policy.timeout),
            headers={
                "User-Agent": policy.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.1",
                "Accept-Encoding": "gzip, deflate",
            },
        )
        self._hosts = _HostGate(policy.per_host_gap)
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def __aenter__(self) -> Egress:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> Fetched:
        """GET `url` within every limit. 304 comes back as `not_modified`; anything else odd raises."""
        host = parse_url(url).host
        # The host's turn first, a concurrency slot second: a request queued behind a busy host
        # must not sit on a slot that requests to other hosts could use.
        async with self._hosts.lock(host):
            await self._hosts.wait_turn(host)
            async with self._slots:
                started = time.monotonic()
                try:
                    async with asyncio.timeout(self.policy.timeout):
                        return await self._fetch(url, validators, started)
                except TimeoutError:
                    raise FetchError(
                        "timeout", f"{host} did not answer in full within {self.policy.timeout:g}s"
                    ) from None
                except _TRANSPORT_ERRORS as exc:
                    raise _as_fetch_error(exc) from None
                except (httpx.InvalidURL, ValueError) as exc:
                    # httpx parses a redirect's Location as it reads the answer, before we do.
                    raise FetchError(
                        "redirects",
                        f"{host} redirected to a URL that cannot be parsed ({one_line(str(exc))})",
                    ) from None
                except FetchError:
                    raise
                except Exception as exc:
                    # Hostile answers must end as one failed check of this source, never as an
                    # exception that stops the pass for every other source: anything not met yet
                    # is logged with its traceback and reported as a fetch failure.
                    log.exception("unexpected fetch failure", extra={"source": host})
                    raise FetchError(
                        "internal",
                        f"unexpected {type(exc).__name__} fetching from {host}: "
                        f"{one_line(str(exc))}",
                    ) from None
                finally:
                    self._hosts.done(host)

    async def _fetch(self, url: str, validators: Validators | None, started: float) -> Fetched:
        current = url
        host = parse_url(url).host  # the key the host gate knows this fetch by
        for hop in range(self.policy.max_redirects + 1):
            headers = {}
            if hop == 0 and validators:
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            elsewhere = parse_url(current).host
            if elsewhere != host:
                # A redirect to another host: that host's gap holds too. Its turn is waited
                # for but its lock not taken, since two hosts redirecting to each other would
                # otherwise wait on each other's lock for ever.
                await self._hosts.wait_turn(elsewhere)
            try:
                async with self._client.stream("GET", current, headers=headers) as response:
                    if response.status_code in REDIRECT_CODES:
                        current = _next_hop(current, response.headers.get("location"))
                        continue
                    duration = int((time.monotonic() - started) * 1000)
                    if response.status_code == 304:
                        return Fetched(
                            url=url,
                            final_url=current,
                            status=304,
                            not_modified=True,
                            content_type="",
                            body=b"",
                            text="",
                            validators=validators or Validators(),
                            duration_ms=duration,
                            redirected=hop > 0,
                        )
                    if not 200 <= response.status_code < 300:
                        raise FetchError(
                            "http_status",
                            f"HTTP {response.status_code} from {urlsplit(current).hostname}",
                            status=response.status_code,
                        )
                    content_type = response.headers.get("content-type", "")
                    mime = content_type.split(";")[0].strip().lower()
                    if mime and mime not in ACCEPTED_TYPES:
                        raise FetchError(
                            "unsupported_type", f"content type {mime!r} is not a page watcher reads"
                        )
                    body = await self._read_body(response)
                    text = decode_text(body, _charset(content_type))
                    return Fetched(
                        url=url,
                        final_url=current,
                        status=response.status_code,
                        not_modified=False,
                        content_type=mime or "text/html",
                        body=body,
                        text=text,
                        # A redirected answer's validators belong to another URL: don't send them back.
                        validators=Validators()
                        if hop
                        else Validators(
                            etag=response.headers.get("etag"),
                            last_modified=response.headers.get("last-modified"),
                        ),
                        duration_ms=int((time.monotonic() - started) * 1000),
                        redirected=hop > 0,
                    )
            finally:
                if elsewhere != host:
                    self._hosts.done(elsewhere)
        raise FetchError("redirects", f"more than {self.policy.max_redirects} redirects from {url}")

    async def _read_body(self, response: httpx.Response) -> bytes:
        cap = self.policy.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise FetchError("too_large", f"body of {int(length)} bytes is over the {cap}-byte cap")
        decoder = _Decoder(response.headers.get("content-encoding", ""), cap)
        raw = 0
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > cap:
                raise FetchError("too_large", f"body is over the {cap}-byte cap")
            decoder.feed(chunk)
        return decoder.finish()


_TRANSPORT_ERRORS = (
    httpx.HTTPError,
    httpcore.ConnectError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    ssl.SSLError,
)


def _as_fetch_error(exc: BaseException) -> FetchError:
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


def _next_hop(current: str, location: str | None) -> str:
    if not location:
        raise FetchError("redirects", f"redirect from {current} has no Location")
    if "\\" in location or any(ord(c) < 32 or ord(c) == 127 for c in location):
        raise FetchError("redirects", f"redirect from {current} has a malformed Location")
    try:
        target = urljoin(current, location.strip())
    except ValueError:
        raise FetchError("redirects", f"redirect from {current} has a malformed Location") from None
    try:
        parse_url(target)
    except EgressDenied:
        raise EgressDenied(f"redirect from {current} to a non-http URL was refused") from None
    except FetchError as exc:
        raise FetchError("redirects", f"redirect from {current} refused: {exc}") from None
    return target


class _Decoder:
    """Content-Encoding decoding with the output capped *inside* decompression."""

    def __init__(self, encoding: str, cap: int) -> None:
        codings = [
            c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip() != "identity"
        ]
        if len(codings) > 1:
            raise FetchError("bad_encoding", f"stacked content encodings {encoding!r} are refused")
        self.cap = cap
        self.out = bytearray()
        self.coding = codings[0] if codings else ""
        self._fed = False
        if self.coding in ("gzip", "x-gzip"):
            self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "deflate":
            self._z = None  # zlib-wrapped or raw deflate: decided on the first bytes
        elif self.coding:
            raise FetchError("bad_encoding", f"content encoding {self.coding!r} is not supported")

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._fed = True
        if not self.coding:
            self._append(chunk)
            return
        if self._z is None:
            wbits = zlib.MAX_WBITS if (chunk[0] & 0x0F) == 8 else -zlib.MAX_WBITS
            self._z = zlib.decompressobj(wbits)
        data = chunk
        try:
            while data:
                room = self.cap - len(self.out) + 1
                self._append(self._z.decompress(data, room))
                data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"compressed body is corrupt ({exc})") from None

    def _append(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.cap:
            raise FetchError("too_large", f"decoded body is over the {self.cap}-byte cap")

    def finish(self) -> bytes:
        if self.coding and self._fed:  # an empty body has no encoding to check
            try:
                self._append(self._z.flush())
            except zlib.error as exc:
                raise FetchError("bad_encoding", f"compressed body is corrupt ({exc})") from None
            # A body cut short (a close-delimited answer dropped mid-way) would otherwise pass as a
            # shorter page and be reported as removed text.
            if not self._z.eof:
                raise FetchError(
                    "bad_encoding", "compressed body ends before its end marker (truncated)"
                )
        return bytes(self.out)


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type, re.I)
    return m.group(1) if m else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
        # LookupError for bytes-to-bytes codecs (base64, zlib, rot13), UnicodeError for idna.
        b"a".decode(name, "replace")
    except (LookupError, UnicodeError):
        return None
    if name in NOT_WEB_CODECS:
        return None
    if name == "utf-16":
        return "utf-16-le"  # WHATWG; Python's "utf-16" without a BOM means the machine's byte order
    # WHATWG: pages labelled latin-1 or ascii are decoded as windows-1252.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def decode_text(body: bytes, header_charset: str | None) -> str:
    """Bytes to text, deterministically: BOM, then HTTP charset, then <meta>, then UTF-8, then cp1252."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    declared = _codec(header_charset)
    if declared is None:
        m = META_CHARSET.search(body[:4096])
        declared = _codec(m.group(1).decode("ascii", "replace")) if m else None
        if declared and declared.startswith(("utf-16", "utf-32")):
            declared = "utf-8"  # WHATWG: a <meta> readable as ASCII cannot be UTF-16 (or 32)
    if declared in LATIN_FAMILY or declared is None:
        # A page that says latin-1 but is valid UTF-8 with multibyte text is UTF-8 in practice.
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body.decode(declared or "cp1252", errors="replace")
    return body.decode(declared, errors="replace")
