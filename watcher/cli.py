"""The `watcher` command: thin commands over the same functions the daemon uses."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from watcher import __version__
from watcher.config import Config, load_config, parse_duration, register_secrets
from watcher.diff import diff_from_dict, render_diff
from watcher.errors import StoreError, WatcherError
from watcher.logs import redact, setup_logging
from watcher.maintenance import HealthReport, integrity, open_store
from watcher.store import DB_NAME, Store

F = TypeVar("F", bound=Callable[..., Any])
OUTCOME_MARK = {
    "changed": "CHANGED",
    "baseline": "baseline",
    "unchanged": "same",
    "not_modified": "same (304)",
    "error": "ERROR",
}


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
        help="State directory holding watcher.db (env WATCHER_STATE).",
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
    Exit codes: 0 done, 1 runtime error, 2 bad configuration or usage, 3 unusable state database.
    """


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--diff/--no-diff", "show_diff", default=True, help="Print the diff of each change.")
@common_options
def check(config: Config, names: tuple[str, ...], show_diff: bool) -> None:
    """Check every source (or the NAMES given) once, deliver due alerts, then exit."""
    from watcher.runtime import check_once

    sources = [config.source(n) for n in names] or list(config.sources)
    results, report = asyncio.run(check_once(config, sources))
    width = max((len(r.source) for r in results), default=10)
    for r in results:
        detail = r.change.summary if r.change else (r.error or "")
        click.echo(
            f"{OUTCOME_MARK.get(r.outcome, r.outcome):<11} {r.source:<{width}}  {redact(detail)}"
        )
        if r.change and show_diff:
            click.echo(_indent(render_diff(r.change.diff, max_lines=40)))
    errors = sum(r.outcome == "error" for r in results)
    changed = sum(r.outcome == "changed" for r in results)
    click.echo(
        f"{len(results)} checked: {changed} changed, {errors} failed; "
        f"alerts sent {report.sent}, retrying {report.retrying}, dead {report.dead}",
        err=True,
    )


@cli.command()
@common_options
def run(config: Config) -> None:
    """Run the daemon: check each source on its schedule until SIGTERM or Ctrl-C."""
    import logging

    from watcher.scheduler import Daemon

    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    missing = [t.name for t in config.targets if t.secret is None]
    for name in missing:
        target = next(t for t in config.targets if t.name == name)
        logging.getLogger("watcher").warning(
            f"notify target {name!r} is off: set {target.env} (or {target.env}_FILE) to its Apprise URL"
        )
    # A damaged file stops the daemon at once with the fix, not at its first write hours later.
    store = open_store(config.settings.state_dir)
    try:
        integrity(store)
    finally:
        store.close()
    asyncio.run(Daemon(config).run())


