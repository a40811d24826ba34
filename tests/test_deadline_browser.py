"""The deadline month view in headless Chromium against a real server on 127.0.0.1, over a
database the pipeline filled from loopback pages: the grid, month links, a deadline's link to
its change, no console errors. The screenshot goes to tests/artefacts/deadline-month.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import ARTEFACTS, BROWSER_TESTS, launch, serving, watched_page
from tests.conftest import PageServer
from tests.test_calendar import ENV, TODAY, _fill, _title
from watcher.config import load_config
from watcher.web.app import create_app

pytestmark = BROWSER_TESTS


@pytest.fixture
def served(tmp_path: Path, site: PageServer) -> Iterator[str]:
    config = load_config(_fill(tmp_path, site), environ=ENV)
    with serving(create_app(config, clock=lambda: TODAY)) as base:
        yield base


def test_the_month_view_in_chromium(served: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = served
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page, errors, strays = watched_page(browser, 1200)

        page.goto(base + "/deadlines")
        page.get_by_role("link", name="Month view").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Deadlines in November 2026")
        cells = page.locator("table.month td.has-deadlines")
        expect(cells).to_have_count(2)  # 6 Nov (past, still on the record) and 24 Nov
        expect(page.locator("table.month tbody tr")).to_have_count(6)
        expect(page.locator("table.month td.today .day-number")).to_contain_text("12")
        kinship = page.locator("table.month td.has-deadlines").nth(1)
        expect(kinship.locator(".day-number")).to_have_text("24")
        expect(kinship.get_by_role("link", name="kinship")).to_be_visible()
        page.screenshot(path=str(ARTEFACTS / "deadline-month.png"), full_page=True)

        page.get_by_role("link", name="December 2026 ›").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Deadlines in December 2026")
        expect(page.locator("table.month td.has-deadlines")).to_have_count(0)
        page.get_by_role("link", name="January 2027 ›").click()
        expect(page.locator("table.month td.has-deadlines")).to_have_count(1)
        page.get_by_role("link", name="fostering").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(_title("fostering"))
        assert "/changes/" in page.url

        page.goto(base + "/deadlines/month?month=2026-11")
        assert page.evaluate("document.querySelectorAll('main script').length") == 0
        browser.close()
    assert errors == [], errors
    assert strays == [], strays
