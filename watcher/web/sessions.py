"""Signed session cookies: what a session holds, and the key that signs it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from watcher.config import WebSettings
from watcher.statelock import read_only_error

SESSION_AGE = 12 * 3600
SECRET_FILE = "web-secret-key"  # noqa: S105 - a file name


def secret_key(web: WebSettings, state_dir: Path) -> bytes:
    """The key that signs sessions: from the environment, else made once into the state dir."""
    if web.secret_key is not None:
        return web.secret_key.reveal().encode()
    path = state_dir / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode()
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    except OSError as exc:
        # Where the session key would be kept: a read-only state is one line, not a traceback.
        raise read_only_error(state_dir, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


@dataclass(frozen=True)
class Session:
    user: str  # the reviewer's name, "" until known
    csrf: str
    expires: int
    authenticated: bool = False  # logged in with the password (a remembered name is not)
    fresh: bool = False  # made or changed by this request: the response must set the cookie
    sid: str = ""  # the server-side session a login started; logging out ends it

    @classmethod
    def new(cls, user: str = "", authenticated: bool = False, sid: str = "") -> Session:
        expires = int(time.time()) + SESSION_AGE
        return cls(user, secrets.token_urlsafe(24), expires, authenticated, fresh=True, sid=sid)


class Signer:
    """HMAC-SHA256 over a JSON payload: tamper-evident, not secret (it holds no secrets).

    `fingerprint` stands for the current password: a cookie made under another password (the
    password was changed) no longer loads."""

    def __init__(self, key: bytes, fingerprint: str = "") -> None:
        self.key = key
        self.fingerprint = fingerprint

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()

    def dump(self, session: Session) -> str:
        data = {
            "u": session.user,
            "c": session.csrf,
            "e": session.expires,
            "a": session.authenticated,
            "s": session.sid,
            "p": self.fingerprint,
        }
        payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload.encode())}"

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(
                str(data["u"]),
                str(data["c"]),
                int(data["e"]),
                data["a"] is True,
                sid=str(data.get("s", "")),
            )
            fingerprint = str(data.get("p", ""))
        except (ValueError, KeyError, TypeError):
            return None
        if session.authenticated and not hmac.compare_digest(fingerprint, self.fingerprint):
            return None
        return session if session.expires > time.time() else None
