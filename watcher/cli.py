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

from watcher import __version__, statelock
from watcher.config import Config, load_config, parse_duration, register_secrets
from watcher.diff import diff_from_dict, render_diff
from watcher.errors import StoreError, WatcherError
from watcher.logs import redact, setup_logging
from watcher.store import DB_NAME, DatabaseError, iso
from watcher.store.ops import HealthReport, integrity, open_store

F = TypeVar("F", bound=Callable[..., Any])
OUTCOME_MARK = {
    "changed": "CHANGED",
    "baseline": "baseline",
    "unchanged": "same",
    "not_modified": "same (304)",
    "volatile": "volatile",
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
    Exit codes: 0 done, 1 runtime error (check: every source failed), 2 bad configuration or
    usage, or the state is in use by another watcher process, 3 unusable state database
    (damaged or read-only).
    """


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--diff/--no-diff", "show_diff", default=True, help="Print the diff of each change.")
@common_options
def check(config: Config, names: tuple[str, ...], show_diff: bool) -> None:
    """Check every source (or the NAMES given) once, deliver due alerts, then exit (1 when
    every source failed)."""
    from watcher.runtime import check_once

    sources = [config.source(n) for n in names] or list(config.sources)
    if not sources:
        click.echo(
            f"watcher: warning: {config.path} lists no sources; add a [[source]] table "
            "(see the README), nothing was checked",
            err=True,
        )
    with statelock.hold(config.settings.state_dir, "check"):
        results, report = asyncio.run(check_once(config, sources))
    width = max((len(r.source) for r in results), default=10)
    for r in results:
        detail = r.change.summary if r.change else (r.error or "")
        click.echo(
            f"{OUTCOME_MARK.get(r.outcome, r.outcome):<11} {r.source:<{width}}  "
            f"{terminal_safe(redact(detail))}"
        )
        if r.change and show_diff:
            click.echo(terminal_safe(_indent(render_diff(r.change.diff, max_lines=40))))
    errors = sum(r.outcome == "error" for r in results)
    changed = sum(r.outcome == "changed" for r in results)
    click.echo(
        f"{len(results)} checked: {changed} changed, {errors} failed; "
        f"alerts sent {report.sent}, retrying {report.retrying}, dead {report.dead}",
        err=True,
    )
    if results and errors == len(results):
        # Every source failing is the checker's own trouble (network, egress policy), not news.
        click.echo(
            f"watcher: error: all {errors} sources failed (see the ERROR lines); "
            "check the network and [egress] settings",
            err=True,
        )
        sys.exit(1)


def listen_option(fn: F) -> F:
    return click.option(
        "--listen",
        envvar="WATCHER_LISTEN",
        default=None,
        help='Web app address, "HOST:PORT" (env WATCHER_LISTEN; default [web] listen, '
        "127.0.0.1:8080). Beyond loopback a login is required.",
    )(fn)


@cli.command()
@listen_option
@common_options
def run(config: Config, listen: str | None) -> None:
    """Run the daemon: check each source on its schedule, and serve the web app, until SIGTERM
    or Ctrl-C. --listen off (or [web] listen = "off") runs no web app."""
    import logging
    from functools import partial

    from watcher.notify.deliver import check_targets
    from watcher.scheduler import Daemon
    from watcher.web.serve import serve_beside, server

    check_targets(config.targets)  # before anything is opened or written

    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    missing = [t.name for t in config.targets if t.secret is None]
    for name in missing:
        target = next(t for t in config.targets if t.name == name)
        logging.getLogger("watcher").warning(
            f"notify target {name!r} is off: set {target.env} (or {target.env}_FILE) to its Apprise URL"
        )
    with statelock.hold(config.settings.state_dir, "run"):
        # A damaged file stops the daemon at once with the fix, not at its first write hours later.
        store = open_store(config.settings.state_dir)
        try:
            integrity(store)
        finally:
            store.close()
        address = listen or config.web.listen
        companions = []
        if address != "off":
            # Built before the daemon starts: a web setting that is wrong stops `run` at once.
            web = server(config, address, embedded=True)
            companions.append(partial(serve_beside, web, address))
            logging.getLogger("watcher").info(f"web app on http://{address}/")
        asyncio.run(Daemon(config, companions=companions).run())


@cli.command()
@listen_option
@common_options
def serve(config: Config, listen: str | None) -> None:
    """Serve the staff web app (timeline, change pages, search, review, feeds, API) until
    SIGTERM or Ctrl-C, without checking sources."""
    from watcher.web.serve import serve as serve_web
    from watcher.web.serve import server

    address = listen or config.web.listen
    web = server(config, address)
    click.echo(f"web app on http://{address}/ (Ctrl-C to stop)", err=True)
    asyncio.run(serve_web(web, address))


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
    store = open_store(config.settings.state_dir)
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
            click.echo(terminal_safe(_indent(render_diff(diff_from_dict(r["diff"]), max_lines=60))))
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
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
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
    store = open_store(config.settings.state_dir)
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
    "--url",
    default="",
    help="The page's URL: its path weighs in (e.g. /consultations/); a legislation.gov.uk or "
    "bills.parliament.uk address decides.",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read JSON lines {"id", "title", "text"} (and optional "description", "url", '
    '"document_type"); write one JSON line each.',
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A retrained model file instead of the shipped one.",
)
def classify_command(
    source: Any, title: str, url: str, jsonl: bool, model_path: Path | None
) -> None:
    """Categories, confidence and evidence of a text (FILE, or standard input)."""
    from watcher.classify import classify, gather
    from watcher.classify.model import load

    try:
        model = load(model_path)
    except WatcherError as exc:
        raise click.ClickException(str(exc)) from None

    def result(item: dict[str, Any]) -> dict[str, Any]:
        text = str(item.get("text") or "")
        categories = classify(
            text,
            title=str(item.get("title") or ""),
            url=str(item.get("url") or ""),
            description=str(item.get("description") or ""),
            document_type=str(item.get("document_type") or ""),
            model=model if model is not None else False,
        )
        evidence = gather(tuple(text.splitlines()))
        thresholds = model.thresholds if model is not None else {}
        return {
            "categories": [
                {"label": c.label, "confidence": c.confidence, "threshold": thresholds.get(c.label)}
                for c in categories
            ],
            "decided_by": categories[0].decided_by if categories else "",
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
                out = {"id": item.get("id"), **result(item)}
            except (json.JSONDecodeError, AttributeError) as exc:
                raise click.BadParameter(
                    f"line {number} is not a JSON object ({exc})", param_hint="SOURCE"
                ) from None
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    out = result({"text": source.read(), "title": title, "url": url})
    for c in out["categories"]:
        click.echo(f"{c['label']:<22} {c['confidence']:.2f}")
    for sentence in out["evidence"]["sentences"]:
        click.echo(f"  evidence: {_cut(sentence, 120)}")
    for fact in out["evidence"]["facts"]:
        click.echo(
            f"  {fact['kind']}: {fact['text']}" + (f" = {fact['value']}" if fact["value"] else "")
        )


@cli.command()
@click.argument("change_id", type=int)
@click.argument("label")
@click.option("--by", "reviewer", required=True, help="Who corrects it (kept with the change).")
@click.option("--note", default="", help="Why, for the record.")
@common_options
def correct(config: Config, change_id: int, label: str, reviewer: str, note: str) -> None:
    """Set a change's category by hand; `watcher retrain` learns from it."""
    if label not in config.settings.categories:
        raise click.BadParameter(
            f"{label!r} is not a category; choose from {', '.join(config.settings.categories)}",
            param_hint="LABEL",
        )
    store = open_store(config.settings.state_dir)
    try:
        done = store.correct(change_id, label, reviewer.strip(), note, datetime.now(UTC))
    except KeyError:
        raise click.BadParameter(
            f"no change #{change_id}; list them with `watcher changes`", param_hint="CHANGE_ID"
        ) from None
    finally:
        store.close()
    click.echo(f"#{change_id}: {done['previous'] or 'none'} -> {label} (by {reviewer.strip()})")


@cli.command()
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled JSON lines (title, text, label; optional description, url and "
    "label_basis, the sentence that states the label) to learn from; repeat for several.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the model [default: STATE/model.json, which the daemon then uses].",
)
@common_options
def retrain(config: Config, corpora: tuple[Path, ...], out: Path | None) -> None:
    """Retrain the category model on a corpus plus every stored correction (needs scikit-learn)."""
    from watcher.classify import MODEL_FILE
    from watcher.classify.train import corpus_examples, correction_examples, fit

    store = open_store(config.settings.state_dir)
    try:
        fixes = correction_examples(store.corrections())
    finally:
        store.close()
    examples = [e for path in corpora for e in corpus_examples(path)] + fixes
    names = ", ".join(p.name for p in corpora)
    model = fit(examples, f"{len(examples)} examples ({names}; {len(fixes)} corrections)")
    target = out or config.settings.state_dir / MODEL_FILE
    target.write_text(model.to_json() + "\n", encoding="utf-8")
    click.echo(f"wrote {target}: {len(model.labels)} categories, {model.trained_on}")


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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@common_options
def alerts(
    config: Config,
    action: str | None,
    outbox_id: int | None,
    status: str | None,
    limit: int,
    fmt: str,
) -> None:
    """The outbox: pending, sent and dead alerts, newest first. `alerts retry ID` resends one
    (a dead one gets a fresh set of tries) and delivers what is due."""
    if action == "retry":
        if outbox_id is None:
            raise click.UsageError("name the alert: watcher alerts retry ID")
        _retry(config, outbox_id)
        return
    store = open_store(config.settings.state_dir)
    try:
        rows = store.outbox(status=status, limit=limit)
    finally:
        store.close()
    if fmt == "json":
        keep = (
            "id", "kind", "mode", "target", "source", "change_id", "status", "attempts",
            "created_at", "next_attempt_at", "sent_at", "last_error",
        )  # fmt: skip
        click.echo(json.dumps([{k: r[k] for k in keep} for r in rows], indent=2))
        return
    for r in rows:
        what = f"change #{r['change_id']}" if r["change_id"] else r["kind"]
        when = r["sent_at"] if r["status"] == "sent" else f"next {r['next_attempt_at']}"
        click.echo(
            f"{r['id']:>5}  {r['status']:<7} {r['kind']:<8} {r['mode']:<9} {r['target']:<16} "
            f"{r['source'] or '-':<20} {what}  tries {r['attempts']}  {when}"
            + (f"  error: {_cut(r['last_error'], 80)}" if r["last_error"] else "")
        )
    if not rows:
        click.echo("no alerts" + (f" {status}" if status else ""))


def _retry(config: Config, outbox_id: int) -> None:
    from watcher.runtime import open_runtime

    async def go() -> None:
        async with open_runtime(config) as rt:
            if not rt.store.retry(outbox_id, datetime.now(UTC)):
                raise click.BadParameter(
                    f"no unsent alert #{outbox_id}; list them with `watcher alerts`",
                    param_hint="ID",
                )
            report = await rt.deliverer.deliver_due()
        click.echo(f"alert #{outbox_id} queued; sent {report.sent}, retrying {report.retrying}")

    asyncio.run(go())


@cli.command()
@click.argument("action", required=False, type=click.Choice(["clear"]))
@click.argument("address", required=False)
@common_options
def logins(config: Config, action: str | None, address: str | None) -> None:
    """Failed web logins by client address, and lockouts. `logins clear [ADDRESS]` lifts the
    lockout and forgets the failures of ADDRESS (of every address, and the global count, when
    none is given)."""
    from watcher.web.logins import EVERYONE, client_key

    store = open_store(config.settings.state_dir)
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
    store = open_store(config.settings.state_dir)
    try:
        error = asyncio.run(Deliverer(store=store, targets=known).send_test(target))
    finally:
        store.close()
    if error:
        raise click.ClickException(error)
    click.echo(f"test message sent to {target}")


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include deadlines that have passed.")
@click.option(
    "--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True
)
@common_options
def deadlines(config: Config, show_all: bool, fmt: str) -> None:
    """Consultation closing dates found in changes, soonest first."""
    today = datetime.now(UTC).date()
    store = open_store(config.settings.state_dir)
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
    from watcher.store.ops import health as check_health

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
    from watcher.store.ops import backup as copy_database

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
    from watcher.store.ops import latest_schema, schema_on_disk

    with statelock.hold(config.settings.state_dir, "migrate"):
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
    with statelock.hold(settings.state_dir, "prune"):
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


# Page text reaches the terminal: bidirectional overrides could make a line read unlike its bytes,
# and escape sequences could drive the terminal itself. Both are shown escaped.
TERMINAL_UNSAFE = frozenset(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


def terminal_safe(text: str) -> str:
    """`text` with control, escape and bidi-override characters shown as \\uXXXX."""
    return "".join(f"\\u{ord(c):04x}" if ord(c) in TERMINAL_UNSAFE else c for c in text)


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
    except DatabaseError as exc:
        # A damaged file found by any command, not only by the start-up check of `run`.
        from watcher.store.ops import DAMAGED_FIX

        problem = " ".join(str(exc).split())
        click.echo(
            f"watcher: error: the state database is damaged ({problem}); {DAMAGED_FIX}", err=True
        )
        sys.exit(3)


if __name__ == "__main__":
    main()
