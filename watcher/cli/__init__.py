"""The `watcher` command: thin commands over the same functions the daemon uses.

One module per group of commands (daemon.py: check, run, serve; records.py: changes, sources,
explain, deadlines; citing.py: cite; adding.py: add; classifying.py: classify, correct, retrain;
alerts.py: alerts, notify; state.py: health, backup, migrate, prune, logins, calendar-link); each
registers its commands on `cli`.
"""

from __future__ import annotations

import sys

import click

from watcher.cli import adding, alerts, citing, classifying, daemon, records, state
from watcher.cli.group import cli
from watcher.cli.output import terminal_safe
from watcher.errors import WatcherError
from watcher.logs import redact
from watcher.store import DatabaseError
from watcher.store.engine import PgError

__all__ = [
    "adding",
    "alerts",
    "citing",
    "classifying",
    "cli",
    "daemon",
    "main",
    "records",
    "state",
    "terminal_safe",
]


def main() -> None:
    """Entry point: WatcherError becomes one line on stderr and its exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except WatcherError as exc:
        # One line, always: a message quoting page or file text must not spill onto more lines.
        message = " ".join(redact(str(exc)).splitlines())
        click.echo(f"watcher: error: {message}", err=True)
        sys.exit(exc.exit_code)
    except PgError as exc:
        # The server went away or refused mid-command: not a damaged file to restore.
        problem = " ".join(redact(str(exc)).split())
        click.echo(
            f"watcher: error: the PostgreSQL database failed ({problem}); check that it is "
            "running and WATCHER_DATABASE_URL, then run the command again",
            err=True,
        )
        sys.exit(3)
    except DatabaseError as exc:
        # A damaged file found by any command, not only by the start-up check of `run`.
        from watcher.store.ops import DAMAGED_FIX

        problem = " ".join(str(exc).split())
        click.echo(
            f"watcher: error: the state database is damaged ({problem}); {DAMAGED_FIX}", err=True
        )
        sys.exit(3)
