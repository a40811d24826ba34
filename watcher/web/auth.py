"""Who may use the web app: login, API tokens, allowed Host names, CSRF and security headers.

The signed session cookie itself is in sessions.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool

from watcher.config import Secret, WebSettings
from watcher.errors import ConfigError
from watcher.web.calkey import CalendarKey
from watcher.web.logins import Logins
from watcher.web.sessions import SESSION_AGE, Session, Signer, secret_key

__all__ = ["SESSION_AGE", "Session", "Signer", "secret_key"]  # read from here by the app

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "watcher_session"
# Beyond loopback the cookie is Secure, and named so browsers hold it to that: a `__Host-` cookie
# is only accepted when Secure, from the host itself (no Domain), for every path.
SECURE_COOKIE = "__Host-watcher_session"
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind
# Exact paths (and the static prefix) that answer without a login, and nothing else.
PUBLIC_PATHS = frozenset({"/healthz", "/login"})
PUBLIC_PREFIXES = ("/static/",)
# The one path a calendar's secret key (`?key=`, calkey.py) opens, for clients that cannot log in.
CALENDAR_PATH = "/deadlines.ics"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Page text served as-is (snapshots) runs in no origin at all, whatever the browser sniffs.
CSP_TEXT = "default-src 'none'; sandbox; frame-ancestors 'none'"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def host_name(header: str) -> str:
    """The name in a Host header: "[::1]:8080" -> "::1", "Example.org.:443" -> "example.org"."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else ""
    return header.rpartition(":")[0].rstrip(".") if ":" in header else header.rstrip(".")


def allowed_hosts(listen_host: str, public_url: str | None) -> frozenset[str] | None:
    """The Host names the app answers to: its listen address, its public URL's host, and the
    loopback names when it listens there. None (any) only when it listens on every address
    and no public_url says which name is its own."""
    names: set[str] = set()
    host = listen_host.strip("[]").lower()
    if host in WILDCARD_HOSTS or is_loopback(host):
        names |= {n.strip("[]") for n in LOOPBACK_NAMES}
    if host not in WILDCARD_HOSTS:
        names.add(host)
    if public_url:
        public = urlsplit(public_url).hostname
        if public:
            names.add(public.lower())
    elif host in WILDCARD_HOSTS:
        return None
    return frozenset(names)


