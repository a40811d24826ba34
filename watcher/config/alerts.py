"""The `[[notify]]` targets and the `[[route]]` tables that send changes to them."""

from __future__ import annotations

from typing import Any

from watcher.config.reader import ENV_RE, Reader, name_problem
from watcher.config.types import NotifyTarget, Route
from watcher.models import Source
from watcher.topics import Topic

NOTIFY_KEYS = ("name", "env", "format")
ROUTE_KEYS = (
    "name",
    "targets",
    "tags",
    "sources",
    "categories",
    "topics",
    "min_confidence",
    "mode",
)
MODES = ("immediate", "hourly", "daily", "weekly")
FORMATS = (
    "slack",
    "email",
    "text",
    "mattermost",
    "discord",
    "teams",
    "telegram",
    "matrix",
    "json",  # the change as data (docs/schema/change-v1.json): needs a json:// or jsons:// URL
)
JSON_SCHEMES = ("json", "jsons")


class AlertReader(Reader):
    def target(self, data: Any, index: int) -> NotifyTarget:
        header = self.where.table("notify", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[notify]] must be a table")
        name = data.get("name")
        what = f"notify {name!r}" if isinstance(name, str) else f"notify #{index + 1}"
        self.check_keys(data, NOTIFY_KEYS, what, "notify", index)
        problem = name_problem(name)
        if problem or not isinstance(name, str):
            raise self.fail(self.where.key("name", "notify", index) or header, f"{what}: {problem}")
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
        secret = self.secret(env, what, env_line)
        if fmt == "json" and secret is not None:
            scheme = secret.reveal().split(":", 1)[0].strip().lower()
            if scheme not in JSON_SCHEMES:
                raise self.fail(
                    self.where.key("format", "notify", index) or header,
                    f'{what}: format = "json" needs a json:// or jsons:// Apprise URL in ${env} '
                    "(value hidden), which posts the change as one JSON object",
                )
        return NotifyTarget(name=name, env=env, secret=secret, format=fmt)

    def route(
        self,
        data: Any,
        index: int,
        targets: tuple[NotifyTarget, ...],
        sources: tuple[Source, ...],
        labels: tuple[str, ...],
        topics: tuple[Topic, ...] = (),
    ) -> Route:
        header = self.where.table("route", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[route]] must be a table")
        name = data.get("name", f"route-{index + 1}")
        what = f"route {name!r}"
        self.check_keys(data, ROUTE_KEYS, what, "route", index)
        problem = name_problem(name)
        if problem or not isinstance(name, str):
            raise self.fail(self.where.key("name", "route", index) or header, f"{what}: {problem}")

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
            topics=names("topics", [t.name for t in topics], "the [[topic]] names are"),
            min_confidence=float(confidence),
            mode=mode,
            calibrated=calibrated,
        )
