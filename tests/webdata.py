"""A state database filled by the real pipeline from loopback page versions, for the web tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import PageServer, html_page, write_config
from watcher.config import Config, load_config
from watcher.runtime import check_once

# Near the real date, so the closing date is upcoming for a server on the real clock.
START = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
DUE = START + timedelta(days=20)
CONSULTATION_TITLE = "Kinship care: support for carers"
INTRO = [
    "The Department for Education sets out how kinship carers will be supported.",
    "Local authorities will publish a kinship local offer for every family.",
]
OPENED = [
    *INTRO,
    "We are consulting on a new kinship allowance of £120 million over three years.",
    f"The consultation closes on {DUE.day} {DUE:%B %Y}.",
]
# Markup as page *text* (entities decode to it), which is what reaches the store, the UI and
# the API; raw markup on the page is dropped by extraction and must not run either.
HOSTILE_TITLE = "&lt;img src=x onerror=alert(1)&gt; Fostering news"
HOSTILE_TEXT = (
    "Read &lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt; and "
    '&lt;a href="javascript:alert(1)"&gt;this link&lt;/a&gt; before 1 December 2026.'
)
HOSTILE_RAW = (
    '<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">go</a>'
)


def fill(tmp_path: Path, site: PageServer, environ: Mapping[str, str] | None = None) -> Config:
    """Two sources, two passes each: a consultation that opens, and a page carrying markup."""
    site.set("/consultation", html_page(CONSULTATION_TITLE, INTRO))
    site.set("/hostile", html_page(HOSTILE_TITLE, ["Fostering updates from the sector."]))
    path = write_config(
        tmp_path / "sources.toml",
        [
            {"name": "dfe-kinship", "url": site.url("/consultation"), "tags": ["govuk", "kinship"]},
            {"name": "sector-news", "url": site.url("/hostile"), "tags": ["sector"]},
        ],
    )
    config = load_config(path, environ=dict(environ or {}))
    asyncio.run(check_once(config, clock=lambda: START))
    site.set("/consultation", html_page(CONSULTATION_TITLE, OPENED))
    site.set(
        "/hostile",
        html_page(
            HOSTILE_TITLE,
            ["Fostering updates from the sector.", HOSTILE_TEXT, f"<p>{HOSTILE_RAW}</p>"],
        ),
    )
    later = START + timedelta(hours=6)
    asyncio.run(check_once(config, clock=lambda: later))
    return config
