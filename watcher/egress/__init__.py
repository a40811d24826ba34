"""The one HTTP client. Every outbound page request goes through `Egress.fetch`.

It owns the limits a polite, hostile-content-proof fetcher needs: a total deadline on top of
httpx's per-chunk timeouts, a cap on raw and decoded bytes (decompression is ours, so a gzip bomb
stops at the cap), redirects followed by hand with each hop re-checked, conditional GET with the
server's own validators, one request per host at a time with a minimum gap, and an address gate
that checks the IP actually dialled (so DNS rebinding and URL-parser tricks cannot reach private
or metadata addresses).
"""

from __future__ import annotations

from watcher.egress.address import (
    IPAddress,
    IPNetwork,
    address_verdict,
    numeric_host,
    one_line,
    parse_url,
)
from watcher.egress.client import Egress
from watcher.egress.decode import decode_text
from watcher.models import EgressPolicy

__all__ = [
    "Egress",
    "EgressPolicy",
    "IPAddress",
    "IPNetwork",
    "address_verdict",
    "decode_text",
    "numeric_host",
    "one_line",
    "parse_url",
]
