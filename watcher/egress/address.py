"""The address gate: which URLs watcher may request and which IP addresses it may dial.

`parse_url` is the one URL check (the config check calls it too, so a source that loads is one
the fetcher can request); `address_verdict` says why an address is refused. The transport checks
the IP actually dialled against it, so DNS rebinding and URL-parser tricks cannot reach private
or metadata addresses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from watcher.errors import EgressDenied, FetchError

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
