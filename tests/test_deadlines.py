"""Evidence on changes, deadlines found in them, and reminders sent once per window."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import PageServer, html_page, write_config
from watcher.config import load_config
from watcher.evidence_json import evidence_to_dict
from watcher.runtime import check_once
from watcher.store import Store

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
INTRO = ["The Department for Education has published its plans for children's social care reform."]


def _when(d: datetime) -> str:
    return f"{d.day} {d:%B %Y}"


def test_a_change_carries_evidence_a_deadline_and_one_reminder_per_window(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    clock = [START]
    site.set("/dfe", html_page("Stable Homes, Built on Love", INTRO))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "dfe", "url": site.url("/dfe")}],
        targets=[("hook", "HOOK")],
    )
    config = load_config(path, environ={"HOOK": f"json://127.0.0.1:{receiver.port}/hook"})

    def run() -> None:
        asyncio.run(check_once(config, clock=lambda: clock[0]))

    def posts() -> list[dict[str, str]]:
        return [json.loads(h.body) for h in receiver.requests("/hook", "POST")]

    run()  # baseline
    due = START + timedelta(days=20)
    site.set(
        "/dfe",
        html_page(
            "Stable Homes, Built on Love",
            [
                *INTRO,
                "The reform plan comes with £200 million over the next two years.",
                f"The consultation closes on {_when(due)}.",
            ],
        ),
    )
    run()
    alerts = posts()
    assert len(alerts) == 1
    assert alerts[0]["title"].endswith(f": closes {_when(due)}")
    # The evidence sentence leads the body, under its label.
    assert alerts[0]["message"].startswith(
        "Evidence\nThe reform plan comes with £200 million over the next two years."
    )

    store = Store.open(config.settings.state_dir)
    try:
        evidence = evidence_to_dict(store.changes()[0].evidence)
        facts = {(f["kind"], f["text"]) for f in evidence["facts"]}
        assert ("money", "£200 million over the next two years") in facts
        assert ("deadline", _when(due)) in facts
        for fact in evidence["facts"]:
            sentence = evidence["sentences"][fact["sentence"]]
            assert sentence[fact["start"] : fact["end"]] == fact["text"]
        (deadline,) = store.deadlines()
        assert deadline.due == due.date().isoformat()
    finally:
        store.close()

    clock[0] = due - timedelta(days=10)
    run()
    assert len(posts()) == 1, "no reminder 10 days ahead"
    clock[0] = due - timedelta(days=7)
    run()
    assert len(posts()) == 2
    assert (
        posts()[1]["title"]
        == f"[Reminder] dfe — Stable Homes, Built on Love: closes in 7 days ({_when(due)})"
    )
    run()
    clock[0] += timedelta(hours=6)
    run()
    assert len(posts()) == 2, "one reminder per window, not one per pass"
    clock[0] = due - timedelta(days=1)
    run()
    assert len(posts()) == 3 and "closes tomorrow" in posts()[2]["title"]
    clock[0] = due + timedelta(days=1)
    run()
    assert len(posts()) == 3


def test_a_deadline_found_inside_a_window_is_not_reminded_at_once(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    clock = [START]
    site.set("/c", html_page("Consultation", INTRO))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "c", "url": site.url("/c")}],
        targets=[("hook", "HOOK")],
    )
    config = load_config(path, environ={"HOOK": f"json://127.0.0.1:{receiver.port}/hook"})
    asyncio.run(check_once(config, clock=lambda: clock[0]))
    due = START + timedelta(days=5)
    site.set(
        "/c",
        html_page(
            "Consultation",
            [*INTRO, f"Responses by {_when(due)} please: the consultation ends then."],
        ),
    )
    asyncio.run(check_once(config, clock=lambda: clock[0]))
    asyncio.run(check_once(config, clock=lambda: clock[0]))
    assert len(receiver.requests("/hook", "POST")) == 1, (
        "the change alert already says it; no 7-day reminder"
    )
    clock[0] = due - timedelta(days=1)
    asyncio.run(check_once(config, clock=lambda: clock[0]))
    assert len(receiver.requests("/hook", "POST")) == 2


def test_deadlines_and_changes_json_from_the_cli(tmp_path: Path, site: PageServer) -> None:
    site.set("/c", html_page("Consultation", INTRO))
    path = write_config(tmp_path / "sources.toml", [{"name": "c", "url": site.url("/c")}])
    cmd = [sys.executable, "-m", "watcher.cli"]
    subprocess.run(
        [*cmd, "check", "--config", str(path)], capture_output=True, timeout=60, check=True
    )
    due = datetime.now(UTC) + timedelta(days=30)
    site.set("/c", html_page("Consultation", [*INTRO, f"The consultation closes on {_when(due)}."]))
    subprocess.run(
        [*cmd, "check", "--config", str(path)], capture_output=True, timeout=60, check=True
    )
    out = subprocess.run(
        [*cmd, "deadlines", "--config", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    (item,) = json.loads(out)
    assert (
        item["due"] == due.date().isoformat()
        and item["days_left"] in (29, 30)
        and item["source"] == "c"
    )
    changes = json.loads(
        subprocess.run(
            [*cmd, "changes", "--config", str(path), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert changes[0]["evidence"]["sentences"] == [f"The consultation closes on {_when(due)}."]
    assert "confidence" in changes[0]
