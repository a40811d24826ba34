"""End to end: loopback pages -> fetch -> extract -> diff -> SQLite -> Apprise email and webhook."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from tests.conftest import PageServer, Smtp, html_page, message_text, write_config
from watcher.config import load_config
from watcher.diff import diff_to_dict
from watcher.runtime import check_once
from watcher.store import Store

PARAS = [
    "The Government has published its response to the Independent Review of Children's Social Care.",
    "It commits £200 million over the next two years to begin reform.",
    "The consultation closes on 11 May 2023.",
]


def _config(tmp_path: Path, url: str, env: dict[str, str] | None = None, targets=()):  # type: ignore[no-untyped-def]
    path = write_config(
        tmp_path / "sources.toml", [{"name": "dfe", "url": url}], targets=list(targets)
    )
    return load_config(path, environ=env or {})


def _run(config):  # type: ignore[no-untyped-def]
    results, report = asyncio.run(check_once(config))
    return results[0], report


def _store(config) -> Store:  # type: ignore[no-untyped-def]
    return Store.open(config.settings.state_dir)


def test_baseline_unchanged_then_one_change_one_email_one_webhook(
    tmp_path: Path, site: PageServer, smtp: Smtp, receiver: PageServer
) -> None:
    env = {"MAIL_URL": smtp.apprise_url, "HOOK_URL": f"json://127.0.0.1:{receiver.port}/hook"}
    site.set("/page", html_page("Stable Homes", PARAS, sidebar="Rotating story 1"))
    config = _config(tmp_path, site.url("/page"), env, [("mail", "MAIL_URL"), ("hook", "HOOK_URL")])

    first, report = _run(config)
    assert first.outcome == "baseline"
    assert report.sent == 0
    assert smtp.sink.messages == [] and receiver.requests(method="POST") == []

    second, _ = _run(config)
    assert second.outcome == "unchanged"

    edited = [
        PARAS[0],
        PARAS[1].replace("£200 million", "£250 million"),
        PARAS[2],
        "A new workforce consultation opens in June.",
    ]
    site.set("/page", html_page("Stable Homes", edited, sidebar="Rotating story 2"))
    third, report = _run(config)
    assert third.outcome == "changed"
    assert report.sent == 2

    store = _store(config)
    try:
        changes = store.changes()
        assert len(changes) == 1
        change = changes[0]
        stored = diff_to_dict(change.diff)
        assert list(change.added) == [
            "It commits £250 million over the next two years to begin reform.",
            "A new workforce consultation opens in June.",
        ]
        assert list(change.removed) == [
            "It commits £200 million over the next two years to begin reform."
        ]
        assert "{+£250+}" in json.dumps(stored) or any(
            w == ["insert", "£250"] for h in stored for marks in h["words"] for w in marks
        )
        assert [c.outcome for c in store.checks("dfe")] == ["baseline", "unchanged", "changed"]
        assert [r.status for r in store.outbox()] == ["sent", "sent"]
    finally:
        store.close()

    mails = smtp.sink.wait_for(1)
    assert len(mails) == 1
    text = message_text(mails[0])
    assert "£250 million" in text and "dfe" in mails[0]["Subject"]
    posts = receiver.requests(method="POST")
    assert len(posts) == 1
    payload = json.loads(posts[0].body)
    assert "£250 million" in payload["message"]

    # Nothing is delivered twice on the next pass.
    fourth, report = _run(config)
    assert fourth.outcome == "unchanged" and report.sent == 0
    assert len(smtp.sink.messages) == 1 and len(receiver.requests(method="POST")) == 1


def test_noise_in_chrome_is_not_a_change(tmp_path: Path, site: PageServer) -> None:
    site.set("/page", html_page("Kinship", PARAS, sidebar="Story A"))
    config = _config(tmp_path, site.url("/page"))
    assert _run(config)[0].outcome == "baseline"
    site.set(
        "/page", html_page("Kinship", PARAS, sidebar="Story B").replace("track = 1", "track = 2")
    )
    assert _run(config)[0].outcome == "unchanged"


def _snapshot_state(config) -> tuple[str | None, int, int]:  # type: ignore[no-untyped-def]
    store = _store(config)
    try:
        return store.state("dfe").snapshot_hash, store.count("snapshots"), store.count("changes")
    finally:
        store.close()


@pytest.mark.parametrize("failure", ["500", "timeout", "refused", "404", "empty"])
def test_fetch_errors_are_recorded_and_never_a_change(
    tmp_path: Path, site: PageServer, smtp: Smtp, failure: str
) -> None:
    site.set("/page", html_page("Stable Homes", PARAS))
    config = _config(
        tmp_path, site.url("/page"), {"MAIL_URL": smtp.apprise_url}, [("mail", "MAIL_URL")]
    )
    assert _run(config)[0].outcome == "baseline"
    before = _snapshot_state(config)

    if failure == "500":
        site.set("/page", "<h1>Internal error</h1>", status=500)
    elif failure == "404":
        site.set("/page", "<h1>Not here</h1>", status=404)
    elif failure == "empty":
        site.set("/page", "")
    elif failure == "timeout":
        site.set("/page", html_page("Slow", PARAS), delay=8)  # the config's deadline is 5 s
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead_port = s.getsockname()[1]
        config = _config(
            tmp_path,
            f"http://127.0.0.1:{dead_port}/page",
            {"MAIL_URL": smtp.apprise_url},
            [("mail", "MAIL_URL")],
        )

    result, report = _run(config)
    assert result.outcome == "error"
    expected_reason = {
        "500": "http_status",
        "404": "http_status",
        "timeout": "timeout",
        "refused": "connect",
        "empty": "empty",
    }[failure]
    assert result.error_reason == expected_reason
    # Never a change alert; a page that is gone (404) is a source-health alert at once.
    assert result.change is None and report.sent == (
        1 if expected_reason == "http_status" and result.status == 404 else 0
    )
    assert _snapshot_state(config) == before

    store = _store(config)
    try:
        check = store.checks("dfe")[-1]
        assert check.outcome == "error" and check.error_reason == expected_reason
        assert store.state("dfe").error_streak == 1
    finally:
        store.close()

    # Recovery to the same page is not a change either: the error page was never stored.
    site.set("/page", html_page("Stable Homes", PARAS), delay=0)
    config = _config(
        tmp_path, site.url("/page"), {"MAIL_URL": smtp.apprise_url}, [("mail", "MAIL_URL")]
    )
    assert _run(config)[0].outcome == "unchanged"
    # No change alert ever; only the 404's health alert and its recovery.
    subjects = [m["Subject"] for m in smtp.sink.messages]
    gone = failure == "404"
    assert len(subjects) == (2 if gone else 0), subjects
    assert all("[Source " in s for s in subjects)


def test_conditional_get_and_304_store_no_snapshot(tmp_path: Path, site: PageServer) -> None:
    etag = '"v1-abc"'
    last_modified = "Wed, 21 Oct 2026 07:28:00 GMT"
    body = html_page("Guidance", PARAS).encode()

    def handler(h) -> None:  # type: ignore[no-untyped-def]
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", last_modified)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.set("/page", handler=handler)
    config = _config(tmp_path, site.url("/page"))
    assert _run(config)[0].outcome == "baseline"
    snapshots_before = _snapshot_state(config)
    result, _ = _run(config)
    assert result.outcome == "not_modified" and result.status == 304
    assert _snapshot_state(config) == snapshots_before
    second = site.requests("/page")[-1]
    # The server's validators come back verbatim, not our own clock's idea of the time.
    assert second.headers["If-None-Match"] == etag
    assert second.headers["If-Modified-Since"] == last_modified
    assert "watcher/" in second.headers["User-Agent"] and "+http" in second.headers["User-Agent"]


def test_unchanged_text_in_new_markup_is_not_a_change(tmp_path: Path, site: PageServer) -> None:
    site.set("/page", html_page("Guidance", PARAS))
    config = _config(tmp_path, site.url("/page"))
    _run(config)
    reformatted = html_page("Guidance", PARAS).replace("<p>", '<p class="govuk-body">\n   ')
    site.set("/page", reformatted)
    assert _run(config)[0].outcome == "unchanged"
