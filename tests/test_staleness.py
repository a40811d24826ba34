"""Staleness: a source expected to change that has not gets one alert, and one more when it
changes again, through a real loopback site, a real SQLite file and a loopback webhook."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import Clock, PageServer, html_page, write_config
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.notify.policy import staleness_change
from watcher.runtime import check_once
from watcher.store import Store

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
INTRO = ["Our service supports families across the county with advice and help."]
NEWS = "The council has been awarded £2 million of new funding for family hubs."


def _config(tmp_path: Path, site: PageServer, extra: str = "", watcher: str = "") -> Path:
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "kinship", "url": site.url("/k")}],
        targets=[("hook", "HOOK")],
        watcher=watcher,
    )
    path.write_text(path.read_text() + extra)
    return path


def _posts(receiver: PageServer) -> list[dict[str, str]]:
    return [json.loads(h.body) for h in receiver.requests("/hook", "POST")]


def _about_staleness(receiver: PageServer) -> list[dict[str, str]]:
    return [
        p for p in _posts(receiver) if p["title"].startswith(("[No change]", "[Changed again]"))
    ]


def test_one_alert_after_a_day_without_change_and_one_when_it_changes_again(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    site.set("/k", html_page("Kinship care", INTRO))
    path = _config(tmp_path, site, 'expect_change_within = "1d"\n')
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)

    def run(at: timedelta) -> None:
        clock.at = START + at
        # A new runtime each pass, as `watcher check` from cron: state only in the database.
        asyncio.run(check_once(load_config(path, environ=env), clock=clock))

    run(timedelta(0))  # the baseline
    run(timedelta(hours=6))
    run(timedelta(hours=23, minutes=59))
    assert _posts(receiver) == [], "under a day without change is not stale"

    run(timedelta(days=1, minutes=1))
    stale = _about_staleness(receiver)
    assert len(stale) == 1
    assert stale[0]["title"] == "[No change] kinship: no change for 1 day"
    assert (
        "No change on kinship for 1 day: unchanged since watching began on 23 Nov 2026"
        in stale[0]["message"]
    )

    for hours in (30, 48, 72):  # later passes repeat nothing
        run(timedelta(hours=hours))
    assert len(_about_staleness(receiver)) == 1

    site.set("/k", html_page("Kinship care", [*INTRO, NEWS]))
    run(timedelta(days=4))
    stale = _about_staleness(receiver)
    assert len(stale) == 2
    assert stale[1]["title"] == "[Changed again] kinship changed again after 4 days"
    change_alerts = [p for p in _posts(receiver) if p not in stale]
    assert len(change_alerts) == 1 and "£2 million" in change_alerts[0]["message"]

    run(timedelta(days=4, hours=12))
    assert len(_about_staleness(receiver)) == 2, "no repeat of the recovery either"

    # A day after that change it is stale again, counted from the change this time.
    run(timedelta(days=5, minutes=5))
    stale = _about_staleness(receiver)
    assert len(stale) == 3
    assert "No change on kinship for 1 day: last changed on 27 Nov 2026" in stale[2]["message"]

    store = Store.open(tmp_path / "state")
    kinds = [r.kind for r in store.outbox()]
    assert kinds.count("stale") == 3
    assert all(r.status == "sent" for r in store.outbox())
    store.close()


def test_staleness_is_queued_in_the_outbox_once_without_targets(
    tmp_path: Path, site: PageServer
) -> None:
    """With no target set the decision is still recorded once (state in the database)."""
    site.set("/k", html_page("Kinship care", INTRO))
    path = _config(tmp_path, site, 'expect_change_within = "1d"\n')
    clock = Clock(START)
    for hours in (0, 25, 26, 50):
        clock.at = START + timedelta(hours=hours)
        asyncio.run(check_once(load_config(path, environ={}), clock=clock))
    store = Store.open(tmp_path / "state")
    row = store.conn.execute(
        "SELECT stale_since, stale_at FROM sources WHERE name = 'kinship'"
    ).fetchone()
    assert [r.kind for r in store.outbox()] == []  # no target on: nothing to queue
    store.close()
    assert row[0].startswith("2026-11-23T09:00") and row[1].startswith("2026-11-24T10:00")


def test_a_failing_source_is_a_health_alert_not_a_staleness_alert(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    site.set("/k", html_page("Kinship care", INTRO))
    path = _config(tmp_path, site, 'expect_change_within = "1d"\n')
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)

    def run(hours: float) -> None:
        clock.at = START + timedelta(hours=hours)
        asyncio.run(check_once(load_config(path, environ=env), clock=clock))

    run(0)
    site.set("/k", b"gone", status=404)
    for hours in (12, 30, 40):
        run(hours)
    titles = [p["title"] for p in _posts(receiver)]
    assert len(titles) == 1 and titles[0].startswith("[Source failing]")
    site.set("/k", html_page("Kinship care", INTRO))  # back, and still unchanged
    run(48)
    titles = [p["title"] for p in _posts(receiver)]
    assert titles[1].startswith("[Source recovered]")
    assert titles[2] == "[No change] kinship: no change for 2 days"
    assert len(titles) == 3


def test_a_watcher_default_applies_and_a_source_may_turn_it_off(
    tmp_path: Path, site: PageServer
) -> None:
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "a", "url": site.url("/a")}, {"name": "b", "url": site.url("/b")}],
        watcher='expect_change_within = "90d"',
    )
    path.write_text(path.read_text() + "expect_change_within = false\n")  # on source b
    config = load_config(path)
    assert [s.expect_change_within for s in config.sources] == [timedelta(days=90), None]


@pytest.mark.parametrize(
    ("line", "value", "says"),
    [
        (
            8,
            '"90 days"',
            "expect_change_within = '90 days' is not a duration; write it like \"90d\"",
        ),
        (8, "90", 'expect_change_within must be a duration; write it like "90d"'),
        (8, '"30m"', 'expect_change_within = \'30m\' must lie between "1h" and "3650d"'),
        (8, '"2h"', "expect_change_within (2h) is shorter than every (6h), so no check could see"),
    ],
)
def test_a_bad_expect_change_within_names_the_line_and_the_fix(
    tmp_path: Path, line: int, value: str, says: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[watcher]\nstate_dir = "state"\n\n[[source]]\nname = "kinship"\n'
        'url = "https://www.example.org/kinship"\nevery = "6h"\n'
        f"expect_change_within = {value}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: source 'kinship': ")
    assert says in str(caught.value)


def test_a_bad_watcher_default_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[watcher]\nstate_dir = "state"\nexpect_change_within = "quarterly"\n')
    with pytest.raises(ConfigError, match=r"sources\.toml:3: \[watcher\]: expect_change_within"):
        load_config(path)


DAY = timedelta(days=1)


def test_the_decision_is_pure_and_moves_once_each_way() -> None:
    t0 = START
    # Not yet: the last good check is under a day after the baseline.
    assert staleness_change(DAY, None, t0, t0 + DAY / 2, None, False, t0 + 2 * DAY) is None
    stale = staleness_change(DAY, None, t0, t0 + DAY, None, False, t0 + DAY)
    assert stale is not None and stale.state == "stale" and stale.stale_since == t0
    assert stale.payload["changed"] is False and stale.payload["days"] == 1
    # Already stale and unchanged: nothing, however late.
    assert staleness_change(DAY, None, t0, t0 + 9 * DAY, t0, False, t0 + 9 * DAY) is None
    again = staleness_change(DAY, t0 + 3 * DAY, t0, t0 + 3 * DAY, t0, False, t0 + 3 * DAY)
    assert again is not None and again.state == "changed" and again.payload["days"] == 3
    assert again.stale_since is None
    # Failing: a health matter. Not watched: never. Turned off while stale: cleared silently.
    assert staleness_change(DAY, None, t0, t0 + 5 * DAY, None, True, t0 + 5 * DAY) is None
    assert staleness_change(None, None, t0, t0 + 5 * DAY, None, False, t0 + 5 * DAY) is None
    cleared = staleness_change(None, None, t0, t0 + 5 * DAY, t0, False, t0 + 5 * DAY)
    assert cleared is not None and cleared.state == "cleared" and not cleared.payload


def test_the_daemon_queues_staleness_on_its_outbox_job(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    """Under `watcher run` the outbox job (every 30 s) decides too, so a source checked rarely
    is reported without waiting for its own next pass; twice is still one alert."""
    from watcher.runtime import open_runtime
    from watcher.scheduler import Daemon

    site.set("/k", html_page("Kinship care", INTRO))
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    plain = _config(tmp_path, site)  # no expectation yet: the passes queue nothing
    for hours in (0, 25):
        asyncio.run(
            check_once(load_config(plain, environ=env), clock=Clock(START + timedelta(hours=hours)))
        )
    assert _posts(receiver) == []
    config = load_config(_config(tmp_path, site, 'expect_change_within = "1d"\n'), environ=env)
    clock = Clock(START + timedelta(hours=26))
    daemon = Daemon(config, clock=clock)

    async def jobs() -> None:
        async with open_runtime(config, clock) as rt:
            await daemon._deliver(rt)
            await daemon._deliver(rt)

    asyncio.run(jobs())
    assert [p["title"] for p in _posts(receiver)] == ["[No change] kinship: no change for 1 day"]
