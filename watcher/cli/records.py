"""What is recorded and configured: `changes`, `publications`, `sources`, `explain`, `deadlines`."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import click

from watcher.cli.group import cli, common_options, format_option
from watcher.cli.output import cut, indent, parse_since, stamp, table, terminal_safe
from watcher.config import Config
from watcher.diff import render_diff
from watcher.humane import closing, plural
from watcher.presentation import category_label, change_json, compact_duration
from watcher.store.ops import open_store


@cli.command()
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--since", default=None, help='ISO date/time, or an age like "1d" or "6h".')
@click.option(
    "--limit", default=None, type=click.IntRange(min=1), help="At most this many, newest first."
)
@format_option()
@click.option("--diff/--no-diff", "show_diff", default=False, help="Text format: print each diff.")
@common_options
def changes(
    config: Config,
    source_name: str | None,
    since: str | None,
    limit: int | None,
    fmt: str,
    show_diff: bool,
) -> None:
    """The change log, newest first."""
    since_at = parse_since(since)  # a usage error must not open (or create) the state database
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        rows = store.changes(source=source_name, since=since_at, limit=limit)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([change_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"#{r.id}  {stamp(r.detected_at)}  {r.source}  [{category_label(r.category)}]  {r.summary}"
        )
        if show_diff:
            click.echo(terminal_safe(indent(render_diff(r.diff, max_lines=60))))
    if not rows:
        click.echo("no changes recorded", err=True)


def _print_kinds(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`sources --kinds`: each source kind and what it reads; needs no config or state."""
    if not value or ctx.resilient_parsing:
        return
    from watcher.kinds import kinds

    for name, kind in kinds().items():
        click.echo(f"{name}: {kind.summary()}")
    ctx.exit()


@cli.command()
@format_option(table=True)
@click.option(
    "--kinds",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_kinds,
    help="List the kinds of source watcher can read, and exit.",
)
@common_options
def sources(config: Config, fmt: str) -> None:
    """Every configured source with its last status (or, with --kinds, the kinds of source)."""
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        status = {row.name: row for row in store.sources_status()}
    finally:
        store.close()
    rows: list[dict[str, Any]] = []
    for s in config.sources:
        st = status.get(s.name)
        rows.append(
            {
                "name": s.name,
                "url": s.url,
                "every": compact_duration(s.every.total_seconds()),
                "tags": list(s.tags),
                "last_outcome": st.last_outcome if st else None,
                "last_check_at": st.last_check_at if st else None,
                "last_change_at": st.last_change_at if st else None,
                "error_streak": st.error_streak if st else 0,
                "last_error": st.last_error if st else None,
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    lines = []
    for r in rows:
        status_text = (r["last_outcome"] or "never checked").replace("_", " ")
        if r["error_streak"]:
            status_text += f" x{r['error_streak']}: {cut(r['last_error'] or '', 100)}"
        lines.append(
            [
                r["name"],
                r["every"],
                stamp(r["last_check_at"]),
                stamp(r["last_change_at"]),
                status_text,
            ]
        )
    headers = ["name", "every", "last_check_utc", "last_change_utc", "status"]
    click.echo(table(headers, lines))


@cli.command()
@click.argument("name")
@format_option()
@common_options
def explain(config: Config, name: str, fmt: str) -> None:
    """Fetch source NAME now and show what is read, what is ignored, and why."""
    from dataclasses import asdict

    from watcher.explain import explain as explain_source

    result = asyncio.run(explain_source(config, config.source(name)))
    if fmt == "json":
        data = asdict(result)
        for block, note in zip(data["blocks"], result.blocks, strict=True):
            block["watched"] = note.watched
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.source}: {result.url}")
    click.echo(f"reads {result.region}; title: {result.title}")
    click.echo(
        f"learned from {plural(result.comparisons, 'comparison')}: "
        f"{plural(result.learned_slots, 'volatile slot')}, "
        f"{plural(len(result.site_rules), 'site-wide rule')}"
    )
    click.echo(
        f"\nwatched text ({sum(b.watched for b in result.blocks)} of {len(result.blocks)} blocks):"
    )
    for block in result.blocks:
        mark = "  " if block.watched else "~ "
        click.echo(f"{mark}{cut(block.text, 110)}")
        for why in block.notes:
            click.echo(f"      [{why}]")
    if result.ignored:
        click.echo(f"\nignored regions ({len(result.ignored)}):")
        for reason, text in result.ignored:
            click.echo(f"  {reason}: {cut(text, 90)}")


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include deadlines that have passed.")
@format_option(table=True)
@common_options
def deadlines(config: Config, show_all: bool, fmt: str) -> None:
    """Consultation closing dates found in changes, soonest first."""
    today = datetime.now(UTC).date()
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        rows = store.deadlines(None if show_all else today.isoformat())
    finally:
        store.close()
    items: list[dict[str, Any]] = [
        {
            "source": r.source,
            "due": r.due,
            "days_left": (date.fromisoformat(r.due) - today).days,
            "text": r.text,
            "sentence": r.sentence,
            "change_id": r.change_id,
            "reminded": list(r.reminded),
        }
        for r in rows
    ]
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("no deadlines" if show_all else "no upcoming deadlines", err=True)
        return
    lines = [
        [item["due"], closing(item["days_left"]), item["source"], cut(item["sentence"], 90)]
        for item in items
    ]
    click.echo(table(["due", "when", "source", "sentence"], lines))


@cli.command()
@click.option("--category", default="", help="Only publications of this category.")
@click.option(
    "--organisation",
    default="",
    help='Only those from this publisher ("Department for Education").',
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@format_option()
@common_options
def publications(config: Config, category: str, organisation: str, limit: int, fmt: str) -> None:
    """New publications found by feeds, searches, sitemaps and listings, newest first: each once,
    with every source that reported it."""
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        rows = store.publications(category, organisation, limit)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        label = category_label(r.category) if r.category else "Publication"
        orgs = f" ({', '.join(r.organisations)})" if r.organisations else ""
        click.echo(
            terminal_safe(
                f"{stamp(r.first_seen_at)}  [{label}]{orgs}  {r.title or r.link}\n"
                f"    {r.link}  via {', '.join(r.sources)}"
                + (f"  change #{r.change_id}" if r.change_id else "")
            )
        )
    if not rows:
        click.echo("no publications recorded", err=True)
