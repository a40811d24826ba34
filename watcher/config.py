"""Parse and validate `sources.toml` into frozen objects, with errors that name the line and the fix."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import soupsieve

from watcher import PROJECT_URL, __version__
from watcher.classify.rules import LABELS
from watcher.egress import address_verdict, parse_url
from watcher.errors import ConfigError, FetchError
from watcher.logs import register_secret
from watcher.models import EgressPolicy, Source

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TOP_KEYS = ("watcher", "egress", "classify", "source", "notify", "route", "web")
CLASSIFY_KEYS = ("categories", "model")
WATCHER_KEYS = (
    "state_dir",
    "user_agent",
    "concurrency",
    "timeout",
    "max_bytes",
    "per_host_gap",
    "max_redirects",
    "default_every",
    "jitter",
    "remind_days",
    "max_attempts",
    "storm_share",
    "storm_min_sources",
    "failing_after",
    "alert_hold",
    "digest_at",
    "keep_checks",
    "keep_snapshots",
    "health_max_age",
)
EGRESS_KEYS = ("allow_cidrs",)
SOURCE_KEYS = ("name", "url", "every", "tags", "select", "exclude", "order_matters")
NOTIFY_KEYS = ("name", "env", "format")
ROUTE_KEYS = ("name", "targets", "tags", "sources", "categories", "min_confidence", "mode")
MODES = ("immediate", "hourly", "daily", "weekly")
FORMATS = ("slack", "email", "text", "mattermost", "discord", "teams", "telegram", "matrix")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEB_KEYS = ("listen", "public_url", "password_env", "tokens_env", "secret_key_env")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_EVERY = timedelta(seconds=10)
MAX_EVERY = timedelta(days=31)


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
    categories: tuple[str, ...] = LABELS  # the categories a change may be given
    model_path: Path | None = None  # a retrained model instead of the shipped one
    keep_checks: timedelta = timedelta(days=90)  # older checks no change refers to are pruned
    keep_snapshots: timedelta = timedelta(days=365)  # likewise for unreferenced snapshots
    health_max_age: timedelta | None = None  # None: derived from the daemon's heartbeat interval


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

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"{self.path}: no source named {name!r}; known sources: {known}")


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


class _Locator:
    """Finds the line of a table or key in the TOML text, since tomllib keeps no positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str]] = []
        for i, line in enumerate(self.lines, start=1):
            m = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", line)
            if m:
                self.headers.append((i, m.group(1)))

    def table(self, name: str, index: int = 0) -> int | None:
        found = [ln for ln, n in self.headers if n == name]
        return found[index] if index < len(found) else None

    def key(self, key: str, table: str | None = None, index: int = 0) -> int | None:
        start = self.table(table, index) if table else 0
        if table and start is None:
            return None
        start = start or 0
        later = [ln for ln, _ in self.headers if ln > start]
        end = later[0] if later else len(self.lines) + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for ln in range(start + 1, end):
            if pattern.match(self.lines[ln - 1]):
                return ln
        return start or None


