"""A state written by the real pipeline from a page as GOV.UK writes one: a title with the site's
suffix, headings, a list and an amount that changes (£9 million, then £12 million) next to a new
closing date. What alerts, the web pages and their screenshots are read over."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import PageServer, write_config
from watcher.config import Config, load_config
from watcher.runtime import check_once

# Near the real date, so the closing date is upcoming for a web app on the real clock.
START = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=2)
DUE = (START + timedelta(days=160)).date()
DUE_WORDS = f"{DUE.day} {DUE:%B %Y}"  # as the page and a person write it: "11 May 2027"
TITLE = "Kinship care"
SOURCE = "dfe-kinship"
AMOUNT = "We will spend £{} million on the kinship allowance."
DUE_SENTENCE = f"The consultation closes on {DUE_WORDS}."


def page(amount: int, notes: bool) -> str:
    """The page; with `notes`, a changes section (a heading and a list) and the closing date."""
    notes_html = f"""<h2>Changes to this page</h2>
<ul><li>Published the kinship allowance consultation.</li><li>Added the closing date.</li></ul>
<h3>Notes to editors</h3><p>{DUE_SENTENCE}</p>"""
    return f"""<!doctype html><html><head><title>{TITLE} - GOV.UK</title></head><body>
<header><a href="/">GOV.UK</a></header>
<main><h1>{TITLE}</h1>
<p>The Department for Education sets out how kinship carers will be supported.</p>
<p>{AMOUNT.format(amount)}</p>
{notes_html if notes else ""}
</main><footer>Crown copyright</footer></body></html>"""


def fill(
    tmp_path: Path,
    site: PageServer,
    targets: list[tuple[str, str]] = (),  # type: ignore[assignment]
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Three passes: the first read (£9 million), the change (£12 million, the notes and the
    closing date), and a pass that finds the page unchanged."""
    site.set("/kinship", page(9, notes=False))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": SOURCE, "url": site.url("/kinship"), "tags": ["govuk"]}],
        targets=targets,
    )
    config = load_config(path, environ=dict(environ or {}))
    asyncio.run(check_once(config, clock=lambda: START))
    site.set("/kinship", page(12, notes=True))
    asyncio.run(check_once(config, clock=lambda: START + timedelta(hours=6)))
    asyncio.run(check_once(config, clock=lambda: START + timedelta(hours=12)))
    return config
