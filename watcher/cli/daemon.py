"""Checking: `check` once, `run` the daemon, `serve` the web app alone."""

from __future__ import annotations

import asyncio
import sys

import click

from watcher import statelock
from watcher.cli.group import cli, common_options, listen_option
from watcher.cli.output import indent, terminal_safe
from watcher.config import Config
from watcher.diff import render_diff
from watcher.logs import redact
from watcher.store.ops import integrity, open_store

# `check` and `run` name their worker the same way.
worker_option = click.option(
    "--worker",
    envvar="WATCHER_WORKER",
    default=None,
    metavar="NAME",
    help="This worker's name, as its claims and heartbeat row are written when several "
    "workers share one state [env WATCHER_WORKER; default host:pid].",
)

OUTCOME_MARK = {
    "changed": "CHANGED",
    "baseline": "baseline",
    "unchanged": "same",
    "not_modified": "same (304)",
    "volatile": "volatile",
    "error": "ERROR",
}


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--diff/--no-diff", "show_diff", default=True, help="Print the diff of each change.")
@worker_option
@common_options
def check(config: Config, names: tuple[str, ...], show_diff: bool, worker: str | None) -> None:
    """Check every source (or the NAMES given) once, deliver due alerts, then exit (1 when
    every source failed). On a shared PostgreSQL store it checks only the sites it can claim:
    those another worker holds, or that are not due yet, are skipped and counted."""
    from watcher.runtime import check_once
    from watcher.shared_check import check_shared

    sources = [config.source(n) for n in names] or list(config.sources)
    if not sources:
        click.echo(
            f"watcher: warning: {config.path} lists no sources; add a [[source]] table "
            "(see the README), nothing was checked",
            err=True,
        )
    server = config.settings.database_url is not None
    skipped = None
    with statelock.hold(config.settings.state_dir, "check", server=server):
        if server:  # several workers may share it: take this one's share of the sites
            done, report = asyncio.run(check_shared(config, sources, worker))
            results, skipped = done.results, done.skipped_line()
        else:
            results, report = asyncio.run(check_once(config, sources))
    width = max((len(r.source) for r in results), default=10)
    for r in results:
        detail = r.change.summary if r.change else (r.error or "")
        click.echo(
            f"{OUTCOME_MARK.get(r.outcome, r.outcome):<11} {r.source:<{width}}  "
            f"{terminal_safe(redact(detail))}"
        )
        if r.change and show_diff:
            click.echo(terminal_safe(indent(render_diff(r.change.diff, max_lines=40))))
    errors = sum(r.outcome == "error" for r in results)
    changed = sum(r.outcome == "changed" for r in results)
    click.echo(
        f"{len(results)} checked: {changed} changed, {errors} failed; "
        f"alerts sent {report.sent}, retrying {report.retrying}, dead {report.dead}",
        err=True,
    )
    if skipped:
        click.echo(skipped, err=True)
    if results and errors == len(results):
        # Every source failing is the checker's own trouble (network, egress policy), not news.
        click.echo(
            f"watcher: error: all {errors} sources failed (see the ERROR lines); "
            "check the network and [egress] settings",
            err=True,
        )
        sys.exit(1)


@cli.command()
@listen_option
@worker_option
@common_options
def run(config: Config, listen: str | None, worker: str | None) -> None:
    """Run the daemon: check each source on its schedule, and serve the web app, until SIGTERM
    or Ctrl-C. --listen off (or [web] listen = "off") runs no web app; an address in use
    stops it with exit 2."""
    import logging
    from functools import partial

    from watcher.notify.deliver import check_targets
    from watcher.scheduler import Daemon
    from watcher.web.serve import bind, serve_beside, server

    check_targets(config.targets)  # before anything is opened or written

    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    missing = [t.name for t in config.targets if t.secret is None]
    for name in missing:
        target = next(t for t in config.targets if t.name == name)
        logging.getLogger("watcher").warning(
            f"notify target {name!r} is off: set {target.env} (or {target.env}_FILE) to its Apprise URL"
        )
    shared = config.settings.database_url is not None
    with statelock.hold(config.settings.state_dir, "run", server=shared):
        # A damaged file stops the daemon at once with the fix, not at its first write hours later.
        store = open_store(config.settings.state_dir, config.settings.database_url)
        try:
            integrity(store)
        finally:
            store.close()
        address = listen or config.web.listen
        companions = []
        if address != "off":
            # Built before the daemon starts: a web setting that is wrong stops `run` at once.
            web = server(config, address, embedded=True)
            # Bound now: an address in use stops `run` with exit 2 rather than leaving a daemon
            # that checks but has no web app (--listen off runs none on purpose).
            sock = bind(address)
            companions.append(partial(serve_beside, web, address, sock))
            logging.getLogger("watcher").info(f"web app on http://{address}/")
        asyncio.run(Daemon(config, companions=companions, worker=worker).run())


@cli.command()
@listen_option
@common_options
def serve(config: Config, listen: str | None) -> None:
    """Serve the staff web app (timeline, change pages, search, review, feeds, API) until
    SIGTERM or Ctrl-C, without checking sources."""
    from watcher.web.serve import bind, server
    from watcher.web.serve import serve as serve_web

    address = listen or config.web.listen
    web = server(config, address)
    sock = bind(address)  # before saying where: an address in use is the one line printed
    click.echo(f"web app on http://{address}/ (Ctrl-C to stop)", err=True)
    asyncio.run(serve_web(web, address, sock))