class _Loader:
    def __init__(self, path: Path, text: str, environ: Mapping[str, str]) -> None:
        self.path = path
        self.where = _Locator(text)
        self.environ = environ

    def fail(self, line: int | None, message: str) -> ConfigError:
        place = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{place}: {message}")

    def check_keys(
        self,
        data: Mapping[str, Any],
        allowed: tuple[str, ...],
        what: str,
        table: str | None,
        index: int = 0,
    ) -> None:
        for key in data:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(key, allowed, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"allowed keys: {', '.join(allowed)}"
            if table == "notify" and key in ("url", "apprise", "urls"):
                fix = 'put the Apprise URL in an environment variable and name it with env = "..."'
            line = (
                self.where.key(key, table, index)
                if table
                else self.where.table(key) or self.where.key(key)
            )
            raise self.fail(line, f"{what}: unknown key {key!r}; {fix}")

    def duration(self, value: Any, key: str, what: str, table: str, index: int = 0) -> timedelta:
        line = self.where.key(key, table, index)
        if not isinstance(value, str):
            raise self.fail(line, f'{what}: {key} must be a string like "30m", "6h" or "1d"')
        try:
            return parse_duration(value)
        except ValueError:
            raise self.fail(
                line,
                f'{what}: {key} = {value!r} is not a duration; write it like "30m", "6h" or "1d"',
            ) from None

    def string_list(
        self, value: Any, key: str, what: str, table: str, index: int
    ) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(
                self.where.key(key, table, index),
                f"{what}: {key} must be a string or a list of strings",
            )
        return tuple(v.strip() for v in value)

    def settings(
        self, data: Mapping[str, Any], egress: Mapping[str, Any]
    ) -> tuple[Settings, timedelta]:
        self.check_keys(data, WATCHER_KEYS, "[watcher]", "watcher")
        self.check_keys(egress, EGRESS_KEYS, "[egress]", "egress")

        def number(key: str, default: float, low: float, high: float, whole: bool = False) -> float:
            value = data.get(key, default)
            kind = "a whole number" if whole else "a number"
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
                or (whole and not float(value).is_integer())
            ):
                raise self.fail(
                    self.where.key(key, "watcher"),
                    f"[watcher]: {key} must be {kind} from {low:g} to {high:g}, not {value!r}",
                )
            return float(value)

        def seconds(key: str, default: str, low: float, high: float) -> float:
            value = self.duration(
                data.get(key, default), key, "[watcher]", "watcher"
            ).total_seconds()
            if not low <= value <= high:
                raise self.fail(
                    self.where.key(key, "watcher"),
                    f"[watcher]: {key} must lie between {low:g}s and {high:g}s",
                )
            return value

        state_dir = data.get("state_dir", "state")
        if not isinstance(state_dir, str) or not state_dir.strip():
            raise self.fail(
                self.where.key("state_dir", "watcher"), "[watcher]: state_dir must be a path"
            )
        user_agent = data.get("user_agent", default_user_agent())
        if not isinstance(user_agent, str) or not user_agent.strip() or "\n" in user_agent:
            raise self.fail(
                self.where.key("user_agent", "watcher"),
                "[watcher]: user_agent must be one line naming you and a contact URL",
            )
        default_every = self.duration(
            data.get("default_every", "6h"), "default_every", "[watcher]", "watcher"
        )
        if not MIN_EVERY <= default_every <= MAX_EVERY:
            raise self.fail(
                self.where.key("default_every", "watcher"),
                '[watcher]: default_every must lie between "10s" and "31d"',
            )
        cidrs: list[IPNetwork] = []
        for raw in self.string_list(
            egress.get("allow_cidrs", []), "allow_cidrs", "[egress]", "egress", 0
        ):
            try:
                cidrs.append(ipaddress.ip_network(raw, strict=False))
            except ValueError:
                raise self.fail(
                    self.where.key("allow_cidrs", "egress"),
                    f'[egress]: allow_cidrs entry {raw!r} is not a network; write it like "10.20.0.0/16"',
                ) from None
        base = self.path.parent
        settings = Settings(
            state_dir=(base / state_dir).resolve()
            if not Path(state_dir).is_absolute()
            else Path(state_dir),
            egress=EgressPolicy(
                user_agent=user_agent.strip(),
                concurrency=int(number("concurrency", 4, 1, 64, whole=True)),
                timeout=seconds("timeout", "30s", 1, 600),
                max_bytes=int(number("max_bytes", 5_000_000, 10_000, 200_000_000, whole=True)),
                per_host_gap=seconds("per_host_gap", "2s", 0, 3600),
                max_redirects=int(number("max_redirects", 5, 0, 20, whole=True)),
                allow_cidrs=tuple(cidrs),
            ),
            jitter=number("jitter", 0.1, 0, 0.5),
            remind_days=self.remind_days(data.get("remind_days", [7, 1])),
            max_attempts=int(number("max_attempts", 8, 1, 100, whole=True)),
            storm_share=number("storm_share", 0.5, 0.05, 1.0),
            storm_min_sources=int(number("storm_min_sources", 4, 2, 100_000, whole=True)),
            failing_after=int(number("failing_after", 3, 1, 1000, whole=True)),
            alert_hold=seconds("alert_hold", "60s", 0, 3600),
            digest_at=self.hhmm(data.get("digest_at", "08:00")),
            keep_checks=self.bounded(data, "keep_checks", "90d", "1d", "3650d"),
            keep_snapshots=self.bounded(data, "keep_snapshots", "365d", "1d", "3650d"),
            health_max_age=(
                self.bounded(data, "health_max_age", "", "1m", "1d")
                if "health_max_age" in data
                else None
            ),
        )
        return settings, default_every

    def bounded(
        self, data: Mapping[str, Any], key: str, default: str, low: str, high: str
    ) -> timedelta:
        """A `[watcher]` duration that must lie between two durations written the same way."""
        value = self.duration(data.get(key, default), key, "[watcher]", "watcher")
        if not parse_duration(low) <= value <= parse_duration(high):
            raise self.fail(
                self.where.key(key, "watcher"),
                f'[watcher]: {key} must lie between "{low}" and "{high}"',
            )
        return value

    def classify(self, data: Any, settings: Settings) -> Settings:
        if not isinstance(data, dict):
            raise self.fail(
                self.where.key("classify"), "classify must be a table: write [classify]"
            )
        self.check_keys(data, CLASSIFY_KEYS, "[classify]", "classify")
        labels = self.string_list(
            data.get("categories", list(LABELS)), "categories", "[classify]", "classify", 0
        )
        unknown = [label for label in labels if label not in LABELS]
        if unknown or not labels:
            raise self.fail(
                self.where.key("categories", "classify"),
                f"[classify]: categories {unknown or '(none)'} not known; choose from {', '.join(LABELS)}",
            )
        model = data.get("model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise self.fail(
                self.where.key("model", "classify"), "[classify]: model must be a file path"
            )
        model_path = None
        if model:
            model_path = Path(model) if Path(model).is_absolute() else self.path.parent / model
        return replace(settings, categories=tuple(labels), model_path=model_path)

    def hhmm(self, value: Any) -> tuple[int, int]:
        m = HHMM_RE.match(value) if isinstance(value, str) else None
        if m is None:
            raise self.fail(
                self.where.key("digest_at", "watcher"),
                f'[watcher]: digest_at must be a UTC time like "08:00", not {value!r}',
            )
        return int(m.group(1)), int(m.group(2))

    def route(
        self,
        data: Any,
        index: int,
        targets: tuple[NotifyTarget, ...],
        sources: tuple[Source, ...],
        labels: tuple[str, ...],
    ) -> Route:
        header = self.where.table("route", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[route]] must be a table")
        name = data.get("name", f"route-{index + 1}")
        what = f"route {name!r}"
        self.check_keys(data, ROUTE_KEYS, what, "route", index)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(header, f"{what}: name must be letters, digits, '.', '_' or '-'")

        def names(key: str, known: list[str], kind: str) -> tuple[str, ...]:
            given = self.string_list(data.get(key, []), key, what, "route", index)
            unknown = [g for g in given if g not in known]
            if unknown:
                raise self.fail(
                    self.where.key(key, "route", index) or header,
                    f"{what}: {key} {unknown} not known; {kind}: {', '.join(known) or '(none)'}",
                )
            return given

        chosen = names("targets", [t.name for t in targets], "the [[notify]] targets are")
        if not chosen:
            raise self.fail(
                header,
                f'{what}: targets is required, like targets = ["{targets[0].name if targets else "team-mail"}"]',
            )
        mode = data.get("mode", "immediate")
        if mode not in MODES:
            raise self.fail(
                self.where.key("mode", "route", index) or header,
                f"{what}: mode must be one of {', '.join(MODES)}, not {mode!r}",
            )
        confidence = data.get("min_confidence", 0.0)
        calibrated = confidence == "calibrated"
        confidence = 0.0 if calibrated else confidence
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0 <= confidence <= 1
        ):
            raise self.fail(
                self.where.key("min_confidence", "route", index) or header,
                f'{what}: min_confidence must be a number from 0 to 1 or "calibrated", '
                f"not {confidence!r}",
            )
        return Route(
            name=name,
            targets=chosen,
            tags=self.string_list(data.get("tags", []), "tags", what, "route", index),
            sources=names("sources", [s.name for s in sources], "the sources are"),
            categories=names("categories", list(labels), "the categories are"),
            min_confidence=float(confidence),
            mode=mode,
            calibrated=calibrated,
        )

    def remind_days(self, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 365 for d in value
        ):
            raise self.fail(
                self.where.key("remind_days", "watcher"),
                "[watcher]: remind_days must be a list of whole days from 0 to 365, like [7, 1]",
            )
        return tuple(sorted(set(value), reverse=True))

    def url(self, value: Any, what: str, index: int, allow: tuple[IPNetwork, ...] = ()) -> str:
        line = self.where.key("url", "source", index)
        if not isinstance(value, str):
            raise self.fail(line, f"{what}: url must be a string")
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in value):
            raise self.fail(
                line, f"{what}: url has spaces, control characters or backslashes; remove them"
            )
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1/" (unbalanced IPv6 brackets)
            raise self.fail(
                line, f"{what}: url is malformed; write it like https://www.gov.uk/..."
            ) from None
        if parts.scheme not in ("http", "https"):
            raise self.fail(
                line,
                f"{what}: url scheme {parts.scheme or '(none)'!r} is not allowed; use https:// or http://",
            )
        # Before the host check, which quotes the URL: a password must never reach a message.
        if "@" in parts.netloc:
            raise self.fail(line, f"{what}: url must not carry a user name or password")
        if not parts.hostname:
            raise self.fail(
                line, f"{what}: url {value!r} has no host; write it like https://www.gov.uk/..."
            )
        try:
            _ = parts.port
        except ValueError:
            raise self.fail(line, f"{what}: url has an invalid port") from None
        # The fetcher's own URL check and address gate, so what loads is what it will request.
        try:
            host = parse_url(value).host
        except FetchError as exc:
            raise self.fail(
                line, f"{what}: url {exc}; write it like https://www.gov.uk/..."
            ) from None
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return value  # a name: resolved, and its answers checked, at fetch time
        verdict = address_verdict(literal, allow)
        if verdict:
            raise self.fail(
                line,
                f"{what}: url host {literal} is {verdict}, which the fetcher refuses; if this is "
                "an intranet source you trust, add its network to [egress] allow_cidrs",
            )
        return value

    def source(
        self,
        data: Any,
        index: int,
        default_every: timedelta,
        allow: tuple[IPNetwork, ...] = (),
    ) -> Source:
        header = self.where.table("source", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[source]] must be a table")
        name = data.get("name")
        what = f"source {name!r}" if isinstance(name, str) else f"source #{index + 1}"
        self.check_keys(data, SOURCE_KEYS, what, "source", index)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(
                self.where.key("name", "source", index) or header,
                f"{what}: name is required: letters, digits, '.', '_' or '-', at most 64 characters",
            )
        if "url" not in data:
            raise self.fail(header, f"{what}: url is required")
        every = default_every
        if "every" in data:
            every = self.duration(data["every"], "every", what, "source", index)
        if not MIN_EVERY <= every <= MAX_EVERY:
            raise self.fail(
                self.where.key("every", "source", index),
                f'{what}: every must lie between "10s" and "31d"',
            )
        tags = self.string_list(data.get("tags", []), "tags", what, "source", index)
        select = self.string_list(data.get("select", []), "select", what, "source", index)
        exclude = self.string_list(data.get("exclude", []), "exclude", what, "source", index)
        for key, selectors in (("select", select), ("exclude", exclude)):
            for sel in selectors:
                try:
                    soupsieve.compile(sel)
                except (
                    soupsieve.SelectorSyntaxError,
                    NotImplementedError,
                    ValueError,
                    TypeError,
                ) as exc:
                    raise self.fail(
                        self.where.key(key, "source", index),
                        f"{what}: {key} {sel!r} is not a valid CSS selector ({str(exc).splitlines()[0]})",
                    ) from None
        order_matters = data.get("order_matters", False)
        if not isinstance(order_matters, bool):
            raise self.fail(
                self.where.key("order_matters", "source", index),
                f"{what}: order_matters must be true or false",
            )
        return Source(
            name=name,
            url=self.url(data["url"], what, index, allow),
            every=every,
            tags=tags,
            select=select,
            exclude=exclude,
            order_matters=order_matters,
        )

    def target(self, data: Any, index: int) -> NotifyTarget:
        header = self.where.table("notify", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[notify]] must be a table")
        name = data.get("name")
        what = f"notify {name!r}" if isinstance(name, str) else f"notify #{index + 1}"
        self.check_keys(data, NOTIFY_KEYS, what, "notify", index)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(header, f"{what}: name is required: letters, digits, '.', '_' or '-'")
        env = data.get("env")
        env_line = self.where.key("env", "notify", index) or header
        if not isinstance(env, str) or not ENV_RE.match(env):
            raise self.fail(
                env_line,
                f'{what}: env must name an environment variable holding the Apprise URL, like env = "WATCHER_SLACK_URL"',
            )
        fmt = data.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise self.fail(
                self.where.key("format", "notify", index) or header,
                f"{what}: format must be one of {', '.join(FORMATS)} (or left out), not {fmt!r}",
            )
        return NotifyTarget(name=name, env=env, secret=self.secret(env, what, env_line), format=fmt)

    def web(self, data: Any) -> WebSettings:
        if not isinstance(data, dict):
            raise self.fail(self.where.key("web"), "web must be a table: write it as [web]")
        self.check_keys(data, WEB_KEYS, "[web]", "web")
        listen = data.get("listen", WebSettings.listen)
        if not isinstance(listen, str) or (listen != "off" and parse_listen(listen) is None):
            raise self.fail(
                self.where.key("listen", "web"),
                f'[web]: listen = {listen!r} is not an address; write it like "127.0.0.1:8080" or "off"',
            )
        public_url = data.get("public_url")
        if public_url is not None:
            parts = urlsplit(public_url) if isinstance(public_url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(
                    self.where.key("public_url", "web"),
                    '[web]: public_url must be an http(s) URL like "https://watcher.example.org"',
                )
            public_url = public_url.rstrip("/")
        names: dict[str, str] = {}
        for key in ("password_env", "tokens_env", "secret_key_env"):
            value = data.get(key, getattr(WebSettings, key))
            if not isinstance(value, str) or not ENV_RE.match(value):
                raise self.fail(
                    self.where.key(key, "web"),
                    f'[web]: {key} must name an environment variable, like "WATCHER_WEB_PASSWORD"',
                )
            names[key] = value
        line = self.where.table("web")
        tokens = self.secret(names["tokens_env"], "[web]", line)
        return WebSettings(
            listen=listen,
            public_url=public_url,
            password=self.secret(names["password_env"], "[web]", line),
            tokens=tuple(
                Secret(t) for t in (tokens.reveal().replace(",", " ").split() if tokens else ())
            ),
            secret_key=self.secret(names["secret_key_env"], "[web]", line),
            **names,
        )

    def secret(self, env: str, what: str, line: int | None = None) -> Secret | None:
        value = self.environ.get(env, "").strip()
        if value:
            return Secret(value)
        file_var = f"{env}_FILE"
        file_path = self.environ.get(file_var, "").strip()
        if not file_path:
            return None
        try:
            content = Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise self.fail(
                line,
                f"{what}: cannot read the secret file named by {file_var} "
                f"({exc.strerror or type(exc).__name__}); check the path and its permissions",
            ) from None
        except UnicodeDecodeError:  # its message would quote bytes of the secret
            raise self.fail(
                line,
                f"{what}: the secret file named by {file_var} is not UTF-8 text; write the URL as text",
            ) from None
        return Secret(content) if content else None


def load_config(
    path: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
    state_dir: str | None = None,
) -> Config:
    """Read and validate a sources file. Raises ConfigError with a one-line message."""
    path = Path(path)
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; pass --config FILE or set WATCHER_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc}); check the file and its permissions"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = f":{m.group(1)}" if m else ""
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise ConfigError(
            f"{path}{line}: invalid TOML: {detail}; fix the syntax on that line"
        ) from None

    loader = _Loader(path, text, env)
    loader.check_keys(raw, TOP_KEYS, "top level", None)
    watcher_table = raw.get("watcher", {})
    egress_table = raw.get("egress", {})
    for name, table in (("watcher", watcher_table), ("egress", egress_table)):
        if not isinstance(table, dict):
            raise loader.fail(
                loader.where.key(name), f"{name} must be a table: write it as [{name}]"
            )
    settings, default_every = loader.settings(watcher_table, egress_table)
    settings = loader.classify(raw.get("classify", {}), settings)
    if state_dir:
        settings = replace(settings, state_dir=Path(state_dir).resolve())

    raw_sources = raw.get("source", [])
    if not isinstance(raw_sources, list):
        raise loader.fail(loader.where.table("source"), "write each source as a [[source]] table")
    allow = settings.egress.allow_cidrs
    sources = tuple(loader.source(s, i, default_every, allow) for i, s in enumerate(raw_sources))
    _no_duplicates(loader, [s.name for s in sources], "source")

    raw_targets = raw.get("notify", [])
    if not isinstance(raw_targets, list):
        raise loader.fail(loader.where.table("notify"), "write each target as a [[notify]] table")
    targets = tuple(loader.target(t, i) for i, t in enumerate(raw_targets))
    _no_duplicates(loader, [t.name for t in targets], "notify")

    raw_routes = raw.get("route", [])
    if not isinstance(raw_routes, list):
        raise loader.fail(loader.where.table("route"), "write each route as a [[route]] table")
    routes = tuple(
        loader.route(r, i, targets, sources, settings.categories) for i, r in enumerate(raw_routes)
    )
    _no_duplicates(loader, [r.name for r in routes], "route")
    web = loader.web(raw.get("web", {}))
    return Config(
        path=path, settings=settings, sources=sources, targets=targets, routes=routes, web=web
    )


def parse_listen(text: str) -> tuple[str, int] | None:
    """'127.0.0.1:8080' -> ('127.0.0.1', 8080); '[::1]:8080' -> ('::1', 8080); None if malformed."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or any(c.isspace() or c in "/[]@" for c in host):
        return None
    return host, int(port)


def _no_duplicates(loader: _Loader, names: list[str], table: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise loader.fail(
                loader.where.key("name", table, i),
                f"{table} name {name!r} is used twice (first by {table} #{seen[name] + 1}); "
                "give each a unique name",
            )
        seen[name] = i


def register_secrets(config: Config) -> None:
    """Hide every target URL, and the pieces a library may print of it, from all log lines."""
    for target in config.targets:
        if target.secret is not None:
            for piece in target.secret.fragments():
                register_secret(piece)
    web = config.web
    for secret in (web.password, web.secret_key, *web.tokens):
        if secret is not None:
            register_secret(secret.reveal())
