"""The `watcher` command group and the options every command shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from watcher import __version__
from watcher.config import load_config, register_secrets
from watcher.logs import setup_logging

F = TypeVar("F", bound=Callable[..., Any])


def common_options(fn: F) -> F:
    """--config, --state and logging on every command, as the README promises."""

    @click.option(
        "--config",
        "config_path",
        envvar="WATCHER_CONFIG",
        default="sources.toml",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Sources file (env WATCHER_CONFIG).",
    )
    @click.option(
        "--state",
        "state_dir",
        envvar="WATCHER_STATE",
        default=None,
        type=click.Path(file_okay=False),
        help="State directory holding watcher.db (env WATCHER_STATE); with "
        "WATCHER_DATABASE_URL set, the database is that PostgreSQL instead.",
    )
    @click.option(
        "--log-level",
        default="warning",
        show_default=True,
        type=click.Choice(["debug", "info", "warning", "error"]),
        help="Least severe log event shown.",
    )
    @click.option(
        "--log-format",
        default="text",
        show_default=True,
        type=click.Choice(["text", "json"]),
        help="Log lines as text or as JSON objects.",
    )
    @wraps(fn)
    def wrapper(
        config_path: Path, state_dir: str | None, log_level: str, log_format: str, **kwargs: Any
    ) -> Any:
        setup_logging(log_level, log_format)
        config = load_config(config_path, state_dir=state_dir)
        register_secrets(config)  # before any command can log
        return fn(config, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="watcher")
def cli() -> None:
    """Watch web pages, store what changed, and alert on real changes.

    Sources are listed in sources.toml; state lives in STATE/watcher.db.
    Exit codes: 0 done, 1 runtime error (check: every source failed), 2 bad configuration or
    usage, or the state is in use by another watcher process, 3 unusable state database
    (damaged or read-only).
    """


def listen_option(fn: F) -> F:
    return click.option(
        "--listen",
        envvar="WATCHER_LISTEN",
        default=None,
        help='Web app address, "HOST:PORT" (env WATCHER_LISTEN; default [web] listen, '
        "127.0.0.1:8080). Beyond loopback a login is required.",
    )(fn)
