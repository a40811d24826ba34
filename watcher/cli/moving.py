"""`watcher migrate --to`: copy this state into another store and print the check of each table."""

from __future__ import annotations

import os
import sys

import click

from watcher import statelock
from watcher.config import Config
from watcher.errors import ConfigError, CopyError, StoreError
from watcher.logs import register_secret
from watcher.store import DB_NAME
from watcher.store.connection import Connection
from watcher.store.copy import SKIPPED, CopyReport, copy_state
from watcher.store.ops import open_store
from watcher.store.target import Target, make_directory, open_target, parse_target

URL_IN_ARGUMENT = (
    "--to: a database URL holds a password, and a command line is seen by other users and kept "
    "in shell history; put the URL in an environment variable and pass its name with --to-env "
    "(like --to-env WATCHER_DATABASE_URL)"
)


def target_of(to: str | None, to_env: str | None) -> Target:
    """The target named by `--to` or by the variable `--to-env` names (exactly one of them)."""
    if (to is None) == (to_env is None):
        raise click.UsageError("give exactly one of --to and --to-env")
    if to_env is not None:
        url = os.environ.get(to_env, "").strip()
        if not url:
            raise ConfigError(
                f"--to-env: the environment variable {to_env} is not set or empty; set it to "
                "the target's URL, like postgresql://USER:PASSWORD@HOST:5432/DBNAME"
            )
        register_secret(url)
        return parse_target(url, origin=f"--to-env {to_env}")
    assert to is not None
    found = parse_target(to)
    if found.engine == "postgresql":
        raise ConfigError(URL_IN_ARGUMENT)
    return found


def copy_to(config: Config, target: Target) -> None:
    """Copy the state into `target` under the state's lock; print counts and hashes; exit 2 on a
    difference.

    The state is the configured database: the PostgreSQL one when a URL is set (to take a copy
    of it, or leave it for SQLite), except when the target is that database itself, which is
    moving into it: then the SQLite state in --state is copied."""
    database = config.settings.database_url
    if database and not (target.engine == "postgresql" and target.url == database):
        _copy_from(parse_target(database, origin=config.settings.database_env), target)
        return
    state_dir = config.settings.state_dir
    if not (state_dir / DB_NAME).exists():
        raise StoreError(f"{state_dir / DB_NAME}: no state database to copy; check --state")
    if target.path is not None and target.path.resolve() == (state_dir / DB_NAME).resolve():
        raise ConfigError(f"--to: {target.shown} is this state itself; copy into another path")
    with statelock.hold(state_dir, "migrate"):
        source = open_store(state_dir)  # opening applies the source's pending migrations first
        try:
            click.echo(f"copying {source.path} to {target.shown}")
            report = _copy(source, target)
        finally:
            source.close()
    _report(report, target)


def _report(report: CopyReport, target: Target) -> None:
    _print(report)
    if not report.ok:
        raise CopyError(
            f"the copy in {target.shown} differs from the source in {', '.join(report.differing)}; "
            "delete the target's data and copy again (the source is untouched)"
        )
    click.echo(f"copied and verified {len(report.checks)} tables into {target.shown}")


def _copy_from(database: Target, target: Target) -> None:
    """Copy the PostgreSQL state into `target` (a SQLite state, or another PostgreSQL database).
    Workers may go on writing: the copy reads one snapshot of the database."""
    source = Connection.connect(database.url)
    try:
        click.echo(f"copying {database.shown} to {target.shown}")
        report = _copy(source, target)
    finally:
        source.close()
    _report(report, target)


def _copy(source: Connection, target: Target) -> CopyReport:
    """Copy into `target`, holding a SQLite target's lock so no daemon opens it half-filled."""
    if target.path is not None:
        with statelock.hold(make_directory(target), "migrate"):
            return _copy_into(source, target)
    return _copy_into(source, target)


def _copy_into(source: Connection, target: Target) -> CopyReport:
    store = open_target(target)
    try:
        return copy_state(source, store, _progress if sys.stderr.isatty() else None)
    finally:
        store.close()


def _progress(table: str, rows: int) -> None:
    click.echo(f"\r{table}: {rows:,} rows ", err=True, nl=False)


def _print(report: CopyReport) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(f"{'table':<20} {'rows':>8}  {'sha256':<12}  ok")
    for check in report.checks:
        if check.ok:
            click.echo(f"{check.name:<20} {check.source_rows:>8}  {check.source_sha256[:12]}  ok")
        else:
            click.echo(
                f"{check.name:<20} {check.source_rows:>8}  {check.source_sha256[:12]}  DIFFERS "
                f"(target: {check.target_rows} rows, {check.target_sha256[:12]})"
            )
    for names, reason in _skipped().items():
        click.echo(f"not copied: {names} ({reason})")


def _skipped() -> dict[str, str]:
    # One line per reason, naming the tables it covers, so the listing stays short.
    by_reason: dict[str, list[str]] = {}
    for name, reason in SKIPPED.items():
        by_reason.setdefault(reason, []).append(name)
    return {", ".join(names): reason for reason, names in by_reason.items()}
