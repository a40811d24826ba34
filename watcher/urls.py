"""The canonical form of a publication's URL: one document, one key, however a source links it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The hosts of GOV.UK pages, which are read through GOV.UK's Content API.
GOVUK_HOSTS = ("www.gov.uk", "gov.uk")
# Query parameters that only say where a reader came from.
TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")


def canonical_url(url: str) -> str:
    """Scheme and host in lower case, `www.` kept apart from nothing else, no fragment, no
    tracking parameters, no trailing slash on the path (but "/" for the root); http and https of
    the same address are one publication."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    path = parts.path.rstrip("/") or "/"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.startswith(TRACKING)
        ]
    )
    return urlunsplit(("https", host + port, path, query, ""))
