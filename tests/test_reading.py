"""What people read, end to end over a state the real pipeline wrote from a GOV.UK-like page: the
email (through a real aiosmtpd server), and the web pages (plain HTTP requests to the app): no
block mark (`##`, `-`) shown as markup, a subject without the site's suffix, blank lines between
the sections of the text part, human dates, search hits that say which version they are, the
sources pages in staff words, and corrections shown as corrections."""

from __future__ import annotations

import html
import re
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path

from starlette.testclient import TestClient

from tests.conftest import PageServer, Smtp, message_text
from tests.readingdata import DUE, DUE_WORDS, SOURCE, TITLE, fill
from watcher.config import Config
from watcher.store import Store
from watcher.web.app import create_app

BASE = "http://127.0.0.1"
# A block mark shown as text: a line (or a diff line, or an HTML element's text) opening with it.
MARKUP = re.compile(r"(?m)(^|[>+~] ?|“)(#{1,6}|-) (?=\w)")


def _parts(smtp: Smtp) -> tuple[str, str, str]:
    message = smtp.sink.wait_for(1)[0]
    text = html_part = ""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            body = payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")
            if part.get_content_type() == "text/plain":
                text = body
            elif part.get_content_type() == "text/html":
                html_part = body
    assert text and html_part and message_text(message)
    return str(make_header(decode_header(message["Subject"]))), text, html_part


def test_the_email_reads_as_written_for_people(
    tmp_path: Path, smtp: Smtp, site: PageServer
) -> None:
    fill(tmp_path, site, [("mail", "MAIL_URL")], {"MAIL_URL": smtp.apprise_url})
    subject, text, html_part = _parts(smtp)

    # The subject: the page's title without " - GOV.UK", then the key fact.
    assert f"{SOURCE} — {TITLE}: closes {DUE_WORDS}" in subject
    assert "GOV.UK" not in subject

    # The text part: labelled sections with a blank line between each.
    sections = text.strip().split("\n\n")
    assert [s.splitlines()[0] for s in sections[:3]] == ["Evidence", "Changed", "Added"]
    assert sections[-1].startswith("Category:")
    assert "\n+ • Published the kinship allowance consultation." in text
    assert "+ Changes to this page" in text and "+ Notes to editors" in text
    assert not MARKUP.search(text), text

    # The HTML part: headings bold, list items after a bullet, no mark anywhere.
    assert "<strong>Changes to this page</strong>" in html_part
    assert "• Added the closing date." in html_part
    assert not MARKUP.search(html.unescape(re.sub(r"<[^>]+>", "\n", html_part)))


def _change_id(config: Config) -> int:
    store = Store.open(config.settings.state_dir)
    try:
        return store.changes()[0].id
    finally:
        store.close()


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _visible(page: str) -> str:
    """A page's text as read (tags out), one line per element."""
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


def test_web_pages_show_no_block_marks_and_space_struck_from_new_words(
    tmp_path: Path, site: PageServer
) -> None:
    config = fill(tmp_path, site)
    change = _change_id(config)
    with TestClient(create_app(config), base_url=BASE) as web:
        pages = {
            path: web.get(path).text
            for path in (
                "/",
                f"/changes/{change}",
                f"/changes/{change}?view=side",
                f"/sources/{SOURCE}",
                "/search?q=kinship",
            )
        }
    for path, text in pages.items():
        assert not MARKUP.search(_visible(text)), path
    inline = pages[f"/changes/{change}"]
    assert re.search(r"£9<span[^>]*>\]</span></del> <ins>", inline), "a space between £9 and £12"
    assert 'class="row-insert block-heading"' in inline
    assert "• Published the kinship allowance consultation." in inline
    assert 'class="block-watched block-heading">Changes to this page' in pages[f"/sources/{SOURCE}"]


def test_dates_read_as_people_write_them_and_stay_iso_for_machines(
    tmp_path: Path, site: PageServer
) -> None:
    config = fill(tmp_path, site)
    change = _change_id(config)
    with TestClient(create_app(config), base_url=BASE) as web:
        deadlines = web.get("/deadlines").text
        detail = web.get(f"/changes/{change}").text
        api = web.get("/api/deadlines").json()
    shown = f'<time datetime="{DUE.isoformat()}">{DUE_WORDS}</time>'
    assert shown in deadlines and shown in detail
    assert f">{DUE.isoformat()}<" not in deadlines
    assert DUE.isoformat() in {d["due"] for d in api["items"]}


