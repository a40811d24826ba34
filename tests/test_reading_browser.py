"""What people read, in headless Chromium against a real server on 127.0.0.1 over the state the
real pipeline wrote from a GOV.UK-like page (tests/readingdata.py): the timeline, a change page,
search and deadlines, each saved as a screenshot in tests/artefacts/reading-*.png, with no
console error (the CSP refuses inline script and style, so an error is a fault). One Chromium
launch for all four: where layout matters (a date that must not wrap, a heading row that reads
as a heading), the browser is asked."""

from __future__ import annotations

from pathlib import Path

from tests.browser import ARTEFACTS, BROWSER_TESTS, launch, serving, watched_page
from tests.conftest import PageServer
from tests.readingdata import DUE, DUE_WORDS, SOURCE, TITLE, fill
from watcher.web.app import create_app

pytestmark = BROWSER_TESTS


def test_timeline_change_search_and_deadlines_in_chromium(tmp_path: Path, site: PageServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    config = fill(tmp_path, site)
    ARTEFACTS.mkdir(exist_ok=True)
    with serving(create_app(config)) as base, sync_playwright() as p:
        browser = launch(p)
        # A narrow window, as on a laptop with the browser beside a document.
        page, errors, strays = watched_page(browser, 760)

        def shot(name: str) -> None:
            page.screenshot(path=str(ARTEFACTS / f"reading-{name}.png"), full_page=True)

        page.goto(base + "/")
        expect(page.locator(".change-item")).to_have_count(1)
        shot("timeline")

        # Computed styles below need the stylesheet: wait for the change page's load event.
        with page.expect_navigation(wait_until="load"):
            page.locator(".change-item h2 a").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{TITLE} - GOV.UK")
        edited = page.locator(".diff-inline .row-edit").first
        expect(edited.locator("del")).to_contain_text("£9")
        expect(edited.locator("ins")).to_contain_text("£12")
        struck, new = edited.locator("del").bounding_box(), edited.locator("ins").bounding_box()
        assert struck and new and new["x"] - (struck["x"] + struck["width"]) >= 2, "£9£12"
        heading = page.locator(".diff-inline .block-heading").first
        expect(heading.locator("ins")).to_contain_text("Changes to this page")
        assert heading.locator("ins").evaluate("e => getComputedStyle(e).fontWeight") == "700"
        expect(page.locator(".diff-inline")).not_to_contain_text("## ")
        shot("change")

        page.goto(base + "/search?q=million")
        stored = page.locator("ol.changes").last.locator(".change-item")
        expect(stored).to_have_count(2)
        expect(stored.first.locator(".meta")).to_contain_text(f"{SOURCE} · stored")
        expect(stored.first.locator(".meta")).to_contain_text("current version")
        expect(stored.last.locator(".meta")).to_contain_text("older version")
        expect(stored.last.locator(".snippet")).to_contain_text("£9 million")
        shot("search")

        page.goto(base + "/deadlines")
        due = page.locator(f'td time[datetime="{DUE.isoformat()}"]')
        expect(due).to_have_text(DUE_WORDS)
        # One line box: the date does not wrap in its column.
        assert due.evaluate("e => e.getClientRects().length") == 1
        shot("deadlines")
        browser.close()
    assert not errors, errors
    assert not strays, strays
    for name in ("timeline", "change", "search", "deadlines"):
        assert (ARTEFACTS / f"reading-{name}.png").stat().st_size > 0
