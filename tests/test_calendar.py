"""The deadline calendar: /deadlines.ics parses back with the icalendar package, one all-day
event per upcoming deadline with a UID that stays put, and a secret link for calendar apps,
which cannot log in. The deadlines come from the real pipeline on loopback pages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar
from starlette.testclient import TestClient

from tests.conftest import PageServer, html_page, write_config
from watcher.cli import cli
from watcher.config import Config, load_config
from watcher.runtime import check_once
from watcher.store import DB_NAME, Store
from watcher.web.app import create_app
from watcher.web.calendar_pages import month_grid, parse_month, shift

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = START + timedelta(days=10)  # the web app's clock: 12 Nov 2026
PASSWORD = "correct horse battery staple"
ENV = {"WATCHER_WEB_PASSWORD": PASSWORD}
PUBLIC = "https://watcher.example.org"
INTRO = ["The Department for Education sets out how kinship carers will be supported."]
# (source, closing date, the sentence saying it): one already past on the web app's clock.
DEADLINES = [
    ("past-consultation", date(2026, 11, 6), "The consultation closes on 6 November 2026."),
    (
        "kinship",
        date(2026, 11, 24),
        "The consultation, for kinship carers, closes on 24 November 2026.",
    ),
    ("fostering", date(2027, 1, 15), "The consultation closes on 15 January 2027."),
]


def _title(name: str) -> str:
    return f"{name.title()} consultation; views sought, by email"


def _fill(tmp_path: Path, site: PageServer) -> Path:
    sources = []
    for name, _, _ in DEADLINES:
        site.set(f"/{name}", html_page(_title(name), INTRO))
        sources.append({"name": name, "url": site.url(f"/{name}")})
    path = write_config(tmp_path / "sources.toml", sources)
    path.write_text(path.read_text() + f'[web]\npublic_url = "{PUBLIC}"\n')
    config = load_config(path, environ=ENV)
    asyncio.run(check_once(config, clock=lambda: START))
    for name, _, sentence in DEADLINES:
        site.set(f"/{name}", html_page(_title(name), [*INTRO, sentence]))
    asyncio.run(check_once(config, clock=lambda: START + timedelta(hours=1)))
    return path


@pytest.fixture
def config(tmp_path: Path, site: PageServer) -> Config:
    return load_config(_fill(tmp_path, site), environ=ENV)


@pytest.fixture
def local(config: Config) -> Iterator[TestClient]:
    # https: with an https public_url the session cookie is Secure, even on loopback.
    with TestClient(create_app(config, clock=lambda: TODAY), base_url="https://127.0.0.1") as c:
        yield c


@pytest.fixture
def remote(config: Config) -> Iterator[TestClient]:
    app = create_app(config, listen="0.0.0.0:8080", clock=lambda: TODAY)
    with TestClient(app, base_url=PUBLIC, follow_redirects=False) as client:
        yield client


def _events(body: bytes) -> list:  # type: ignore[type-arg]
    return list(Calendar.from_ical(body).walk("VEVENT"))


def _change_ids(config: Config) -> dict[str, int]:
    store = Store.open(config.settings.state_dir)
    try:
        return {c.source: c.id for c in store.changes()}
    finally:
        store.close()


def test_one_all_day_event_per_upcoming_deadline_with_stable_uids(
    local: TestClient, config: Config
) -> None:
    first = local.get("/deadlines.ics")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(first.content)
    assert str(cal["version"]) == "2.0" and "watcher" in str(cal["prodid"])
    events = _events(first.content)
    upcoming = [d for d in DEADLINES if d[1] >= TODAY.date()]
    assert len(events) == len(upcoming) == 2  # the past one is left out
    ids = _change_ids(config)
    for event, (name, due, sentence) in zip(events, upcoming, strict=True):
        start = event.decoded("dtstart")
        assert start == due and not isinstance(start, datetime)  # all-day: a date
        assert event.decoded("dtend") == due + timedelta(days=1)
        assert str(event["summary"]) == f"Closes: {name} — {_title(name)}"
        description = str(event["description"])
        # Commas, semicolons and newlines come back as written: the library escaped them.
        assert description.splitlines()[0] == sentence
        link = f"{PUBLIC}/changes/{ids[name]}"  # public_url, as alerts link
        assert f"Change: {link}" in description and str(event["url"]) == link
    second = _events(local.get("/deadlines.ics").content)
    uids = [str(e["uid"]) for e in events]
    assert uids == [str(e["uid"]) for e in second]
    assert len(set(uids)) == 2 and all(u.endswith("@watcher") for u in uids)
    assert first.content == local.get("/deadlines.ics").content  # nothing moves between polls


def test_a_calendar_app_reads_the_feed_by_a_secret_link_and_nothing_else(
    remote: TestClient, config: Config
) -> None:
    refused = remote.get("/deadlines.ics")
    assert refused.status_code == 401  # a client that cannot log in is not sent to a form
    env = {**ENV, "WATCHER_CONFIG": str(config.settings.state_dir.parent / "sources.toml")}
    made = CliRunner().invoke(cli, ["calendar-link"], env=env)
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    assert url.startswith(f"{PUBLIC}/deadlines.ics?key=")
    key = url.rpartition("=")[2]
    path = url.removeprefix(PUBLIC)
    feed = remote.get(path)
    assert feed.status_code == 200 and len(_events(feed.content)) == 2
    assert remote.get("/deadlines.ics?key=" + key[:-1] + "x").status_code == 401
    for other in ("/api/changes", "/export.csv", "/feed.atom"):
        assert remote.get(f"{other}?key={key}").status_code == 401, other
    assert remote.get(f"/deadlines?key={key}").status_code == 303  # to the login form
    # Only a hash is kept: the key is nowhere in the database.
    assert key.encode() not in (config.settings.state_dir / DB_NAME).read_bytes()
    again = CliRunner().invoke(cli, ["calendar-link"], env=env)
    assert again.exit_code == 0
    assert remote.get(path).status_code == 401, "a new link ends the old one"
    assert remote.get(again.stdout.strip().removeprefix(PUBLIC)).status_code == 200


def test_the_deadlines_page_makes_a_link_and_shows_it_once(local: TestClient) -> None:
    page = local.get("/deadlines")
    assert "No calendar link has been made yet" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    made = local.post("/deadlines/calendar-link", data={"csrf": csrf.group(1)})
    assert made.status_code == 200
    found = re.search(r'value="(https://[^"]+/deadlines\.ics\?key=([^"]+))"', made.text)
    assert found, made.text
    key = found.group(2)
    assert local.get(f"/deadlines.ics?key={key}").status_code == 200
    later = local.get("/deadlines")
    assert key not in later.text and "A link was made on 12 Nov 2026" in later.text
    assert local.post("/deadlines/calendar-link", data={"csrf": "forged"}).status_code == 403


def test_the_month_view_shows_each_deadline_on_its_day(local: TestClient, config: Config) -> None:
    ids = _change_ids(config)
    page = local.get("/deadlines/month")
    assert page.status_code == 200
    assert "<h1>Deadlines in November 2026</h1>" in page.text
    # Past deadlines of the month stay on the grid: the month is a record, not only a to-do.
    assert f'href="/changes/{ids["past-consultation"]}"' in page.text
    assert f'href="/changes/{ids["kinship"]}"' in page.text
    assert 'href="/deadlines/month?month=2026-10"' in page.text
    assert 'href="/deadlines/month?month=2026-12"' in page.text
    january = local.get("/deadlines/month?month=2027-01")
    assert f'href="/changes/{ids["fostering"]}"' in january.text
    assert f'href="/changes/{ids["kinship"]}"' not in january.text
    for bad in ("2026-13", "26-11", "2026-1", "<script>"):
        answer = local.get("/deadlines/month", params={"month": bad})
        assert answer.status_code == 400 and "<script>" not in answer.text


def test_the_month_grid_is_whole_weeks_monday_first() -> None:
    month = parse_month("2026-11", date(2026, 11, 12))
    weeks = month_grid(month, [], date(2026, 11, 12))
    assert weeks[0][0].day == date(2026, 10, 26) and weeks[-1][-1].day == date(2026, 12, 6)
    assert all(len(w) == 7 for w in weeks)
    assert [d.day.day for w in weeks for d in w if d.today] == [12]
    assert shift(month, -11) == date(2025, 12, 1) and shift(month, 14) == date(2028, 1, 1)
    assert parse_month(None, date(2026, 11, 12)) == date(2026, 11, 1)
    assert shift(date(2999, 12, 1), 1) is None


def test_page_text_on_the_month_grid_is_escaped() -> None:
    from watcher.rows import DeadlineRow
    from watcher.web.app import environment

    hostile = DeadlineRow(
        id=1,
        change_id=7,
        source="news",
        due="2026-11-24",
        text="24 November 2026",
        sentence='Closes "24 November" <script>alert(1)</script>',
        created_at="2026-11-02T10:00:00+00:00",
        title="<img src=x onerror=alert(1)>",
    )
    month = date(2026, 11, 1)
    html = (
        environment()
        .get_template("deadline-month.html")
        .render(
            month=month,
            weeks=month_grid(month, [hostile], date(2026, 11, 12)),
            weekdays=("Mon",),
            prev=None,
            next=None,
            this_month=month,
            count=1,
            path="/deadlines/month",
        )
    )
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and 'href="/changes/7"' in html
