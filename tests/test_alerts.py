"""Alerts teams can trust, end to end through the pipeline: routes, digests, storm control,
source health, retries honouring Retry-After, dead rows listed, and delivery after a crash."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Clock, PageServer, Smtp, html_page, message_text, respond, write_config
from watcher.cli import cli
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.store import Store

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
INTRO = ["Our service supports families across the county with advice and help."]
FUNDING = "The council has been awarded £2 million of new funding for family hubs."
GUIDANCE = "Updated guidance: local authorities must publish their local offer by 1 March 2027."


def _config(
    tmp_path: Path,
    sources: list[dict[str, object]],
    targets: list[tuple[str, str]],
    routes: str = "",
    watcher: str = "",
) -> Path:
    path = write_config(tmp_path / "sources.toml", sources, targets=targets, watcher=watcher)
    path.write_text(path.read_text() + routes)
    return path


def _run(path: Path, env: dict[str, str], clock: Clock) -> None:
    asyncio.run(check_once(load_config(path, environ=env), clock=clock))
    clock.at += timedelta(minutes=5)


def _posts(receiver: PageServer, path: str) -> list[dict[str, str]]:
    return [json.loads(h.body) for h in receiver.requests(path, "POST")]


def test_routes_by_tag_and_category_each_target_once(
    tmp_path: Path, site: PageServer, receiver: PageServer, smtp: Smtp
) -> None:
    receiver.set("/funding", b"{}")
    for name in ("dfe", "sector"):
        site.set(f"/{name}", html_page(f"{name} page", INTRO))
    path = _config(
        tmp_path,
        [
            {"name": "dfe", "url": site.url("/dfe"), "tags": ["dfe"]},
            {"name": "sector", "url": site.url("/sector"), "tags": ["sector"]},
        ],
        [("funding-hook", "HOOK"), ("policy-mail", "MAIL")],
        routes="""
