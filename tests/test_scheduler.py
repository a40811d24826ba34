"""The daemon: start-up spreading, resuming from stored check times, and clean shutdown."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PageServer, Smtp, html_page, write_config
from watcher.models import Source
from watcher.scheduler import START_RATE, STARTUP_SPREAD, first_run_times

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _sources(n: int, every: timedelta = timedelta(hours=6)) -> list[Source]:
    return [Source(name=f"s{i}", url=f"https://example.org/{i}", every=every) for i in range(n)]


def test_resumes_from_last_check_times() -> None:
    sources = _sources(3)
    last = {
        "s0": NOW - timedelta(hours=1),  # due in 5 h
        "s1": NOW - timedelta(hours=5, minutes=59),  # due in 1 min
        "s2": None,
    }
    due = first_run_times(sources, last, NOW, random.Random(1))
    assert due["s0"] == NOW + timedelta(hours=5)
    assert due["s1"] == NOW + timedelta(minutes=1)
    assert NOW <= due["s2"] <= NOW + STARTUP_SPREAD


def test_overdue_sources_are_spread_not_burst() -> None:
    sources = _sources(100)
    last = {s.name: NOW - timedelta(days=2) for s in sources}
    due = sorted(first_run_times(sources, last, NOW, random.Random(7)).values())
    # A hundred start no faster than START_RATE a second: over 200 s, beyond STARTUP_SPREAD.
    window = max(STARTUP_SPREAD, timedelta(seconds=100 / START_RATE))
    assert all(NOW <= d <= NOW + window for d in due)
    # Spread over the window: no more than a handful start in any one second.
    per_second: dict[int, int] = {}
    for d in due:
        per_second[int((d - NOW).total_seconds())] = (
            per_second.get(int((d - NOW).total_seconds()), 0) + 1
        )
    assert max(per_second.values()) <= 6
    assert (due[-1] - due[0]) > STARTUP_SPREAD * 0.8


def test_spread_never_exceeds_a_short_interval() -> None:
    sources = _sources(20, every=timedelta(seconds=30))
    due = first_run_times(sources, {}, NOW, random.Random(3))
    assert all(NOW <= d <= NOW + timedelta(seconds=30) for d in due.values())


def _daemon(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "watcher.cli",
            "run",
            "--config",
            str(config),
            "--log-level",
            "info",
            "--listen",  # no web app: a port in use (8080) would stop the daemon at once
            "off",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_daemon_detects_a_change_alerts_once_and_stops_on_sigterm(
    tmp_path: Path, site: PageServer, smtp: Smtp
) -> None:
    paras = [
        "Kinship carers will receive an allowance.",
        "The strategy was published in December 2023.",
    ]
    site.set("/kinship", html_page("Kinship strategy", paras))
    config = write_config(
        tmp_path / "sources.toml",
        [{"name": "kinship", "url": site.url("/kinship"), "every": "10s"}],
        targets=[("mail", "MAIL")],
    )
    proc = _daemon(config, {"MAIL": smtp.apprise_url})
    try:
        # Edit after the baseline: the first change is fetched twice (to learn what varies),
        # and the edit, in both fetches, is never learned away.
        assert _wait(lambda: len(site.requests("/kinship")) >= 1, 20), (
            "no baseline check within 20 s"
        )
        site.set(
            "/kinship",
            html_page("Kinship strategy", [*paras, "Funding of £40 million is confirmed."]),
        )
        assert _wait(lambda: len(smtp.sink.messages) >= 1, 30), "no alert within 30 s of the edit"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "daemon stopped" in err
    assert len(smtp.sink.messages) == 1
    db = sqlite3.connect(tmp_path / "state" / "watcher.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM changes").fetchone()[0] == 1
    heartbeat = db.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    assert heartbeat is not None


@pytest.mark.slow
def test_sigterm_during_a_slow_fetch_exits_cleanly_with_no_partial_rows(
    tmp_path: Path, site: PageServer
) -> None:
    site.set("/slow", html_page("Slow page", ["Text that takes a while."]), delay=20)
    config = write_config(
        tmp_path / "sources.toml",
        [{"name": "slow", "url": site.url("/slow"), "every": "10s"}],
        watcher='timeout = "60s"',
    )
    text = config.read_text().replace('timeout = "5s"\n', "")
    config.write_text(text)
    proc = _daemon(config)
    try:
        assert _wait(lambda: len(site.requests("/slow")) >= 1, 20), "the fetch never started"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert elapsed < 12, f"took {elapsed:.1f}s to stop"
    db = sqlite3.connect(tmp_path / "state" / "watcher.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The cancelled fetch left nothing behind: no check, no snapshot, source state untouched.
    assert db.execute("SELECT count(*) FROM checks").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
    assert db.execute("SELECT snapshot_hash FROM sources WHERE name = 'slow'").fetchone()[0] is None


@pytest.mark.slow
def test_the_daemon_checks_a_site_together_so_a_redesign_is_one_alert(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    receiver.set("/hook", b"{}")
    pages = [f"/page-{n}" for n in range(6)]
    for n, p in enumerate(pages):
        site.set(p, html_page(f"Page {n}", [f"Paragraph {n} about children's services."]))
    config = write_config(
        tmp_path / "sources.toml",
        [{"name": f"page-{n}", "url": site.url(p), "every": "10s"} for n, p in enumerate(pages)],
        targets=[("hook", "HOOK")],
    )
    proc = _daemon(
        config, {"HOOK": f"json://127.0.0.1:{receiver.port}/hook", "WATCHER_LISTEN": "off"}
    )
    try:
        assert _wait(lambda: all(len(site.requests(p)) >= 2 for p in pages), 30), "no baselines"
        # A new date on each page: six real changes at once, which the storm folds into one.
        for n, p in enumerate(pages):
            site.set(
                p,
                html_page(
                    f"Page {n}",
                    [f"Paragraph {n} about children's services.", "New site since 1 May 2027."],
                ),
            )
        assert _wait(lambda: len(receiver.requests("/hook", "POST")) >= 1, 40), "no alert"
        # Two more passes: nothing else may arrive for the same redesign.
        assert not _wait(lambda: len(receiver.requests("/hook", "POST")) >= 2, 22)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    [post] = receiver.requests("/hook", "POST")
    message = json.loads(post.body)["message"]
    assert all(f"page-{n}" in message for n in range(6))
