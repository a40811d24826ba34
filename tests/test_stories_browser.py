"""A story page in headless Chromium, against a real server on 127.0.0.1 over the state the real
pipeline wrote from the five seed pages: the screenshot goes to tests/artefacts/story.png, and the
page logs no console error (the CSP refuses inline script and style, so an error is a fault)."""

from __future__ import annotations

from pathlib import Path

from tests.browser import ARTEFACTS, BROWSER_TESTS, launch, serving, watched_page
from tests.conftest import PageServer
from tests.storydata import RESPONSE, fill_seeds
from watcher.web.app import create_app

pytestmark = BROWSER_TESTS


def test_story_page_in_chromium(tmp_path: Path, site: PageServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    config, _ = fill_seeds(tmp_path, site)
    ARTEFACTS.mkdir(exist_ok=True)
    with serving(create_app(config)) as base, sync_playwright() as p:
        browser = launch(p)
        page, errors, strays = watched_page(browser, 1100)

        page.goto(base + "/stories")
        expect(page.get_by_role("heading", name="Stories", exact=True)).to_be_visible()
        page.get_by_role("link", name="Stable Homes, Built on Love").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Stable Homes, Built on Love")
        expect(page.locator(".story-entry")).to_have_count(2)
        expect(page.locator(".story-reason").first).to_contain_text(f"both link {RESPONSE}")
        expect(page.locator(".story-entry .meta").nth(1)).to_contain_text("corambaaf-reaction")
        page.screenshot(path=str(ARTEFACTS / "story.png"), full_page=True)

        # From a change on the timeline to its page, which names the story.
        page.locator(".story-entry h3 a").first.click()
        expect(page.get_by_role("link", name="Stable Homes, Built on Love")).to_be_visible()
        browser.close()
    assert not errors, errors
    assert not strays, strays