@cli.command()
@click.option("--source", "source_name", default=None, help="Only this source.")
@click.option("--since", default=None, help='ISO date/time, or an age like "1d" or "6h".')
@click.option(
    "--limit", default=None, type=click.IntRange(min=1), help="At most this many, newest first."
)
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
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
    since_at = _parse_since(since)  # a usage error must not open (or create) the state database
    store = Store.open(config.settings.state_dir)
    try:
        rows = store.changes(source=source_name, since=since_at, limit=limit)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([_change_json(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"#{r['id']}  {r['detected_at']}  {r['source']}  [{r['category'] or 'change'}]  {r['summary']}"
        )
        if show_diff:
            click.echo(_indent(render_diff(diff_from_dict(r["diff"]), max_lines=60)))
    if not rows:
        click.echo("no changes recorded", err=True)


@cli.command()
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
@common_options
def sources(config: Config, fmt: str) -> None:
    """Every configured source with its last status."""
    store = Store.open(config.settings.state_dir)
    try:
        status = {row["name"]: row for row in store.sources_status()}
    finally:
        store.close()
    rows = []
    for s in config.sources:
        st = status.get(s.name, {})
        rows.append(
            {
                "name": s.name,
                "url": s.url,
                "every": _human(s.every.total_seconds()),
                "tags": list(s.tags),
                "last_outcome": st.get("last_outcome"),
                "last_check_at": st.get("last_check_at"),
                "last_change_at": st.get("last_change_at"),
                "error_streak": st.get("error_streak", 0),
                "last_error": st.get("last_error"),
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    width = max((len(r["name"]) for r in rows), default=10)
    for r in rows:
        status_text = r["last_outcome"] or "never checked"
        if r["error_streak"]:
            status_text += f" x{r['error_streak']}: {r['last_error']}"
        click.echo(
            f"{r['name']:<{width}}  every {r['every']:<4} {r['last_check_at'] or '-':<29} {status_text}"
        )


@cli.command()
@click.argument("name")
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
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
        f"learned from {result.comparisons} comparisons: {result.learned_slots} volatile slots, "
        f"{len(result.site_rules)} site-wide rules"
    )
    click.echo(
        f"\nwatched text ({sum(b.watched for b in result.blocks)} of {len(result.blocks)} blocks):"
    )
    for block in result.blocks:
        mark = "  " if block.watched else "~ "
        click.echo(f"{mark}{_cut(block.text, 110)}")
        for why in block.notes:
            click.echo(f"      [{why}]")
    if result.ignored:
        click.echo(f"\nignored regions ({len(result.ignored)}):")
        for reason, text in result.ignored:
            click.echo(f"  {reason}: {_cut(text, 90)}")


@cli.command(name="classify")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--title", default="", help="The page's title, which weighs in.")
@click.option(
    "--url", default="", help="The page's URL, whose path weighs in (e.g. /consultations/)."
)
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read JSON lines {"id", "title", "text"}; write one JSON line each.',
)
def classify_command(source: Any, title: str, url: str, jsonl: bool) -> None:
    """Categories, confidence and evidence of a text (FILE, or standard input)."""
    from watcher.classify import classify, gather

    def result(text: str, title: str, url: str) -> dict[str, Any]:
        categories = classify(text, title=title, url=url)
        evidence = gather(tuple(text.splitlines()))
        return {
            "categories": [{"label": c.label, "confidence": c.confidence} for c in categories],
            "evidence": {
                "sentences": list(
                    dict.fromkeys(
                        [c.sentence for c in categories if c.sentence] + list(evidence.sentences)
                    )
                ),
                "facts": [
                    {"kind": f.kind, "text": f.text, "value": f.value} for f in evidence.facts
                ],
            },
        }

    if jsonl:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                out = {
                    "id": item.get("id"),
                    **result(
                        str(item.get("text", "")),
                        str(item.get("title", "")),
                        str(item.get("url", "")),
                    ),
                }
            except (json.JSONDecodeError, AttributeError) as exc:
                raise click.BadParameter(
                    f"line {number} is not a JSON object ({exc})", param_hint="SOURCE"
                ) from None
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    out = result(source.read(), title, url)
    for c in out["categories"]:
        click.echo(f"{c['label']:<22} {c['confidence']:.2f}")
    for sentence in out["evidence"]["sentences"]:
        click.echo(f"  evidence: {_cut(sentence, 120)}")
    for fact in out["evidence"]["facts"]:
        click.echo(
            f"  {fact['kind']}: {fact['text']}" + (f" = {fact['value']}" if fact["value"] else "")
        )


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include deadlines that have passed.")
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
@common_options
def deadlines(config: Config, show_all: bool, fmt: str) -> None:
    """Consultation closing dates found in changes, soonest first."""
    today = datetime.now(UTC).date()
    store = Store.open(config.settings.state_dir)
    try:
        rows = store.deadlines(None if show_all else today.isoformat())
    finally:
        store.close()
    items = [
        {
            "source": r["source"],
            "due": r["due"],
            "days_left": (date.fromisoformat(r["due"]) - today).days,
            "text": r["text"],
            "sentence": r["sentence"],
            "change_id": r["change_id"],
            "reminded": json.loads(r["reminded"]),
        }
        for r in rows
    ]
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for item in items:
        click.echo(
            f"{item['due']}  ({item['days_left']:>3} days)  {item['source']}  {_cut(item['sentence'], 90)}"
        )
    if not items:
        click.echo("no upcoming deadlines", err=True)


@cli.command(short_help="Exit 0 if the daemon is alive and its database writable, else 1.")
@click.option(
    "--max-age",
    default=None,
    help='Oldest heartbeat that is healthy, like "2m" (default: [watcher] health_max_age, '
    "else three heartbeats, at least 2m).",
)
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
@common_options
def health(config: Config, max_age: str | None, fmt: str) -> None:
    """Exit 0 if the daemon beats and the database takes writes; else 1, one line per reason."""
    from dataclasses import asdict

    from watcher.scheduler import HEALTH_MAX_AGE

    limit = config.settings.health_max_age or HEALTH_MAX_AGE
    if max_age is not None:
        try:
            limit = parse_duration(max_age)
        except ValueError:
            raise click.BadParameter(
                f'{max_age!r} is not a duration; write it like "2m"', param_hint="--max-age"
            ) from None
    state_dir = config.settings.state_dir
    if (state_dir / DB_NAME).exists():
        report = _health_of(state_dir, limit)
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


def _health_of(state_dir: Path, limit: timedelta) -> HealthReport:
    from watcher.maintenance import health as check_health

    try:
        store = open_store(state_dir)
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
    from watcher.maintenance import backup as copy_database

    if path.exists():
        raise click.BadParameter(
            f"{path} already exists; a backup never overwrites, choose a new name",
            param_hint="PATH",
        )
    store = open_store(config.settings.state_dir)
    try:
        done = copy_database(store, path)
    finally:
        store.close()
    click.echo(f"backed up {store.path} to {done.path} ({done.bytes:,} bytes, integrity ok)")


@cli.command(short_help="Apply schema migrations and print the version.")
@common_options
def migrate(config: Config) -> None:
    """Bring the state database to the latest schema and print its version."""
    from watcher.maintenance import latest_schema, schema_on_disk

    before = schema_on_disk(config.settings.state_dir)
    store = open_store(config.settings.state_dir)  # opening applies pending migrations
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
    from watcher.maintenance import retention

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
    store = open_store(settings.state_dir)
    try:
        pruned = retention(store, datetime.now(UTC), checks_for, snapshots_for)
    finally:
        store.close()
    click.echo(
        f"pruned {pruned.checks} checks older than {_human(checks_for.total_seconds())} and "
        f"{pruned.snapshots} snapshots older than {_human(snapshots_for.total_seconds())}; "
        "kept every one a change refers to"
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change_json(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "source": r["source"],
        "url": r["url"],
        "detected_at": r["detected_at"],
        "title": r["title"],
        "category": r["category"],
        "summary": r["summary"],
        "added": r["added"],
        "removed": r["removed"],
        "confidence": _top_confidence(r["evidence"]),
        "evidence": r["evidence"],
        "before": r["before_hash"],
        "after": r["after_hash"],
        "diff": r["diff"],
    }


def _top_confidence(evidence: dict[str, Any]) -> float | None:
    categories = evidence.get("categories") or []
    return float(categories[0]["confidence"]) if categories else None


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    bad = click.BadParameter(
        f'{text!r}: give an ISO date like 2026-11-01 or an age like "7d"', param_hint="--since"
    )
    try:
        age = parse_duration(text)
    except ValueError:
        pass
    else:
        try:
            return datetime.now(UTC) - age
        except OverflowError:  # "999999d" reaches back before year 1
            raise bad from None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise bad from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


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


if __name__ == "__main__":
    main()
