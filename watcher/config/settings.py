"""The `[watcher]`, `[egress]` and `[classify]` tables. Every default is taken from `Settings`
(and `EgressPolicy`), where it is declared once; here are only the bounds."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import MISSING, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.categories import CATEGORIES
from watcher.config.parse import default_user_agent, parse_duration
from watcher.config.reader import Reader
from watcher.config.types import IPNetwork, Secret, Settings
from watcher.models import EgressPolicy

CLASSIFY_KEYS = ("categories", "model")
WATCHER_KEYS = (
    "state_dir",
    "user_agent",
    "concurrency",
    "timeout",
    "max_bytes",
    "per_host_gap",
    "per_host_concurrency",
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
    "heartbeat_every",
    "govuk_base",
    "new_per_pass",
    "follow_max",
    "parse_processes",
    "expect_change_within",
    "database_env",
    "database",
)
ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
URL_PREFIXES = ("postgresql://", "postgres://")
EGRESS_KEYS = ("allow_cidrs",)
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MIN_EVERY = timedelta(seconds=10)
MAX_EVERY = timedelta(days=31)
# The defaults of every [watcher] setting, as Settings declares them.
DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}
EGRESS = EgressPolicy(user_agent="")  # its field defaults: the [watcher] request limits


class SettingsReader(Reader):
    def database(self, data: Mapping[str, Any]) -> tuple[str, Secret | None]:
        """Where the PostgreSQL URL comes from: never the file itself, which is shared and
        committed; the environment variable `database_env` names, or its _FILE secret file."""
        env = data.get("database_env", DEFAULTS["database_env"])
        if "database" in data:
            raise self.fail(
                self.where.key("database", "watcher"),
                "[watcher]: database must not be written in the config (it would hold the "
                "password): put the postgresql:// URL in the environment variable "
                f"{env if isinstance(env, str) else 'WATCHER_DATABASE_URL'} or the secret file "
                "its _FILE variable names, and name another variable with database_env",
            )
        line = self.where.key("database_env", "watcher")
        if not isinstance(env, str) or not ENV_NAME_RE.match(env):
            raise self.fail(
                line,
                "[watcher]: database_env must name an environment variable holding the "
                'PostgreSQL URL, like database_env = "WATCHER_DATABASE_URL"',
            )
        secret = self.secret(env, "[watcher] database", line)
        if secret is not None and not secret.reveal().startswith(URL_PREFIXES):
            raise self.fail(
                line,
                f"[watcher]: ${env} must be a postgresql:// URL (value hidden); unset it "
                "to keep the state in SQLite",
            )
        return env, secret

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

        def seconds(key: str, default: float, low: float, high: float) -> float:
            value = (
                self.duration(data[key], key, "[watcher]", "watcher").total_seconds()
                if key in data
                else default
            )
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
        database_env, database = self.database(data)
        base = self.path.parent
        settings = Settings(
            database_env=database_env,
            database=database,
            state_dir=(base / state_dir).resolve()
            if not Path(state_dir).is_absolute()
            else Path(state_dir),
            egress=EgressPolicy(
                user_agent=user_agent.strip(),
                concurrency=int(number("concurrency", EGRESS.concurrency, 1, 64, whole=True)),
                timeout=seconds("timeout", EGRESS.timeout, 1, 600),
                max_bytes=int(
                    number("max_bytes", EGRESS.max_bytes, 10_000, 200_000_000, whole=True)
                ),
                per_host_gap=seconds("per_host_gap", EGRESS.per_host_gap, 0, 3600),
                per_host_concurrency=int(
                    number("per_host_concurrency", EGRESS.per_host_concurrency, 1, 32, whole=True)
                ),
                max_redirects=int(number("max_redirects", EGRESS.max_redirects, 0, 20, whole=True)),
                allow_cidrs=tuple(cidrs),
            ),
            jitter=number("jitter", DEFAULTS["jitter"], 0, 0.5),
            remind_days=self.remind_days(data.get("remind_days", list(DEFAULTS["remind_days"]))),
            max_attempts=int(number("max_attempts", DEFAULTS["max_attempts"], 1, 100, whole=True)),
            storm_share=number("storm_share", DEFAULTS["storm_share"], 0.05, 1.0),
            storm_min_sources=int(
                number("storm_min_sources", DEFAULTS["storm_min_sources"], 2, 100_000, whole=True)
            ),
            failing_after=int(
                number("failing_after", DEFAULTS["failing_after"], 1, 1000, whole=True)
            ),
            alert_hold=seconds("alert_hold", DEFAULTS["alert_hold"], 0, 3600),
            digest_at=self.hhmm(data["digest_at"])
            if "digest_at" in data
            else DEFAULTS["digest_at"],
            keep_checks=self.bounded(data, "keep_checks", DEFAULTS["keep_checks"], "1d", "3650d"),
            keep_snapshots=self.bounded(
                data, "keep_snapshots", DEFAULTS["keep_snapshots"], "1d", "3650d"
            ),
            health_max_age=(
                self.bounded(data, "health_max_age", None, "1m", "1d")
                if "health_max_age" in data
                else None
            ),
            heartbeat_every=self.bounded(
                data, "heartbeat_every", DEFAULTS["heartbeat_every"], "1s", "10m"
            ),
            govuk_base=self.govuk_base(data.get("govuk_base", DEFAULTS["govuk_base"])),
            new_per_pass=int(number("new_per_pass", DEFAULTS["new_per_pass"], 1, 500, whole=True)),
            follow_max=int(number("follow_max", DEFAULTS["follow_max"], 0, 100_000, whole=True)),
            parse_processes=int(
                number("parse_processes", DEFAULTS["parse_processes"], 0, 64, whole=True)
            ),
            expect_change_within=self.expect(data, "[watcher]", "watcher"),
        )
        return settings, default_every

    def govuk_base(self, value: Any) -> str:
        """GOV.UK's address, bare: the APIs' paths are added to it."""
        parts = urlsplit(value) if isinstance(value, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or "@" in parts.netloc
        ):
            raise self.fail(
                self.where.key("govuk_base", "watcher"),
                f'[watcher]: govuk_base must be a site address like "https://www.gov.uk", '
                f"not {value!r}",
            )
        return str(value).rstrip("/")

    def bounded(
        self, data: Mapping[str, Any], key: str, default: timedelta | None, low: str, high: str
    ) -> timedelta:
        """A `[watcher]` duration that must lie between two durations written the same way."""
        if key in data or default is None:
            value = self.duration(data.get(key), key, "[watcher]", "watcher")
        else:
            value = default
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
            data.get("categories", list(CATEGORIES)), "categories", "[classify]", "classify", 0
        )
        unknown = [label for label in labels if label not in CATEGORIES]
        if unknown or not labels:
            raise self.fail(
                self.where.key("categories", "classify"),
                f"[classify]: categories {unknown or '(none)'} not known; choose from {', '.join(CATEGORIES)}",
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

    def remind_days(self, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 365 for d in value
        ):
            raise self.fail(
                self.where.key("remind_days", "watcher"),
                "[watcher]: remind_days must be a list of whole days from 0 to 365, like [7, 1]",
            )
        return tuple(sorted(set(value), reverse=True))
