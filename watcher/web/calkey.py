"""The calendar's secret link. Calendar clients (Outlook, Google Calendar) fetch a feed by its
URL alone and cannot log in, so /deadlines.ics also answers to `?key=SECRET`: a random key shown
once when made (on the deadlines page or by `watcher calendar-link`), kept only as its SHA-256
in the state database, so a copy of the database does not give it away. Making a new key stops
the old link working. The key reads the deadline feed and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime

from watcher.store import Store, iso

KEY_HASH = "calendar_key_sha256"
KEY_MADE = "calendar_key_made_at"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CalendarKey:
    """The one live calendar key of a state database."""

    def __init__(self, store: Store, lock: threading.Lock | None = None) -> None:
        self.store = store
        self.lock = lock or threading.Lock()

    def new(self, now: datetime) -> str:
        """A new key, replacing any before it; the only time it is seen whole."""
        key = secrets.token_urlsafe(32)
        with self.lock:
            self.store.set_meta(KEY_HASH, _digest(key))  # the old key stops working here
            self.store.set_meta(KEY_MADE, iso(now))
        return key

    def made_at(self) -> str | None:
        with self.lock:
            return self.store.meta(KEY_MADE)

    def ok(self, given: str | None) -> bool:
        if not given or len(given) > 200:
            return False
        with self.lock:
            stored = self.store.meta(KEY_HASH)
        return bool(stored) and hmac.compare_digest(_digest(given), str(stored))


def feed_url(base: str, key: str) -> str:
    return f"{base.rstrip('/')}/deadlines.ics?key={key}"
