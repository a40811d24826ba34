"""The five real seed pages served as HTML from the loopback page server, one source each, so the
real pipeline links their changes into stories. Their text is read from the corpus (never copied
here); what is added is what real pages carry around and inside that text:

- the page frame: a nav and header with the site's own links and GOV.UK's front page, a sharing
  bar (twitter, facebook) in an aside, a footer; none of it may tie pages together;
- the links the real pages make from their own words, each on the words that carry it on the
  live page (checked to be in the seed text, so a changed corpus fails loudly):
  - CoramBAAF's reaction: "read the full response from the Government here" -> the GOV.UK
    publication of the response, "Stable Homes, Built on Love";
  - Esmée Fairbairn's summary: the strategy's name -> the same GOV.UK publication, and each of
    the three consultations it lists -> its GOV.UK consultation page;
  - The Fostering Network, the "what are people saying" roundup and the sector feature about the
    review's final report -> the GOV.UK final report (a different document).
Each page is first served as a stub (its title and one line), the baseline; then, a few days
apart and one page at a time (as the sector's reactions come out), as the whole seed page.
"""

from __future__ import annotations

import asyncio
import html
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import REPO, SEEDS, PageServer, write_config
from watcher.config import Config, load_config
from watcher.runtime import check_once

RESPONSE = (
    "https://www.gov.uk/government/publications/children-s-social-care-stable-homes-built-on-love"
)
CONSULTATIONS = "https://www.gov.uk/government/consultations/"
FINAL_REPORT = "https://www.gov.uk/government/publications/independent-review-of-childrens-social-care-final-report"
START = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=20)


@dataclass(frozen=True)
class Seed:
    name: str  # the source's name
    prefix: str  # the seed file's number
    links: tuple[tuple[str, str], ...]  # (words on the page, where they link)
    day: int  # days after START when the whole page appears


SEED_PAGES = (
    Seed(
        "esmee-summary",
        "003",
        (
            ("Stable Homes, Built on Love", RESPONSE),
            (
                "Children's social care strategy",
                CONSULTATIONS + "children-s-social-care-stable-homes-consultation",
            ),
            (
                "Child and Family Social Worker Workforce",
                CONSULTATIONS + "child-and-family-social-worker-workforce",
            ),
            (
                "Children's Social Care National Framework and Dashboard",
                CONSULTATIONS + "childrens-social-care-national-framework-and-dashboard",
            ),
        ),
        1,
    ),
    Seed("fostering-network", "001", (("You can find the full report here", FINAL_REPORT),), 2),
    Seed("sector-feature", "004", (("published its final report", FINAL_REPORT),), 3),
    Seed(
        "care-review-roundup",
        "002",
        (("Independent review into children’s social care final report", FINAL_REPORT),),
        4,
    ),
    Seed(
        "corambaaf-reaction",
        "000",
        (("You can read the full response from the Government here", RESPONSE),),
        8,
    ),
)


def seed_text(seed: Seed) -> str:
    (path,) = [p for p in SEEDS if p.name.startswith(seed.prefix + "_")]
    return path.read_text(encoding="utf-8")


def _frame(title: str, body: str) -> str:
    t = html.escape(title)
    return f"""<!doctype html><html><head><title>{t}</title></head><body>
<header><a href="/">Home</a> <a href="https://www.gov.uk/">GOV.UK</a></header>
<nav><ul><li><a href="/news">News</a></li><li><a href="/about">About us</a></li></ul></nav>
<main><article><h1>{t}</h1>
{body}
</article></main>
<aside class="share">Share: <a href="https://twitter.com/intent/tweet?text=news">Twitter</a>
<a href="https://www.facebook.com/sharer.php?u=news">Facebook</a></aside>
<footer><a href="/privacy">Privacy</a> © 2023</footer></body></html>"""


def seed_title(seed: Seed) -> str:
    """The page's title: its first line of four words or more (one seed opens with an icon's
    label, "info icon", which is no title)."""
    return next(line.strip() for line in seed_text(seed).splitlines() if len(line.split()) >= 4)


def seed_page(seed: Seed) -> str:
    """The seed page as HTML: one paragraph (or list item) per line, its links on their words."""
    title = seed_title(seed)
    lines = [line.strip() for line in seed_text(seed).splitlines() if line.strip()]
    parts = []
    for line in lines:
        if line == title:
            continue
        item = line.startswith("- ")
        parts.append(f"<li>{html.escape(line[2:])}</li>" if item else f"<p>{html.escape(line)}</p>")
    body = "\n".join(parts)
    for words, url in seed.links:
        escaped = html.escape(words)
        assert escaped in body, f"{seed.prefix}: {words!r} is not in the seed page any more"
        body = body.replace(escaped, f'<a href="{html.escape(url)}">{escaped}</a>', 1)
    return _frame(title, body)


def stub_page(seed: Seed) -> str:
    return _frame(seed_title(seed), "<p>This page will be updated soon.</p>")


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def fill_seeds(
    tmp_path: Path,
    site: PageServer,
    environ: dict[str, str] | None = None,
    targets: list[tuple[str, str]] | None = None,
    extra: str = "",
) -> tuple[Config, dict[str, datetime]]:
    """Every seed page watched; baselines at START, then each whole page on its day. The config,
    and when each source changed."""
    for seed in SEED_PAGES:
        site.set(f"/{seed.name}", stub_page(seed))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": s.name, "url": site.url(f"/{s.name}")} for s in SEED_PAGES],
        targets=targets or [],
    )
    path.write_text(path.read_text() + extra)
    config = load_config(path, environ=dict(environ or {}))
    asyncio.run(check_once(config, clock=lambda: START))
    when = {}
    for seed in sorted(SEED_PAGES, key=lambda s: s.day):
        site.set(f"/{seed.name}", seed_page(seed))
        at = START + timedelta(days=seed.day)
        asyncio.run(check_once(config, clock=_fixed(at)))
        when[seed.name] = at
    return config, when


def shipped_topics() -> str:
    """The example [[topic]] tables of the repository's sources.toml, as TOML to append."""
    shipped = tomllib.loads((REPO / "sources.toml").read_text(encoding="utf-8"))
    out = []
    for topic in shipped.get("topic", []):
        out.append("\n[[topic]]")
        for key, value in topic.items():
            out.append(f"{key} = {json.dumps(value)}")
    return "\n".join(out) + "\n"
