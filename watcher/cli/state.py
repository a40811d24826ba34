"""The state database: `health`, `backup`, `migrate`, `prune`, web `logins` lockouts and the
calendar's secret `calendar-link`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from watcher import statelock
from watcher.cli.group import cli, common_options, format_option
from watcher.config import Config, parse_duration
from watcher.errors import StoreError
from watcher.logs import redact
from watcher.presentation import compact_duration
from watcher.store import DB_NAME, iso
from watcher.store.ops import HealthReport, open_store


@cli.command(short_help="Exit 0 if the daemon is alive and its database writable, else 1.")
@click.option(
    "--max-age",
    default=None,
    help='Oldest heartbeat that is healthy, like "2m" (default: [watcher] health_max_age, '
    "else three heartbeats, at least 2m).",
)
@format_option()
@common_options
def health(config: Config, max_age: str | None, fmt: str) -> None:
    """Exit 0 if the daemon beats and the database takes writes; else 1, one line per reason."""
    from dataclasses import asdict

    from watcher.store.ops import default_max_age

    settings = config.settings
    limit = settings.health_max_age or default_max_age(settings.heartbeat_every)
    if max_age is not None:
        try:
            limit = parse_duration(max_age)
        except ValueError:
            raise click.BadParameter(
                f'{max_age!r} is not a duration; write it like "2m"', param_hint="--max-age"
            ) from None
    state_dir = config.settings.state_dir
    database = config.settings.database_url
    if database or (state_dir / DB_NAME).exists():
        report = _health_of(state_dir, limit, database)
    else:  # a health check must not create the database it reports on
        report = HealthReport(
            ok=False,
            reasons=[f"{state_dir / DB_NAME}: no state database; start the daemon (`watcher run`)"],
            max_age_seconds=limit.total_seconds(),
        )
    if fmt == "json":
        click.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    elif report.ok:
        click.echo(
            f"healthy: heartbeat {report.heartbeat_age_seconds or 0:.0f}s old, database writable"
        )
    else:
        for reason in report.reasons:
            click.echo(f"unhealthy: {redact(' '.join(reason.splitlines()))}")
    if not report.ok:
        sys.exit(1)


def _health_of(state_dir: Path, limit: timedelta, database: str | None) -> HealthReport:
    from watcher.store.ops import health as check_health

    try:
        store = open_store(state_dir, database)
    except StoreError as exc:  # unopenable is unhealthy (exit 1), not a crash of the check
        return HealthReport(ok=False, reasons=[str(exc)], max_age_seconds=limit.total_seconds())
    try:
        return check_health(store, datetime.now(UTC), limit)
    finally:
        store.close()


@cli.command(short_help="Copy the database to a new file PATH while it runs.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@common_options
def backup(config: Config, path: Path) -> None:
    """Copy the state database to PATH (a new file) while it runs, and verify the copy."""
    from watcher.store.ops import backup as copy_database

    if path.exists():
        raise click.BadParameter(
            f"{path} already exists; a backup never overwrites, choose a new name",
            param_hint="PATH",
        )
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        done = copy_database(store, path)
    finally:
        store.close()
    click.echo(f"backed up {store.path} to {done.path} ({done.bytes:,} bytes, integrity ok)")


@cli.command(short_help="Apply schema migrations, or copy the state into another store.")
@click.option(
    "--to",
    default=None,
    metavar="sqlite:PATH",
    help="Copy the state into a new SQLite state at PATH (a directory or a .db file) instead.",
)
@click.option(
    "--to-env",
    default=None,
    metavar="NAME",
    help="Copy the state into the store whose URL the environment variable NAME holds (like "
    "WATCHER_DATABASE_URL, set to postgresql://USER:PASSWORD@HOST:5432/DBNAME): a password "
    "never goes on the command line.",
)
@common_options
def migrate(config: Config, to: str | None, to_env: str | None) -> None:
    """Bring the state database to the latest schema and print its version.

    With --to or --to-env, copy the whole state (sources, checks, snapshots, changes, alerts,
    reviews, corrections, learned volatility, topics, stories, publications) into another,
    empty store, then check it: each table's row count and SHA-256 on both sides are printed,
    and a difference exits 2. Web logins and lockouts are not copied. The state is locked
    while it is copied: stop the daemon first. Nothing is written into a target that holds data.
    The state copied is the configured one: with WATCHER_DATABASE_URL set, --to sqlite:PATH
    copies PostgreSQL into SQLite; --to-env naming that same database copies the SQLite state
    in --state into it.
    """
    from watcher.store.ops import latest_schema, schema_on_disk

    if to is not None or to_env is not None:
        from watcher.cli.moving import copy_to, target_of

        copy_to(config, target_of(to, to_env))
        return
    database = config.settings.database_url
    with statelock.hold(config.settings.state_dir, "migrate", server=database is not None):
        before = schema_on_disk(config.settings.state_dir, database)
        store = open_store(config.settings.state_dir, database)  # opening applies what is pending
        try:
            after = store.schema_version
        finally:
            store.close()
    if before == after:
        click.echo(f"{store.path}: already at version {after} (latest {latest_schema()})")
    else:
        click.echo(f"{store.path}: migrated from version {before} to {after}")


@cli.command(short_help="Delete old checks and snapshots no change needs.")
@click.option("--keep-checks", default=None, help='Override [watcher] keep_checks, like "90d".')
@click.option(
    "--keep-snapshots", default=None, help='Override [watcher] keep_snapshots, like "365d".'
)
@common_options
def prune(config: Config, keep_checks: str | None, keep_snapshots: str | None) -> None:
    """Delete old checks and snapshots that no change refers to, now, and print the counts."""
    from watcher.store.ops import retention

    def keep(text: str | None, default: timedelta, hint: str) -> timedelta:
        if text is None:
            return default
        try:
            return parse_duration(text)
        except ValueError:
            raise click.BadParameter(
                f'{text!r} is not a duration; write it like "90d"', param_hint=hint
            ) from None

    settings = config.settings
    checks_for = keep(keep_checks, settings.keep_checks, "--keep-checks")
    snapshots_for = keep(keep_snapshots, settings.keep_snapshots, "--keep-snapshots")
    with statelock.hold(settings.state_dir, "prune", server=settings.database_url is not None):
        store = open_store(settings.state_dir, settings.database_url)
        try:
            pruned = retention(store, datetime.now(UTC), checks_for, snapshots_for)
        finally:
            store.close()
    click.echo(
        f"pruned {pruned.checks} checks older than {compact_duration(checks_for.total_seconds())} and "
        f"{pruned.snapshots} snapshots older than {compact_duration(snapshots_for.total_seconds())}; "
        "kept every one a change refers to"
    )


@cli.command()
@click.argument("action", required=False, type=click.Choice(["clear"]))
@click.argument("address", required=False)
@common_options
def logins(config: Config, action: str | None, address: str | None) -> None:
    """Failed web logins by client address, and lockouts. `logins clear [ADDRESS]` lifts the
    lockout and forgets the failures of ADDRESS (of every address, and the global count, when
    none is given)."""
    from watcher.web.logins import EVERYONE, client_key

    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        if action == "clear":
            cleared = store.login_clear(client_key(address) if address else None)
            what = f"address {address}" if address else "every address"
            click.echo(f"cleared failed logins of {what} ({cleared} entries)")
            return
        rows = store.login_failures()
    finally:
        store.close()
    for row in rows:
        who = "everyone (global)" if row.client == EVERYONE else row.client.removeprefix("ip:")
        state = "LOCKED" if row.locked else f"next try {iso(row.next_at) if row.next_at else 'now'}"
        last = iso(row.last_at) if row.last_at else "-"
        click.echo(f"{who:<40} {row.failures:>4} failed  last {last}  {state}")
    if not rows:
        click.echo("no failed logins")


@cli.command("calendar-link")
@common_options
def calendar_link(config: Config) -> None:
    """Make a new secret link to the deadline calendar (/deadlines.ics) for Outlook or Google
    Calendar, which cannot log in. It is printed this once (only its hash is kept); any link
    made before stops working."""
    from watcher.config import parse_listen
    from watcher.web.calkey import CalendarKey, feed_url

    listen = config.web.listen
    base = config.web.public_url or (f"http://{listen}" if parse_listen(listen) else "")
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        key = CalendarKey(store).new(datetime.now(UTC))
    finally:
        store.close()
    click.echo(feed_url(base, key))
    click.echo(
        "Subscribe to it from Outlook (Add calendar > Subscribe from web) or Google Calendar "
        "(Other calendars > From URL). Anyone with the link can read upcoming deadlines.",
        err=True,
    )
