"""Read and validate `sources.toml` into frozen objects, with errors that name the line and the
fix. Each table has its reader (settings.py, sources.py, alerts.py, web.py); this module runs them
in order and checks what spans tables (unique names, routes naming known targets)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from watcher.config.alerts import AlertReader
from watcher.config.settings import SettingsReader
from watcher.config.sources import SourceReader
from watcher.config.topics import TopicReader
from watcher.config.types import Config
from watcher.config.web import WebReader
from watcher.errors import ConfigError
from watcher.logs import register_secret

TOP_KEYS = ("watcher", "egress", "classify", "source", "topic", "notify", "route", "web")


class Loader(SettingsReader, SourceReader, TopicReader, AlertReader, WebReader):
    """One sources file, read table by table."""


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

    loader = Loader(path, text, env)
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
    sources = tuple(
        loader.source(s, i, default_every, allow, settings.expect_change_within)
        for i, s in enumerate(raw_sources)
    )
    _no_duplicates(loader, [s.name for s in sources], "source")

    raw_topics = raw.get("topic", [])
    if not isinstance(raw_topics, list):
        raise loader.fail(loader.where.table("topic"), "write each topic as a [[topic]] table")
    topics = tuple(loader.topic(t, i) for i, t in enumerate(raw_topics))
    _no_duplicates(loader, [t.name for t in topics], "topic")

    raw_targets = raw.get("notify", [])
    if not isinstance(raw_targets, list):
        raise loader.fail(loader.where.table("notify"), "write each target as a [[notify]] table")
    targets = tuple(loader.target(t, i) for i, t in enumerate(raw_targets))
    _no_duplicates(loader, [t.name for t in targets], "notify")

    raw_routes = raw.get("route", [])
    if not isinstance(raw_routes, list):
        raise loader.fail(loader.where.table("route"), "write each route as a [[route]] table")
    routes = tuple(
        loader.route(r, i, targets, sources, settings.categories, topics)
        for i, r in enumerate(raw_routes)
    )
    _no_duplicates(loader, [r.name for r in routes], "route")
    web = loader.web(raw.get("web", {}))
    return Config(
        path=path,
        settings=settings,
        sources=sources,
        targets=targets,
        routes=routes,
        web=web,
        topics=topics,
    )


def _no_duplicates(loader: Loader, names: list[str], table: str) -> None:
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
    database = config.settings.database
    if database is not None:
        # The URL and its password; not the user name, often a plain word like "watcher"
        # that hiding would mask in every log line.
        url = database.reveal()
        password = urlsplit(url).password or ""
        for piece in {url, password, unquote(password)} - {""}:
            register_secret(piece)
    web = config.web
    for secret in (web.password, web.secret_key, *web.tokens):
        if secret is not None:
            register_secret(secret.reveal())
