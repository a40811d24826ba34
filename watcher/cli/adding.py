"""`watcher add URL`: fetch a URL once, decide which kind of source suits it (watcher.discover),
say why, and append its `[[source]]` table to the sources file."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from watcher.cli.group import cli, common_options
from watcher.cli.output import terminal_safe
from watcher.config import Config, parse_duration
from watcher.config.reader import name_problem
from watcher.config.settings import MAX_EVERY, MIN_EVERY
from watcher.errors import ConfigError, EgressDenied, FetchError
from watcher.models import Fetched

if TYPE_CHECKING:
    from watcher.discover import Discovery


@cli.command()
@click.argument("url")
@click.option("--name", default=None, help="Source name (default: from the page title or URL).")
@click.option("--every", default=None, help='Check interval, like "6h" (default: [watcher] every).')
@click.option("--tag", "tags", multiple=True, help="A tag for routes; repeat for more.")
@click.option("--dry-run", is_flag=True, help="Print the [[source]] table; write nothing.")
@click.option(
    "--govuk-base",
    envvar="WATCHER_GOVUK_BASE",
    default=None,
    hidden=True,
    help="Where GOV.UK is served (default: [watcher] govuk_base).",
)
@common_options
def add(
    config: Config,
    url: str,
    name: str | None,
    every: str | None,
    tags: tuple[str, ...],
    dry_run: bool,
    govuk_base: str | None,
) -> None:
    """Fetch URL, choose the kind of source that suits it, and append it to the sources file.

    A GOV.UK page becomes a govuk source and a GOV.UK search a govuk-search; an RSS or Atom
    feed, or a page that links one, a feed; a sitemap a sitemap; a page that is mostly a list of
    links to the same site a listing; anything else a page. Prints the choice, why, and the
    alternatives; --dry-run writes nothing.
    """
    # Discovery reads pages with bs4: imported here, so other commands start without it.
    from watcher.discover import Discovery, discover

    _check_options(url, name, every, tags)
    _refuse_watched(config, url)
    fetched = asyncio.run(_fetch(config, url))
    base = govuk_base or config.settings.govuk_base
    found = discover(fetched, govuk_base=base, taken={s.name for s in config.sources})
    if name:
        if any(s.name == name for s in config.sources):
            raise ConfigError(f"source name {name!r} is already used; pick another with --name")
        found = Discovery(found.kind, found.url, name, found.why, found.alternatives, found.query)
    _refuse_watched(config, found.url)
    table = source_table(found, every, tags)
    click.echo(terminal_safe(f"{found.kind}: {found.url}"))
    click.echo(terminal_safe(f"  why: {found.why}"))
    for other in found.alternatives:
        click.echo(terminal_safe(f"  or {other.kind}: {other.url} ({other.why})"))
    if dry_run:
        click.echo("\ndry run, nothing written:\n")
        click.echo(terminal_safe(table), nl=False)
        return
    append_table(config.path, table)
    click.echo(f"\nappended to {config.path}:\n")
    click.echo(terminal_safe(table), nl=False)


def _check_options(url: str, name: str | None, every: str | None, tags: tuple[str, ...]) -> None:
    # The sources file refuses these, so a table holding one could not be loaded.
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        raise click.BadParameter(
            "remove spaces, control characters and backslashes", param_hint="URL"
        )
    if "@" in urlsplit(url).netloc:
        raise click.BadParameter("a URL must not carry a user name or password", param_hint="URL")
    if name is not None and (problem := name_problem(name)):
        raise click.BadParameter(problem, param_hint="--name")
    if every is not None:
        try:
            interval = parse_duration(every)
        except ValueError:
            raise click.BadParameter(
                f'{every!r}: write it like "6h" or "1d"', param_hint="--every"
            ) from None
        if not MIN_EVERY <= interval <= MAX_EVERY:
            raise click.BadParameter('must lie between "10s" and "31d"', param_hint="--every")
    if any(not tag.strip() for tag in tags):
        raise click.BadParameter("a tag must not be empty", param_hint="--tag")


def _refuse_watched(config: Config, url: str) -> None:
    for source in config.sources:
        if source.url == url:
            raise ConfigError(
                f"{url} is already watched by source {source.name!r}; "
                "nothing added (`watcher sources` lists them)"
            )


async def _fetch(config: Config, url: str) -> Fetched:
    """One GET through the egress client, so the address gate and limits apply."""
    from watcher.egress import Egress

    try:
        async with Egress(config.settings.egress) as egress:
            return await egress.fetch(url)
    except EgressDenied as exc:
        raise EgressDenied(
            f"cannot fetch {url}: {exc}; if it is an intranet site you trust, "
            "add its network to [egress] allow_cidrs"
        ) from None
    except FetchError as exc:
        raise FetchError(
            exc.reason,
            f"cannot fetch {url}: {exc}; check that the URL opens in a browser, then try again",
            status=exc.status,
        ) from None


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def source_table(found: Discovery, every: str | None, tags: tuple[str, ...]) -> str:
    """The `[[source]]` table for a discovery: name, url, kind (unless page), query, every, tags."""
    lines = ["[[source]]", f"name = {toml_string(found.name)}", f"url = {toml_string(found.url)}"]
    if found.kind != "page":
        lines.append(f"kind = {toml_string(found.kind)}")
    if found.query:
        grouped: dict[str, list[str]] = {}
        for key, value in found.query:
            grouped.setdefault(key, []).append(value)
        pairs = ", ".join(
            f"{toml_string(k)} = "
            + (toml_string(v[0]) if len(v) == 1 else f"[{', '.join(toml_string(x) for x in v)}]")
            for k, v in grouped.items()
        )
        lines.append(f"query = {{ {pairs} }}")
    if every:
        lines.append(f"every = {toml_string(every)}")
    if tags:
        lines.append(f"tags = [{', '.join(toml_string(t) for t in tags)}]")
    return "\n".join(lines) + "\n"


def append_table(path: Path, table: str) -> None:
    """Append `table` after the file's text, which is kept byte for byte; refused if the result
    would not parse (a `source = [...]` array, say, cannot take a `[[source]]` table)."""
    old = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in old else b"\n"
    gap = b"" if not old else newline if old.endswith(b"\n") else newline * 2
    added = gap + table.replace("\n", newline.decode()).encode("utf-8")
    try:
        tomllib.loads((old + added).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: the new [[source]] table would not parse after the file's text ({exc}); "
            "add it by hand (run again with --dry-run to print it)"
        ) from None
    with path.open("ab") as out:
        out.write(added)
