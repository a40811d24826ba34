"""Small parsers of values written in sources.toml and on the command line. Pure."""

from __future__ import annotations

import re
from datetime import timedelta

from watcher import PROJECT_URL, __version__

DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def default_user_agent() -> str:
    return f"watcher/{__version__} (+{PROJECT_URL})"


def parse_duration(text: str) -> timedelta:
    """'30m' -> 30 minutes. Raises ValueError on anything else."""
    m = DURATION_RE.match(text)
    if not m:
        raise ValueError(text)
    try:
        return timedelta(seconds=int(m.group(1)) * DURATION_UNITS[m.group(2)])
    except OverflowError:  # "99999999999999999999d" is well-formed but no timedelta holds it
        raise ValueError(text) from None


def parse_listen(text: str) -> tuple[str, int] | None:
    """'127.0.0.1:8080' -> ('127.0.0.1', 8080); '[::1]:8080' -> ('::1', 8080); None if malformed."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or any(c.isspace() or c in "/[]@" for c in host):
        return None
    return host, int(port)
