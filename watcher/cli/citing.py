"""`cite`: a change as a citation (source, URL, retrieval time, the SHA-256 of the stored text,
what changed, and the archived copy's permalink)."""

from __future__ import annotations

import click

from watcher import citation
from watcher.cli.group import cli, common_options
from watcher.cli.output import terminal_safe
from watcher.config import Config
from watcher.errors import WatcherError
from watcher.store import reads
from watcher.store.ops import open_store


class NoSuchChange(WatcherError):
    exit_code = 1


@cli.command()
@click.argument("change_id", type=click.IntRange(min=1))
@click.option(
    "--format",
    "fmt",
    default="text",
    type=click.Choice(list(citation.FORMATS)),
    show_default=True,
    help="Plain text, JSON, BibTeX or Markdown.",
)
@common_options
def cite(config: Config, change_id: int, fmt: str) -> None:
    """Print a citation of change CHANGE_ID: source, URL, when the page was retrieved (UTC),
    the SHA-256 of the stored text (checked against that text), an excerpt of what changed,
    and the archived copy's permalink when [web] public_url is set."""
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        row = reads.change(store, change_id)
        stored = reads.snapshot_text(store, row.after_hash) if row is not None else None
    finally:
        store.close()
    if row is None:
        raise NoSuchChange(f"no change #{change_id}; `watcher changes` lists them")
    cited = citation.cite(row, stored, config.web.public_url)
    click.echo(terminal_safe(citation.render(cited, fmt)))
    if not cited.verified:
        click.echo(
            f"watcher: warning: the stored text of change #{change_id} does not hash to "
            f"{cited.sha256}: the archived copy was altered or damaged",
            err=True,
        )
        raise SystemExit(1)
