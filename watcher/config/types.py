"""The typed, frozen values `sources.toml` is read into; notify, web and the daemon import these."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from watcher.categories import CATEGORIES
from watcher.errors import ConfigError
from watcher.models import EgressPolicy, Source
from watcher.topics import Topic

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SECRET_KEY = re.compile(r"pass|pwd|token|secret|key|auth|sig", re.I)
DOMAIN_NAME = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+\.?(:\d+)?$")


def _token_like(piece: str) -> bool:
    """A URL piece that may be a credential: not an address, a host name or a plain word."""
    piece = piece.strip()
    if len(piece) < 6 or DOMAIN_NAME.match(piece) or "@" in piece:
        return False
    try:
        ipaddress.ip_address(piece.strip("[]"))
        return False
    except ValueError:
        pass
    if piece.startswith("#"):
        return False  # a channel name
    mixed = piece.lower() != piece and piece.upper() != piece
    return len(piece) >= 16 or mixed or any(c.isdigit() for c in piece)


class Secret:
    """A value that must never be printed: repr and str hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def fragments(self) -> tuple[str, ...]:
        """The value and the pieces of it a library may print on its own, longest first.

        Apprise logs parts of a URL it rejects (for example the user of a mailto:// URL as an
        invalid From address), so redacting only the whole URL is not enough: the user name,
        password, and every token-like host, path segment or query value are hidden too. Host
        names, addresses and plain words are not secrets: hiding them would mask every
        "127.0.0.1" and every target named like a path segment in unrelated log lines.
        """
        pieces = {self._value}
        # Apprise reads several URLs from one value, split at spaces and commas, and logs each.
        words = [w for w in re.split(r"[\s,]+", self._value.strip()) if w]
        if len(words) > 1:
            found = [p for w in words for p in Secret(w).fragments() if _token_like(p)]
            return tuple(sorted(pieces | set(found), key=len, reverse=True))
        try:
            parts = urlsplit(self._value)
        except ValueError:
            return (self._value,)
        userinfo, _, hostport = parts.netloc.rpartition("@")
        always = [userinfo, *userinfo.split(":", 1)]
        maybe = [hostport, hostport.rpartition(":")[0], *parts.path.split("/")]
        for key, _, value in (pair.partition("=") for pair in parts.query.split("&")):
            (always if SECRET_KEY.search(key) else maybe).append(value)
        for candidate in always + [c for c in maybe if _token_like(unquote(c))]:
            for form in (candidate, unquote(candidate)):
                if len(form.strip()) >= 6:
                    pieces.add(form)
        return tuple(sorted(pieces, key=len, reverse=True))

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """Global `[watcher]` and `[egress]` settings."""

    state_dir: Path
    egress: EgressPolicy
    jitter: float = 0.1
    remind_days: tuple[int, ...] = (7, 1)  # reminders this many days before a deadline
    max_attempts: int = 8  # an alert is dead after this many failed sends
    storm_share: float = 0.5  # more than this share of a site's sources changing at once...
    storm_min_sources: int = 4  # ...on a site watched through at least this many: one summary
    failing_after: int = 3  # consecutive failed checks before a source-health alert
    alert_hold: float = 60.0  # seconds an alert waits, so a site-wide storm is seen whole
    digest_at: tuple[int, int] = (8, 0)  # UTC hour and minute daily and weekly digests go out
    categories: tuple[str, ...] = CATEGORIES  # the categories a change may be given
    model_path: Path | None = None  # a retrained model instead of the shipped one
    keep_checks: timedelta = timedelta(days=90)  # older checks no change refers to are pruned
    keep_snapshots: timedelta = timedelta(days=365)  # likewise for unreferenced snapshots
    health_max_age: timedelta | None = None  # None: derived from the daemon's heartbeat interval
    # How often a worker writes its heartbeat; with several workers a worker silent for 4 beats
    # is gone, and its sites and alerts go to the others.
    heartbeat_every: timedelta = timedelta(seconds=30)
    govuk_base: str = "https://www.gov.uk"  # where GOV.UK's Content and Search APIs are read
    new_per_pass: int = 20  # new publications read per listing-style source and pass; more wait
    follow_max: int = 200  # publications `follow = true` may add as watched sources, in all
    parse_processes: int = 0  # large pages read in a pool of this many processes; 0: threads
    # A source unchanged this long gets one staleness alert (None: never); a source may override.
    expect_change_within: timedelta | None = None
    # The PostgreSQL URL, read from the environment variable `database_env` names (or the file
    # its _FILE variable names); None: the SQLite file in state_dir.
    database_env: str = "WATCHER_DATABASE_URL"
    database: Secret | None = None

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL URL to open, or None for the SQLite state in `state_dir`."""
        return self.database.reveal() if self.database is not None else None


@dataclass(frozen=True)
class NotifyTarget:
    """A named alert destination; its Apprise URL comes from the environment or a secret file."""

    name: str
    env: str
    secret: Secret | None
    format: str | None = None  # a channel of notify.render.CHANNELS; by default from the URL scheme

    @property
    def scheme(self) -> str:
        if self.secret is None:
            return ""
        return self.secret.reveal().split(":", 1)[0].lower()


@dataclass(frozen=True)
class Route:
    """Which changes go to which targets, and how soon. Empty criteria match everything."""

    name: str
    targets: tuple[str, ...]
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    min_confidence: float = 0.0
    mode: str = "immediate"
    calibrated: bool = False  # min_confidence = "calibrated": each category's own threshold
    topics: tuple[str, ...] = ()  # [[topic]] names: the change must carry one of them


@dataclass(frozen=True)
class WebSettings:
    """The `[web]` table: where the staff web app listens and how staff log in.

    Secrets come from the environment variables named here (or their `*_FILE` files)."""

    listen: str = "127.0.0.1:8080"  # "host:port", or "off" (no web app under `watcher run`)
    public_url: str | None = None  # how staff reach it; used for links in feeds and alerts
    # Names of variables, not their values.
    password_env: str = "WATCHER_WEB_PASSWORD"  # noqa: S105
    tokens_env: str = "WATCHER_WEB_TOKENS"
    secret_key_env: str = "WATCHER_WEB_SECRET_KEY"  # noqa: S105
    password: Secret | None = None
    tokens: tuple[Secret, ...] = ()
    secret_key: Secret | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    sources: tuple[Source, ...]
    targets: tuple[NotifyTarget, ...]
    routes: tuple[Route, ...] = ()
    web: WebSettings = field(default_factory=WebSettings)
    topics: tuple[Topic, ...] = ()  # the [[topic]] tables, in the file's order

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"{self.path}: no source named {name!r}; known sources: {known}")