def test_search_names_the_source_date_and_version_of_each_stored_page(
    tmp_path: Path, site: PageServer
) -> None:
    config = fill(tmp_path, site)
    with TestClient(create_app(config), base_url=BASE) as web:
        found = web.get("/search?q=million").text
    stored = found.split("In stored pages", 1)[1]
    hits = re.findall(
        r'<li class="change-item"><p class="meta">(.*?)</p>.*?class="snippet">(.*?)</p>',
        stored,
        re.S,
    )
    assert len(hits) == 2
    by_amount = {("£12" if "£12" in snippet else "£9"): meta for meta, snippet in hits}
    for meta in by_amount.values():
        assert f'<a href="/sources/{SOURCE}">{SOURCE}</a>' in meta
        assert re.search(r'stored <time datetime="[^"]+">\d+ \w+ \d{4} \d\d:\d\d UTC</time>', meta)
    assert "current version" in by_amount["£12"] and "older version" in by_amount["£9"]


def test_sources_pages_speak_staff_words_and_offer_web_actions(
    tmp_path: Path, site: PageServer
) -> None:
    config = fill(tmp_path, site)
    with TestClient(create_app(config), base_url=BASE) as web:
        listed = web.get("/sources").text
        one = web.get(f"/sources/{SOURCE}").text
    with TestClient(create_app(config, scheduled=True), base_url=BASE) as web:
        daemon_listed = web.get("/sources").text
        daemon_one = web.get(f"/sources/{SOURCE}").text
    for page in (listed, one):
        assert "unchanged since" in page and "not modified" not in page
        assert "Next check" not in page, "nothing is scheduled under watcher serve"
    assert "every 6h by the daemon" in one
    assert "Next check" in daemon_listed and "Next check" in daemon_one
    assert "watcher explain" not in one
    for action in (
        f'href="/?source={SOURCE}&amp;review=unreviewed"',
        f'href="/export.csv?source={SOURCE}"',
        f'href="/export.json?source={SOURCE}"',
        f'href="/feed.atom?source={SOURCE}"',
        'href="/snapshots/',
    ):
        assert action in one, action


def test_a_correction_shows_who_and_when_not_a_borrowed_confidence(
    tmp_path: Path, site: PageServer
) -> None:
    config = fill(tmp_path, site)
    change = _change_id(config)
    with TestClient(create_app(config), base_url=BASE) as web:
        before = web.get(f"/api/changes/{change}").json()
        assert before["confidence"] is not None and before["corrected_by"] is None
        label = before["category"]
        other = next(c for c in config.settings.categories if c != label)
        token = _csrf(web, f"/changes/{change}")
        form = {"csrf": token, "reviewer": "Ann", "note": ""}

        same = web.post(f"/changes/{change}/category", data={**form, "category": label})
        assert "nothing changed" in same.text
        assert web.get(f"/api/changes/{change}").json()["corrections"] == []

        web.post(f"/changes/{change}/category", data={**form, "category": other})
        detail = web.get(f"/api/changes/{change}").json()
        listed = web.get("/api/changes").json()["items"][0]
        v1 = web.get(f"/api/v1/changes/{change}").json()
        timeline = web.get("/").text
        page = web.get(f"/changes/{change}").text

    assert [(k["previous"], k["label"]) for k in detail["corrections"]] == [(label, other)]
    for shown in (detail, listed):
        assert shown["category"] == other and shown["confidence"] is None
        assert shown["corrected_by"] == "Ann"
        assert datetime.fromisoformat(shown["corrected_at"])
    assert v1["correction"] == {"by": "Ann", "at": detail["corrected_at"]}
    item = timeline.split('<li class="change-item">', 1)[1].split("</li>", 1)[0]
    assert "corrected by Ann" in item and "%" not in item
    assert "corrected by Ann on" in page and "% confident" not in page
