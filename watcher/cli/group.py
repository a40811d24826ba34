"""The `watcher` command group and the options every command shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from watcher import __version__
from watcher.config import load_config, register_secrets
from watcher.logs import setup_logging

F = TypeVar("F", bound=Callable[..., Any])

# The options every command shares. They are also accepted before the command name
# (`watcher --config x.toml check`), as in git; given in both places, the command's own wins.
# Options only some commands take (database, workers, --listen) belong in their own decorators.
SHARED = ("config_path", "state_dir", "log_level", "log_format")


def _shared_options(fn: F, root: bool) -> F:
    """--config, --state, --log-level and --log-format. On the group (`root`) they have no
    default and no environment variable, so that a value there is one the user typed."""

    def default(value: str) -> str | None:
        return None if root else value

    options = [
        click.option(
            "--config",
            "config_path",
            envvar=None if root else "WATCHER_CONFIG",
            default=default("sources.toml"),
            show_default=not root,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Sources file (env WATCHER_CONFIG).",
        ),
        click.option(
            "--state",
            "state_dir",
            envvar=None if root else "WATCHER_STATE",
            default=None,
            type=click.Path(file_okay=False),
            help="State directory holding watcher.db (env WATCHER_STATE); with "
            "WATCHER_DATABASE_URL set, the database is that PostgreSQL instead.",
        ),
        click.option(
            "--log-level",
            default=default("warning"),
            show_default=not root,
            type=click.Choice(["debug", "info", "warning", "error"]),
            help="Least severe log event shown.",
        ),
        click.option(
            "--log-format",
            default=default("text"),
            show_default=not root,
            type=click.Choice(["text", "json"]),
            help="Log lines as text or as JSON objects.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def shared_values(ctx: click.Context, given: dict[str, Any]) -> dict[str, Any]:
    """The shared options' values for a command: what it was given after its name, else what was
    given before the command name, else the environment or the default."""
    before: dict[str, Any] = ctx.find_root().obj or {}
    out = {}
    for name in SHARED:
        typed = ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
        earlier = before.get(name)
        out[name] = given[name] if typed or earlier is None else earlier
    return out


def common_options(fn: F) -> F:
    """--config, --state and logging on every command, as the README promises."""
    return _with_config(fn, required=True)


def optional_config(fn: F) -> F:
    """The shared options for a command that also works without a sources file (`classify`): it
    gets None when no --config was given anywhere and sources.toml does not exist."""
    return _with_config(fn, required=False)


def _with_config(fn: F, required: bool) -> F:
    @wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        ctx = click.get_current_context()
        values = shared_values(ctx, {name: kwargs.pop(name) for name in SHARED})
        setup_logging(values["log_level"], values["log_format"])
        path: Path = values["config_path"]
        named = ctx.get_parameter_source("config_path") in (
            ParameterSource.COMMANDLINE,
            ParameterSource.ENVIRONMENT,
        ) or "config_path" in (ctx.find_root().obj or {})
        if not required and not named and not path.exists():
            return fn(None, **kwargs)
        config = load_config(path, state_dir=values["state_dir"])
        register_secrets(config)  # before any command can log
        return fn(config, **kwargs)

    return _shared_options(wrapper, root=False)  # type: ignore[return-value]


def _before_command(fn: F) -> F:
    return _shared_options(fn, root=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="watcher")
@_before_command
@click.pass_context
def cli(ctx: click.Context, /, **before: Any) -> None:
    """Watch web pages, store what changed, and alert on real changes.

    Sources are listed in sources.toml; state lives in STATE/watcher.db. The shared options
    (--config, --state, --log-level, --log-format) go after the command name or before it
    (`watcher --config x.toml check`); after it wins.
    Exit codes: 0 done, 1 runtime error (check: every source failed), 2 bad configuration or
    usage, or the state is in use by another watcher process, 3 unusable state database
    (damaged or read-only).
    """
    ctx.obj = {k: v for k, v in before.items() if v is not None}


def listen_option(fn: F) -> F:
    return click.option(
        "--listen",
        envvar="WATCHER_LISTEN",
        default=None,
        help='Web app address, "HOST:PORT" (env WATCHER_LISTEN; default [web] listen, '
        "127.0.0.1:8080). Beyond loopback a login is required.",
    )(fn)


def format_option(table: bool = False) -> Callable[[F], F]:
    """--format text|json, saying what each gives."""
    text = (
        "text: a table on a terminal, tab-separated lines under a header row when piped"
        if table
        else "text: lines to read"
    )

    def decorate(fn: F) -> F:
        return click.option(
            "--format",
            "fmt",
            default="text",
            show_default=True,
            type=click.Choice(["text", "json"]),
            help=f"{text}; json: one JSON document for programs.",
        )(fn)

    return decorate
