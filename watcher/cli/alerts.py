"""Alerts: the outbox (`alerts`, `alerts retry`) and `notify test`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import click

from watcher.cli.group import cli, common_options, format_option
from watcher.cli.output import cut, stamp, table
from watcher.config import Config
from watcher.store.ops import open_store


@cli.command()
@click.argument("action", required=False, type=click.Choice(["retry"]))
@click.argument("outbox_id", required=False, type=int)
@click.option(
    "--status",
    type=click.Choice(["pending", "sent", "dead"]),
    default=None,
    help="Only alerts in this state.",
)
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N alerts.")
@format_option(table=True)
@common_options
def alerts(
    config: Config,
    action: str | None,
    outbox_id: int | None,
    status: str | None,
    limit: int,
    fmt: str,
) -> None:
    """The outbox: pending, sent and dead alerts, newest first. `alerts retry OUTBOX_ID` resends
    one (a dead one gets a fresh set of tries) and delivers what is due."""
    if action == "retry":
        if outbox_id is None:
            raise click.UsageError("name the alert: watcher alerts retry OUTBOX_ID")
        _retry(config, outbox_id)
        return
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        rows = store.outbox(status=status, limit=limit)
    finally:
        store.close()
    if fmt == "json":
        keep = (
            "id", "kind", "mode", "target", "source", "change_id", "status", "attempts",
            "created_at", "next_attempt_at", "sent_at", "last_error",
        )  # fmt: skip
        click.echo(json.dumps([{k: getattr(r, k) for k in keep} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no alerts" + (f" {status}" if status else ""))
        return
    lines = []
    for r in rows:
        what = f"change #{r.change_id}" if r.change_id else r.kind
        when = stamp(r.sent_at if r.status == "sent" else r.next_attempt_at)
        lines.append(
            [
                str(r.id), r.status, r.kind, r.mode, r.target, r.source or "-", what,
                str(r.attempts), when, cut(r.last_error, 80) if r.last_error else "",
            ]
        )  # fmt: skip
    headers = [
        "id", "status", "kind", "mode", "target", "source", "what", "tries",
        "sent_or_next_utc", "last_error",
    ]  # fmt: skip
    click.echo(table(headers, lines))


def _retry(config: Config, outbox_id: int) -> None:
    from watcher.runtime import open_runtime

    async def go() -> None:
        async with open_runtime(config) as rt:
            if not rt.store.retry(outbox_id, datetime.now(UTC)):
                raise click.BadParameter(
                    f"no unsent alert #{outbox_id}; list them with `watcher alerts`",
                    param_hint="OUTBOX_ID",
                )
            report = await rt.deliverer.deliver_due()
        click.echo(f"alert #{outbox_id} queued; sent {report.sent}, retrying {report.retrying}")

    asyncio.run(go())


@cli.group()
def notify() -> None:
    """Alert targets."""


@notify.command(name="test")
@click.argument("target")
@common_options
def notify_test(config: Config, target: str) -> None:
    """Send a test message to the named [[notify]] TARGET."""
    from watcher.notify.deliver import Deliverer

    known = {t.name: t for t in config.targets}
    if target not in known:
        raise click.BadParameter(
            f"no target {target!r}; the [[notify]] targets are: {', '.join(known) or '(none)'}",
            param_hint="TARGET",
        )
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        error = asyncio.run(Deliverer(store=store, targets=known).send_test(target))
    finally:
        store.close()
    if error:
        raise click.ClickException(error)
    click.echo(f"test message sent to {target}")
