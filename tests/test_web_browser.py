"""The web app in headless Chromium against a real server on 127.0.0.1 and a pipeline-filled
database. Screenshots of each page go to tests/artefacts/ for a person to look at."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.browser import ARTEFACTS, BROWSER_TESTS, launch, loopback_only, serving
from tests.conftest import PageServer
from tests.webdata import CONSULTATION_TITLE, fill
from watcher.config import Config
from watcher.store import Store
from watcher.web.app import create_app

ATOM = "{http://www.w3.org/2005/Atom}"

pytestmark = BROWSER_TESTS


@pytest.fixture
def served(tmp_path: Path, site: PageServer) -> Iterator[tuple[str, Config]]:
    config = fill(tmp_path, site)
    with serving(create_app(config)) as base:
        yield base, config


def test_staff_journey_in_chromium(served: tuple[str, Config]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, config = served
    ARTEFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    strays: list[str] = []

    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(
            viewport={"width": 1100, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route("**/*", loopback_only(strays))

        def shot(name: str) -> None:
            page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

        page.goto(base + "/")
        expect(page.get_by_role("heading", name="Changes")).to_be_visible()
        expect(page.locator(".change-item")).to_have_count(2)
        shot("timeline")

        page.get_by_label("Category").select_option("consultation_open")
        page.get_by_role("button", name="Apply filters").click()
        expect(page.locator(".change-item")).to_have_count(1)
        assert "category=consultation_open" in page.url
        shot("timeline-consultations")

        page.get_by_role("link", name=CONSULTATION_TITLE).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(CONSULTATION_TITLE)
        expect(page.locator(".diff-inline ins").first).to_contain_text("kinship allowance")
        expect(page.locator(".evidence mark.fact-money")).to_have_text(
            "£120 million over three years"
        )
        expect(page.locator(".evidence mark.fact-deadline")).to_be_visible()
        shot("change")
        page.get_by_role("link", name="Side by side").click()
        expect(page.locator("table.diff-side ins").first).to_contain_text("kinship allowance")
        shot("change-side-by-side")

        page.get_by_label("Reviewed", exact=True).check()
        page.locator("#r-reviewer").fill("Priya Shah")
        page.locator("#r-note").fill("Briefed the team.")
        page.get_by_role("button", name="Save review").click()
        expect(page.get_by_role("status")).to_have_text("Review saved.")
        expect(page.locator(".history")).to_contain_text("Priya Shah marked it reviewed")
        shot("change-reviewed")

        page.get_by_role("link", name="Search").click()
        page.get_by_label("Words in changes and stored pages").fill("allowance")
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".snippet mark").first).to_have_text("allowance")
        expect(page.locator('.change-title a[href^="/changes/"]')).to_have_text(CONSULTATION_TITLE)
        shot("search")

        page.goto(base + "/?category=consultation_open")
        feed_href = page.get_by_role("link", name="Atom feed").get_attribute("href")
        assert feed_href
        feed = page.request.get(base + feed_href)
        entries = ET.fromstring(feed.body()).findall(f"{ATOM}entry")
        assert [e.findtext(f"{ATOM}title") for e in entries] == [
            f"[consultation open] dfe-kinship: {CONSULTATION_TITLE}"
        ]
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
        assert [r["review_state"] for r in rows] == ["reviewed"]

        page.goto(base + "/?source=sector-news")
        page.locator(".change-title a").first.click()
        expect(page.locator("h1")).to_contain_text("<img src=x onerror=alert(1)>")
        expect(page.locator(".evidence")).to_contain_text("<script>alert(1)</script>")
        assert page.evaluate("document.querySelectorAll('main script, main img').length") == 0
        assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
        shot("change-hostile")
        page.get_by_role("link", name="Side by side").click()
        shot("change-hostile-side-by-side")

        for path, name in (
            ("/sources", "sources"),
            ("/sources/dfe-kinship", "source"),
            ("/deadlines", "deadlines"),
        ):
            page.goto(base + path)
            shot(name)
        expect(page.locator("table")).to_contain_text("The consultation closes on")

        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(base + "/")
        shot("phone-timeline")
        page.locator(".changes").get_by_role("link", name=CONSULTATION_TITLE).click()
        page.get_by_role("link", name="Side by side").click()
        shot("phone-change")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the change page scrolls sideways on a phone ({width}px)"

        page.goto(base + "/deadlines")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        browser.close()

    assert dialogs == [], f"page content ran script: {dialogs}"
    assert strays == [], f"requests left 127.0.0.1: {strays}"
    store = Store.open(config.settings.state_dir)
    try:
        reviewed = list(store.db.query("SELECT reviewer, state FROM reviews"))
        assert reviewed == [{"reviewer": "Priya Shah", "state": "reviewed"}]
    finally:
        store.close()


# --- the home page's picture: topics week by week, and the deadlines ahead ---------------------


def _topic_pages(tmp_path: Path, site: PageServer) -> Config:
    """Three pages checked over ten weeks with the shipped example topics, so each topic has
    changes in some weeks; a consultation among them gives a deadline ahead."""
    import asyncio
    import json
    import tomllib
    from datetime import UTC, datetime, timedelta

    from tests.conftest import REPO, html_page, write_config
    from watcher.config import load_config
    from watcher.runtime import check_once

    shipped = tomllib.loads((REPO / "sources.toml").read_text(encoding="utf-8"))["topic"]
    topics = "".join(
        "[[topic]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items()) for t in shipped
    )
    now = datetime.now(UTC).replace(microsecond=0)
    due = now + timedelta(days=24)
    weeks = [
        (10, "kinship", "Kinship carers will receive a new allowance of £25 a week."),
        (8, "fostering", "Foster carers will get £3 million more support from 1 April 2027."),
        (7, "kinship", "The kinship care strategy was published on 15 December 2023."),
        (5, "workforce", "Agency social workers will be capped from 1 May 2027."),
        (4, "fostering", "The fostering recruitment drive gets £12 million in every region."),
        (3, "hubs", "Seventy five areas will open family hubs with £500 million."),
        (2, "kinship", "A kinship local offer is due from every council by 1 June 2027."),
        (1, "leavers", f"The consultation on care leavers closes on {due.day} {due:%B %Y}."),
        (0, "fostering", "Fostering allowances rise to £9 a week from 7 April 2027."),
    ]
    pages = {name: ["News from the sector, updated when there is news."] for _, name, _ in weeks}
    for name, lines in pages.items():
        site.set(f"/{name}", html_page(f"{name} news", lines))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": f"{n}-news", "url": site.url(f"/{n}")} for n in pages],
    )
    path.write_text(path.read_text() + topics)
    config = load_config(path, environ={})
    start = now - timedelta(weeks=11)
    asyncio.run(check_once(config, clock=lambda: start))
    for ago, name, sentence in weeks:
        pages[name].append(sentence)
        site.set(f"/{name}", html_page(f"{name} news", pages[name]))
        at = now - timedelta(weeks=ago, hours=1)
        source = [s for s in config.sources if s.name == f"{name}-news"]
        asyncio.run(check_once(config, source, clock=lambda at=at: at))
    return config


def test_home_page_pictures_each_topic_and_the_deadlines_in_chromium(
    tmp_path: Path, site: PageServer
) -> None:
    from playwright.sync_api import expect, sync_playwright

    config = _topic_pages(tmp_path, site)
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with serving(create_app(config)) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(base + "/")
        expect(page.get_by_role("heading", name="Topics over the last 12 weeks")).to_be_visible()
        charts = page.locator("svg.topic-chart")
        expect(charts).to_have_count(len(config.topics))
        names = [t.name for t in config.topics]
        assert [charts.nth(i).get_attribute("data-topic") for i in range(len(names))] == names
        # Each chart is an image with a name and a description, and every bar a tooltip.
        kinship = page.get_by_role("img", name="Kinship care")
        expect(kinship).to_have_count(1)
        expect(kinship.locator("desc")).to_contain_text(
            "Kinship care: 3 changes in the last 12 weeks"
        )
        assert kinship.locator("g.chart-bar").count() == 12
        expect(kinship.locator("rect.chart-fill")).to_have_count(3)
        tips = kinship.locator("g.chart-bar title")
        expect(tips.filter(has_text="Kinship care: 1 change in the week of")).to_have_count(3)
        expect(tips.filter(has_text="Kinship care: 0 changes in the week of")).to_have_count(9)
        expect(page.get_by_role("img", name="Fostering").locator("rect.chart-fill")).to_have_count(
            3
        )
        expect(page.locator(".picture-deadlines li")).to_have_count(1)
        expect(page.locator(".picture-deadlines")).to_contain_text("leavers news")
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        page.screenshot(path=str(ARTEFACTS / "home-topics.png"), full_page=True)

        page.get_by_role("link", name="Kinship care").first.click()
        expect(page.locator(".change-item")).to_have_count(3)
        assert "topic=Kinship%20care" in page.url
        page.locator(".change-title a").first.click()
        expect(page.locator("table.topics")).to_contain_text(
            "A kinship local offer is due from every council by 1 June 2027."
        )
        page.screenshot(path=str(ARTEFACTS / "change-topics.png"), full_page=True)
        browser.close()
    assert problems == [], f"the browser reported: {problems}"


def test_change_page_cite_box_in_chromium(served: tuple[str, Config]) -> None:
    """The cite box on a change page: the citation as copyable text (no script needed), its
    hash the stored text's, and the archived copy it links to; no console errors."""
    import hashlib

    from playwright.sync_api import expect, sync_playwright

    base, _config = served
    ARTEFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900}, java_script_enabled=False)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.goto(base + "/?category=consultation_open")
        page.get_by_role("link", name=CONSULTATION_TITLE).click()
        box = page.locator("#cite")
        expect(box.get_by_role("heading", name="Cite this change")).to_be_visible()
        citation = page.locator("#cite-text").input_value()
        assert citation.startswith("dfe-kinship.") and "Retrieved: " in citation
        digest = citation.split("SHA-256 of the stored text: ", 1)[1].split()[0]
        expect(box).to_contain_text("checked: the stored text has this hash")
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(ARTEFACTS / "change-cite.png"))
        page.get_by_role("link", name="after").click()
        expect(page.locator("code.hash").first).to_have_text(digest)
        stored = page.request.get(f"{base}/snapshots/{digest}.txt").body()
        assert hashlib.sha256(stored).hexdigest() == digest
        page.screenshot(path=str(ARTEFACTS / "snapshot-permalink.png"), full_page=True)
        browser.close()
    assert problems == [], f"console errors: {problems}"
