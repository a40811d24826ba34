"""What the last HTTP response of an Apprise send said, for Retry-After.

Apprise reports only success or failure; a 429 or 503 with Retry-After is lost inside it. Apprise
sends through `requests` (from a thread pool of its own), so a wrapper on `Session.send` notes
the last response's Retry-After. The deliverer sends one message at a time, so what is noted
after a send belongs to that send. The wrapper changes nothing about the request.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

_lock = threading.Lock()
_last: dict[str, str | None] = {"retry_after": None}
_installed = False
MAX_WAIT = timedelta(days=1)  # a server asking for more than a day is not taken at its word


def install() -> None:
    global _installed
    if _installed:
        return
    import requests  # Apprise's HTTP library: loaded with Apprise, at the first send

    original = requests.Session.send

    def send(self: requests.Session, request: Any, **kwargs: Any) -> requests.Response:
        response = original(self, request, **kwargs)
        with _lock:
            _last["retry_after"] = response.headers.get("Retry-After")
        return response

    requests.Session.send = send  # type: ignore[method-assign]
    _installed = True


def reset() -> None:
    with _lock:
        _last["retry_after"] = None


def retry_after(now: datetime) -> timedelta | None:
    """The wait the last response asked for, if any."""
    with _lock:
        raw = _last["retry_after"]
    if not raw:
        return None
    raw = raw.strip()
    try:
        wait = timedelta(seconds=max(0, int(raw)))
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = max(timedelta(0), when - now)
    return min(wait, MAX_WAIT)
