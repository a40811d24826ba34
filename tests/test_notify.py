"""Alert rendering and outbox delivery against a real webhook receiver and a real SMTP server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.conftest import PageServer, Smtp, message_text
from watcher.config import NotifyTarget, Secret
from watcher.diff import diff_blocks
from watcher.models import Change, CheckResult, Snapshot, Source
from watcher.notify.deliver import Deliverer
from watcher.pipeline import digest
from watcher.store import Store

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> <!channel> <https://evil.example|click> {{7*7}}"


def _store_with_change(tmp_path: Path, added: str, targets: list[str]) -> tuple[Store, int]:
    store = Store.open(tmp_path / "state")
    store.sync_sources([Source("dfe", "https://www.gov.uk/x", timedelta(hours=6))], NOW)
    a = Snapshot(digest("Intro"), "Page", "Intro")
    b = Snapshot(digest("Intro\n" + added), "Page", "Intro\n" + added)
    store.record(CheckResult("dfe", "baseline", NOW, 1), snapshot=a)
    change = Change(
        "dfe",
        "https://www.gov.uk/x",
        NOW,
        a.hash,
        b.hash,
        diff_blocks(["Intro"], ["Intro", added]),
        "Stable Homes",
        f"1 block added: {added}",
    )
    change_id = store.record(
        CheckResult("dfe", "changed", NOW, 1, change=change), snapshot=b, targets=targets
    )
    assert change_id is not None
    return store, change_id


def _target(name: str, url: str) -> NotifyTarget:
    return NotifyTarget(name=name, env="X", secret=Secret(url))


class Flaky:
    """Answers 500 `fail` times, then 200."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.calls = 0

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        self.calls += 1  # the server has already read the request body
        status = 500 if self.calls <= self.fail else 200
        h.send_response(status)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"{}")


def test_retries_with_backoff_then_sends_once(tmp_path: Path, receiver: PageServer) -> None:
    flaky = Flaky(fail=2)
    receiver.set("/flaky", handler=flaky)
    store, _ = _store_with_change(tmp_path, "New guidance published.", ["hook"])
    clock = [NOW]
    deliverer = Deliverer(
        store,
        {"hook": _target("hook", f"json://127.0.0.1:{receiver.port}/flaky")},
        clock=lambda: clock[0],
    )
    assert asyncio.run(deliverer.deliver_due()).retrying == 1
    # Not due again until the backoff has passed.
    assert asyncio.run(deliverer.deliver_due()).retrying == 0 and flaky.calls == 1
    clock[0] += timedelta(seconds=31)
    assert asyncio.run(deliverer.deliver_due()).retrying == 1
    clock[0] += timedelta(seconds=61)
    assert asyncio.run(deliverer.deliver_due()).sent == 1
    assert flaky.calls == 3
    row = store.outbox()[0]
    assert row.status == "sent" and row.attempts == 3
    store.close()


def test_a_target_that_always_fails_ends_dead(tmp_path: Path, receiver: PageServer) -> None:
    receiver.set("/down", handler=Flaky(fail=10**6))
    store, _ = _store_with_change(tmp_path, "x", ["hook"])
    clock = [NOW]
    deliverer = Deliverer(
        store,
        {"hook": _target("hook", f"json://127.0.0.1:{receiver.port}/down")},
        clock=lambda: clock[0],
        max_attempts=3,
    )
    for _ in range(5):
        asyncio.run(deliverer.deliver_due())
        clock[0] += timedelta(hours=1)
    row = store.outbox()[0]
    assert row.status == "dead" and row.attempts == 3
    assert "Apprise reported a failed send" in (row.last_error or "")
    assert "127.0.0.1" not in (row.last_error or "")  # the target's URL is a secret
    store.close()


def test_hostile_page_text_arrives_inert_in_email(tmp_path: Path, smtp: Smtp) -> None:
    store, _ = _store_with_change(tmp_path, HOSTILE, ["mail"])
    deliverer = Deliverer(store, {"mail": _target("mail", smtp.apprise_url)}, clock=lambda: NOW)
    assert asyncio.run(deliverer.deliver_due()).sent == 1
    msg = smtp.sink.wait_for(1)[0]
    types = [p.get_content_type() for p in msg.walk() if p.get_content_maintype() == "text"]
    # Plain text cannot run markup; any HTML alternative must carry it escaped.
    assert types and set(types) <= {"text/plain", "text/html"}
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html_text = part.get_payload(decode=True).decode()
            assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    text = message_text(msg)
    assert "{{7*7}}" in text  # shown verbatim, never rendered as a template
    store.close()


def test_webhook_payload_is_json_with_the_change(tmp_path: Path, receiver: PageServer) -> None:
    store, _ = _store_with_change(tmp_path, "Consultation closes on 11 May 2023.", ["hook"])
    deliverer = Deliverer(
        store,
        {"hook": _target("hook", f"json://127.0.0.1:{receiver.port}/hook")},
        clock=lambda: NOW,
    )
    assert asyncio.run(deliverer.deliver_due()).sent == 1
    payload = json.loads(receiver.requests("/hook", "POST")[0].body)
    assert payload["title"] == "[Change] dfe — Stable Homes"
    assert "11 May 2023" in payload["message"]
    store.close()
