"""Password guessing, slowed then stopped; sessions that end when staff log out.

Failed logins are counted per client address and for everyone together ("*"), in the state
database, so parallel guesses, several processes and restarts all see the same count:

- a client gets CLIENT_FREE failures at once, then waits 1 s, 2 s, 4 s ... (at most
  CLIENT_MAX_WAIT) before its next password is even looked at; at CLIENT_LOCK_AT failures it is
  locked out until `watcher logins clear` (or a success before then resets it);
- everyone together gets GLOBAL_FREE failures per quiet quarter hour, then the same doubling
  wait (at most GLOBAL_MAX_WAIT) applies to every password tried, from anywhere. There is no
  global lockout: one attacker must not be able to lock every member of staff out;
- while a client's password is being checked, its other attempts wait (IN_FLIGHT), so 200
  parallel guesses are one guess.

Behind a reverse proxy every client has the proxy's address, so the per-client limit acts as a
second global one (watcher does not trust X-Forwarded-For, which anyone can send).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from watcher.rows import LoginFailures
from watcher.store import Store

EVERYONE = "*"
CLIENT_FREE = 3
CLIENT_LOCK_AT = 10
CLIENT_MAX_WAIT = timedelta(minutes=5)
CLIENT_FORGET = timedelta(hours=24)
GLOBAL_FREE = 30
GLOBAL_MAX_WAIT = timedelta(minutes=1)
GLOBAL_FORGET = timedelta(minutes=15)
IN_FLIGHT = timedelta(seconds=1)


def client_key(address: str | None) -> str:
    return f"ip:{address or 'unknown'}"


def _limits(client: str) -> tuple[int, timedelta, timedelta, int | None]:
    if client == EVERYONE:
        return GLOBAL_FREE, GLOBAL_MAX_WAIT, GLOBAL_FORGET, None
    return CLIENT_FREE, CLIENT_MAX_WAIT, CLIENT_FORGET, CLIENT_LOCK_AT


def wait_after(failures: int, free: int, cap: timedelta) -> timedelta:
    """How long to wait after `failures` failures: none for the first `free`, then doubling."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 30)), cap)


def judge_attempt(
    row: LoginFailures, now: datetime
) -> tuple[datetime | None, bool, datetime | None]:
    """(come back at, locked out, hold this client until) for a password about to be tried."""
    if row.locked:
        return None, True, None
    if row.next_at is not None and row.next_at > now:
        return row.next_at, False, None
    free, _, forget, _ = _limits(row.client)
    fresh = row.last_at is None or now - row.last_at > forget
    failures = 0 if fresh else row.failures
    busy = row.client != EVERYONE or failures >= free
    return None, False, (now + IN_FLIGHT) if busy else None


def judge_failure(previous: LoginFailures, now: datetime) -> tuple[int, datetime, bool]:
    """(failures, next attempt at, locked out) once another failure is counted."""
    free, cap, forget, lock_at = _limits(previous.client)
    stale = previous.last_at is None or now - previous.last_at > forget
    failures = 1 if stale else previous.failures + 1
    locked = lock_at is not None and failures >= lock_at
    return failures, now + wait_after(failures, free, cap), locked


@dataclass(frozen=True)
class Refusal:
    """Why a login is not looked at now: a wait (seconds) or a lockout."""

    locked: bool
    retry_after: int


class Logins:
    """Sessions and throttling over the web app's store connection (used under its lock)."""

    def __init__(self, store: Store, lock: threading.Lock) -> None:
        self.store = store
        self.lock = lock

    def may_try(self, address: str | None, now: datetime) -> Refusal | None:
        with self.lock:
            until = self.store.login_attempt([client_key(address), EVERYONE], now, judge_attempt)
        if until is None:
            return None
        if until.year == datetime.max.year:
            return Refusal(locked=True, retry_after=0)
        return Refusal(locked=False, retry_after=max(1, int((until - now).total_seconds() + 0.999)))

    def failed(self, address: str | None, now: datetime) -> None:
        with self.lock:
            self.store.login_failed([client_key(address), EVERYONE], now, judge_failure)

    def succeeded(self, address: str | None, user: str, age: timedelta) -> str:
        """Forget the client's failures and start a session; returns its id.

        A session's life runs on the wall clock, as the signed cookie's expiry and `live` do:
        started on the app's clock (which tests may fix) it ended when the real day moved on."""
        sid = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        with self.lock:
            self.store.login_succeeded(client_key(address))
            self.store.session_start(sid, user, now, now + age)
        return sid

    def live(self, sid: str) -> bool:
        with self.lock:
            return self.store.session_live(sid, datetime.now(UTC))

    def end(self, sid: str) -> None:
        with self.lock:
            self.store.session_end(sid)