def _fingerprint(key: bytes, password: Secret | None) -> str:
    if password is None:
        return ""
    return hmac.new(key, b"password:" + password.reveal().encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Access:
    """The login policy: required when the app listens beyond loopback."""

    required: bool
    password: Secret | None
    tokens: tuple[Secret, ...]
    signer: Signer
    secure_cookie: bool = False
    hosts: frozenset[str] | None = None  # Host names answered; None: any
    logins: Logins | None = None  # server-side sessions and guessing limits
    calendar: CalendarKey | None = None  # the deadline calendar's secret link

    @classmethod
    def build(
        cls,
        web: WebSettings,
        host: str,
        state_dir: Path,
        logins: Logins | None = None,
        calendar: CalendarKey | None = None,
    ) -> Access:
        required = not is_loopback(host)
        if required and web.password is None and not web.tokens:
            raise ConfigError(
                f"[web]: listening on {host} needs a login: set {web.password_env} "
                f"(or {web.password_env}_FILE) to a password, or {web.tokens_env} to API tokens"
            )
        key = secret_key(web, state_dir)
        return cls(
            required=required,
            password=web.password,
            tokens=web.tokens,
            signer=Signer(key, _fingerprint(key, web.password)),
            secure_cookie=required or bool(web.public_url and web.public_url.startswith("https:")),
            hosts=allowed_hosts(host, web.public_url),
            logins=logins,
            calendar=calendar,
        )

    @property
    def cookie_name(self) -> str:
        return SECURE_COOKIE if self.secure_cookie else COOKIE

    def password_ok(self, given: str) -> bool:
        if self.password is None:
            return False
        return hmac.compare_digest(given.encode(), self.password.reveal().encode())

    def token_ok(self, given: str) -> bool:
        # Every token is compared, so the time taken does not tell which one nearly matched.
        found = False
        for token in self.tokens:
            found |= hmac.compare_digest(given.encode(), token.reveal().encode())
        return found

    def credentials_ok(self, header: str) -> bool:
        """`Authorization: Bearer TOKEN`, or Basic with a token as the password (feed readers
        speak Basic). Never the staff password: that only logs in through the throttled form."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.token_ok(value.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except ValueError:
                return False
            return self.token_ok(decoded.partition(":")[2])
        return False

    def cookie_header(self, session: Session) -> str:
        flags = f"Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_AGE}"
        if self.secure_cookie:
            flags += "; Secure"
        return f"{self.cookie_name}={self.signer.dump(session)}; {flags}"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _cookie(scope: Scope, name: str) -> str | None:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def _reply(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware in front of every route: session, login check, security headers.

    One place decides, for every path, whether a request gets in; routes never opt in or out.
    """

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if any(ord(c) < 32 or ord(c) == 127 for c in path):
            # A NUL or other control character names no page (and made StaticFiles raise).
            await _reply(
                _with_headers(send, path),
                404,
                b"not found\n",
                [(b"content-type", b"text/plain; charset=utf-8")],
            )
            return
        hosts = self.access.hosts
        if hosts is not None and host_name(_header(scope, b"host")) not in hosts:
            # Another name pointed at this address (DNS rebinding): not our page to show.
            await _reply(
                _with_headers(send, path),
                400,
                b"unknown Host: use the address the web app is served at\n",
                [(b"content-type", b"text/plain; charset=utf-8")],
            )
            return
        session = self.access.signer.load(_cookie(scope, self.access.cookie_name))
        if session and session.authenticated and self.access.logins is not None:
            logins = self.access.logins
            if not session.sid or not await run_in_threadpool(logins.live, session.sid):
                session = None  # logged out, or never logged in here
        session = session or Session.new()
        scope["watcher.session"] = session
        authorization = _header(scope, b"authorization")
        by_token = bool(authorization) and self.access.credentials_ok(authorization)
        scope["watcher.by_token"] = by_token
        allowed = not self.access.required or is_public(path) or session.authenticated or by_token
        if not allowed and path == CALENDAR_PATH and self.access.calendar is not None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            key = (query.get("key") or [""])[0]
            allowed = await run_in_threadpool(self.access.calendar.ok, key)

        secured = _with_headers(send, path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope.get("watcher.session", session)
                if current.fresh and not by_token:
                    cookie = self.access.cookie_header(current).encode()
                    message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await secured(message)

        if allowed:
            await self.app(scope, receive, send_with_headers)
            return
        wants_page = (
            scope["method"] == "GET"
            and not path.startswith("/api/")
            and not path.endswith((".atom", ".csv", ".json", ".txt", ".ics"))
        )
        if wants_page:
            target = path + (
                "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
            )
            location = "/login?next=" + quote(target, safe="")
            await _reply(send_with_headers, 303, b"", [(b"location", location.encode())])
            return
        await _reply(
            send_with_headers,
            401,
            b"login required: log in at /login, or send Authorization: Bearer TOKEN\n",
            [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"www-authenticate", b'Basic realm="watcher", charset="UTF-8"'),
            ],
        )


def _with_headers(send: Send, path: str) -> Send:
    """`send`, adding the security headers every answer carries (errors included)."""

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            extra = [
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"),
                (b"cross-origin-opener-policy", b"same-origin"),
            ]
            headers += [(k, v) for k, v in extra if k not in names]
            if not path.startswith(PUBLIC_PREFIXES) and b"cache-control" not in names:
                headers.append((b"cache-control", b"no-store"))
            message["headers"] = headers
        await send(message)

    return secured


def session_of(scope: Scope) -> Session:
    session = scope.get("watcher.session")
    return session if isinstance(session, Session) else Session.new()


def same_origin(scope: Scope) -> bool:
    """A browser's Origin header, when sent, must name this host: a form posted from another
    site is refused even before its token is checked."""
    origin = _header(scope, b"origin")
    if not origin or origin == "null":
        return not origin
    host = _header(scope, b"host")
    return origin.split("://", 1)[-1] == host


def csrf_ok(scope: Scope, token: str) -> bool:
    session = session_of(scope)
    return (
        bool(token)
        and not session.fresh
        and hmac.compare_digest(token.encode(), session.csrf.encode())
        and same_origin(scope)
    )


def safe_next(target: str | None) -> str:
    """Only a path on this site: "//evil.example" and "https://..." go home instead."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