[[route]]
name = "funding-now"
categories = ["funding"]
min_confidence = 0.3
targets = ["funding-hook"]
[[route]]
name = "dfe-mail"
tags = ["dfe"]
targets = ["policy-mail"]
[[route]]
name = "dfe-mail-again"
tags = ["dfe"]
categories = ["funding"]
targets = ["policy-mail", "funding-hook"]
""",
    )
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/funding", "MAIL": smtp.apprise_url}
    clock = Clock(START)
    _run(path, env, clock)  # baselines
    site.set("/sector", html_page("sector page", [*INTRO, FUNDING]))
    site.set("/dfe", html_page("dfe page", [*INTRO, GUIDANCE]))
    _run(path, env, clock)
    hooks = _posts(receiver, "/funding")
    assert len(hooks) == 1 and "sector" in hooks[0]["title"]  # funding, routed by category
    mails = smtp.sink.wait_for(1)
    time.sleep(0.3)
    assert len(mails) == 1 and "dfe" in mails[0]["Subject"]  # guidance from a dfe-tagged page
    site.set("/dfe", html_page("dfe page", [*INTRO, GUIDANCE, FUNDING]))
    _run(path, env, clock)  # matches all three routes: once per target
    assert len(_posts(receiver, "/funding")) == 2
    assert len(smtp.sink.wait_for(2)) == 2
    time.sleep(0.3)
    assert len(smtp.sink.messages) == 2


def test_a_daily_digest_holds_three_changes_in_one_email(
    tmp_path: Path, site: PageServer, smtp: Smtp
) -> None:
    site.set("/p", html_page("Family hubs", INTRO))
    path = _config(
        tmp_path,
        [{"name": "hubs", "url": site.url("/p")}],
        [("digest-mail", "MAIL")],
        routes='[[route]]\ntargets = ["digest-mail"]\nmode = "daily"\n',
        watcher='digest_at = "08:00"',
    )
    env = {"MAIL": smtp.apprise_url}
    clock = Clock(START)
    _run(path, env, clock)
    lines = list(INTRO)
    for n, sentence in enumerate(
        [FUNDING, GUIDANCE, "The consultation on family hubs closes on 12 January 2027."]
    ):
        lines.append(sentence)
        site.set("/p", html_page("Family hubs", lines))
        _run(path, env, clock)
        clock.at += timedelta(hours=3 + n)
    time.sleep(0.3)
    assert smtp.sink.messages == []  # held for the digest
    store = Store.open(tmp_path / "state")
    assert [r.mode for r in store.outbox()] == ["daily"] * 3
    store.close()
    clock.at = datetime(2026, 11, 24, 8, 0, 1, tzinfo=UTC)
    _run(path, env, clock)
    [mail] = smtp.sink.wait_for(1)
    text = message_text(mail)
    assert "3 changes" in mail["Subject"]
    for fact in ("£2 million", "1 March 2027", "12 January 2027"):
        assert fact in text
    store = Store.open(tmp_path / "state")
    assert [r.status for r in store.outbox()] == ["sent"] * 3
    store.close()


def test_a_site_redesign_yields_one_summary_alert(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    receiver.set("/hook", b"{}")
    pages = [f"/page-{n}" for n in range(6)]
    for n, p in enumerate(pages):
        site.set(p, html_page(f"Page {n}", [f"Paragraph {n} about children's services."]))
    path = _config(
        tmp_path,
        [{"name": f"page-{n}", "url": site.url(p)} for n, p in enumerate(pages)],
        [("hook", "HOOK")],
    )
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)
    _run(path, env, clock)
    # The redesign: every page changes at once, in a way no site rule may learn away (a new
    # date on each page), so all six are changes and the storm folds them into one alert.
    for n, p in enumerate(pages):
        site.set(
            p,
            html_page(
                f"Page {n}",
                [f"Paragraph {n} about children's services.", "New site since 1 May 2027."],
            ),
        )
    _run(path, env, clock)
    posts = _posts(receiver, "/hook")
    assert len(posts) == 1, [p["title"] for p in posts]
    for n in range(6):
        assert f"page-{n}" in posts[0]["message"]
    # An ordinary change on one page afterwards is its own alert again.
    site.set(
        pages[0],
        html_page(
            "Page 0",
            ["Paragraph 0 about children's services.", "New site since 1 May 2027.", FUNDING],
        ),
    )
    _run(path, env, clock)
    posts = _posts(receiver, "/hook")
    assert len(posts) == 2 and "page-0" in posts[1]["title"]


def test_a_source_returning_404_gives_one_alert_and_one_on_recovery(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    receiver.set("/hook", b"{}")
    page = html_page("Kinship care", INTRO)
    site.set("/k", page)
    path = _config(tmp_path, [{"name": "kinship", "url": site.url("/k")}], [("hook", "HOOK")])
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)
    _run(path, env, clock)
    site.set("/k", b"gone", status=404)
    for _ in range(4):
        _run(path, env, clock)
    posts = _posts(receiver, "/hook")
    assert len(posts) == 1 and "kinship" in posts[0]["title"] and "404" in posts[0]["message"]
    site.set("/k", page)
    _run(path, env, clock)
    _run(path, env, clock)
    posts = _posts(receiver, "/hook")
    assert len(posts) == 2 and "recovered" in posts[1]["title"].lower()


def test_failures_alert_after_n_in_a_row_and_a_redirect_elsewhere_at_once(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    receiver.set("/hook", b"{}")
    site.set("/a", html_page("A", INTRO))
    site.set("/b", html_page("B", INTRO))
    site.set("/other", html_page("Somewhere else", ["A different page entirely, about roads."]))
    path = _config(
        tmp_path,
        [{"name": "a", "url": site.url("/a")}, {"name": "b", "url": site.url("/b")}],
        [("hook", "HOOK")],
        watcher="failing_after = 3",
    )
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)
    _run(path, env, clock)
    site.set("/a", b"oops", status=500)
    site.set("/b", b"", status=301, headers={"Location": "/other"})
    _run(path, env, clock)
    titles = [p["title"] for p in _posts(receiver, "/hook")]
    assert len(titles) == 1 and " b" in titles[0]  # the redirect, at once; not yet the 500s
    _run(path, env, clock)
    _run(path, env, clock)
    titles = [p["title"] for p in _posts(receiver, "/hook")]
    assert len(titles) == 2 and " a" in titles[1]  # the third 500 in a row
    _run(path, env, clock)
    assert len(_posts(receiver, "/hook")) == 2


def test_retry_after_is_honoured_and_a_dead_alert_is_listed_and_retried(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    calls = {"n": 0}

    def busy(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        respond(h, b"{}", status=429, **{"Retry-After": "600"})

    receiver.set("/hook", handler=busy)
    site.set("/p", html_page("P", INTRO))
    path = _config(
        tmp_path,
        [{"name": "p", "url": site.url("/p")}],
        [("hook", "HOOK")],
        watcher="max_attempts = 2",
    )
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)
    _run(path, env, clock)
    site.set("/p", html_page("P", [*INTRO, FUNDING]))
    sent_at = clock.at
    _run(path, env, clock)
    store = Store.open(tmp_path / "state")
    [row] = store.outbox()
    store.close()
    assert row.status == "pending" and row.attempts == 1
    wait = datetime.fromisoformat(row.next_attempt_at) - sent_at
    assert wait >= timedelta(seconds=600), wait  # not the 30 s default backoff
    clock.at = sent_at + timedelta(seconds=700)
    _run(path, env, clock)
    assert calls["n"] == 2
    runner = CliRunner()
    listed = runner.invoke(
        cli, ["alerts", "--status", "dead", "--format", "json", "--config", str(path)], env=env
    )
    assert listed.exit_code == 0, listed.output
    [dead] = json.loads(listed.output)
    assert dead["id"] == row.id and dead["attempts"] == 2 and "429" not in dead["last_error"]
    assert "asked to wait 600 s" in dead["last_error"]
    assert str(receiver.port) not in listed.output  # the target URL is a secret
    receiver.set("/hook", b"{}")
    again = runner.invoke(cli, ["alerts", "retry", str(row.id), "--config", str(path)], env=env)
    assert again.exit_code == 0, again.output
    assert "sent 1" in again.output and len(receiver.requests("/hook", "POST")) == 3


def test_notify_test_sends_to_the_named_target(tmp_path: Path, receiver: PageServer) -> None:
    receiver.set("/hook", b"{}")
    path = _config(tmp_path, [], [("hook", "HOOK")])
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    out = CliRunner().invoke(cli, ["notify", "test", "hook", "--config", str(path)], env=env)
    assert out.exit_code == 0, out.output
    assert len(receiver.requests("/hook", "POST")) == 1
    bad = CliRunner().invoke(cli, ["notify", "test", "hok", "--config", str(path)], env=env)
    assert bad.exit_code == 2 and "hook" in bad.output


@pytest.mark.slow
def test_killed_after_commit_before_delivery_delivers_once_after_restart(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    arrived = threading.Event()
    release = threading.Event()
    bodies: list[bytes] = []

    def hang_first(h: BaseHTTPRequestHandler) -> None:
        if not arrived.is_set():
            arrived.set()
            release.wait(20)  # the daemon is killed while this send is in flight
            return
        respond(h, b"{}")

    receiver.set("/hook", handler=hang_first)
    site.set("/p", html_page("P", INTRO))
    path = _config(
        tmp_path,
        [{"name": "p", "url": site.url("/p"), "every": "10s"}],
        [("hook", "HOOK")],
    )
    env = {**os.environ, "HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    config = load_config(path, environ=env)
    asyncio.run(check_once(config))  # baseline
    site.set("/p", html_page("P", [*INTRO, FUNDING]))
    daemon = subprocess.Popen(
        # No web app: a port in use (8080, the default) would stop the daemon before it checks.
        [sys.executable, "-m", "watcher.cli", "run", "--config", str(path), "--listen", "off"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert arrived.wait(40), "the daemon never tried to deliver"
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        release.set()
    store = Store.open(tmp_path / "state")
    [row] = store.outbox()
    assert row.status == "pending"  # committed with the change, never marked
    store.close()
    _, report = asyncio.run(check_once(config))
    assert report.sent == 1
    posts = receiver.requests("/hook", "POST")
    bodies = [h.body for h in posts]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # one cut off by the kill, one delivered
    store = Store.open(tmp_path / "state")
    assert [r.status for r in store.outbox()] == ["sent"]
    store.close()


def test_an_alert_links_to_the_change_in_the_web_app(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    receiver.set("/hook", b"{}")
    site.set("/p", html_page("P", INTRO))
    path = _config(tmp_path, [{"name": "p", "url": site.url("/p")}], [("hook", "HOOK")])
    path.write_text(path.read_text() + '[web]\npublic_url = "https://watcher.example.org/"\n')
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    clock = Clock(START)
    _run(path, env, clock)
    site.set("/p", html_page("P", [*INTRO, FUNDING]))
    _run(path, env, clock)
    store = Store.open(tmp_path / "state")
    [change] = store.changes()
    store.close()
    [post] = _posts(receiver, "/hook")
    assert f"https://watcher.example.org/changes/{change.id}" in post["message"]


def test_one_target_down_does_not_hold_back_or_repeat_another(
    tmp_path: Path, site: PageServer, receiver: PageServer, smtp: Smtp
) -> None:
    calls = {"n": 0}

    def down(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        respond(h, b"{}", status=503)

    receiver.set("/slack", handler=down)
    site.set("/p", html_page("P", INTRO))
    path = _config(
        tmp_path, [{"name": "p", "url": site.url("/p")}], [("chat", "CHAT"), ("mail", "MAIL")]
    )
    env = {"CHAT": f"json://127.0.0.1:{receiver.port}/slack", "MAIL": smtp.apprise_url}
    clock = Clock(START)
    _run(path, env, clock)
    site.set("/p", html_page("P", [*INTRO, FUNDING]))
    _run(path, env, clock)
    for _ in range(3):  # past each backoff: the chat target is tried again, the mail is not resent
        clock.at += timedelta(hours=1)
        _run(path, env, clock)
    time.sleep(0.3)
    assert len(smtp.sink.messages) == 1
    assert calls["n"] == 4
    receiver.set("/slack", b"{}")
    clock.at += timedelta(hours=2)
    _run(path, env, clock)
    store = Store.open(tmp_path / "state")
    assert sorted(r.status for r in store.outbox()) == ["sent", "sent"]
    store.close()
    assert len(smtp.sink.messages) == 1


def test_a_calibrated_route_holds_each_category_to_its_own_threshold(tmp_path: Path) -> None:
    from dataclasses import replace

    from watcher.config import Route
    from watcher.errors import ConfigError
    from watcher.models import Source
    from watcher.notify.policy import matches

    route = Route(name="r", targets=("t",), calibrated=True)
    source = Source(name="s", url="https://example.org/", every=timedelta(hours=1))
    thresholds = {"funding": 0.4, "news": 0.7}
    assert matches(route, source, [("funding", 0.45)], thresholds)
    assert not matches(route, source, [("news", 0.6)], thresholds)
    assert not matches(replace(route, categories=("news",)), source, [("funding", 0.9)], thresholds)
    path = write_config(tmp_path / "sources.toml", [])
    text = path.read_text()
    path.write_text(text + '[[route]]\nname = "r"\ntargets = []\nmin_confidence = "calibrated"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "min_confidence" not in str(info.value)  # "calibrated" is accepted; targets are not
