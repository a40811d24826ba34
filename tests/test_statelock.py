"""One writer per state, with real processes: the file lock beside the database, and outbox rows
claimed one by one so that even two senders on one state never send an alert twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PageServer, free_port, html_page, write_config
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.statelock import LOCK_NAME, StateLocked, hold
from watcher.store import DB_NAME, Store, iso

pytestmark = pytest.mark.slow
TIMEOUT = 60


def cli(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    return subprocess.Popen(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err.decode("utf-8")


def wait_for_lock(state: Path, proc: subprocess.Popen[bytes]) -> None:
    """Until `proc` holds the state's lock (it writes its pid into the lock file)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lock = state / LOCK_NAME
        if lock.exists() and f"pid {proc.pid}" in lock.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the first process never took the lock")


def slow_config(tmp_path: Path, site: PageServer) -> Path:
    site.set("/slow", html_page("Slow", ["A page that takes a while."]), delay=4.0)
    return write_config(tmp_path / "sources.toml", [{"name": "slow", "url": site.url("/slow")}])


@pytest.mark.parametrize("second", ["check", "run", "migrate", "prune"])
def test_a_second_writer_exits_2_naming_the_holder(
    tmp_path: Path, site: PageServer, second: str
) -> None:
    slow_config(tmp_path, site)
    first = cli("check", cwd=tmp_path)
    try:
        wait_for_lock(tmp_path / "state", first)
        extra = ["--listen", "off"] if second == "run" else []
        code, err = finish(cli(second, *extra, cwd=tmp_path))
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert f"pid {first.pid}" in lines[0] and "`watcher check`" in lines[0], err
        assert "Traceback" not in err
    finally:
        code, err = finish(first)
    assert code == 0, err


def test_readers_need_no_lock(tmp_path: Path, site: PageServer) -> None:
    slow_config(tmp_path, site)
    Store.open(tmp_path / "state").close()
    first = cli("check", cwd=tmp_path)
    try:
        wait_for_lock(tmp_path / "state", first)
        for args in (["sources"], ["changes"], ["alerts"], ["health"]):
            code, err = finish(cli(*args, cwd=tmp_path))
            assert code in (0, 1) and "in use by" not in err, (args, err)
    finally:
        finish(first)


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path, site: PageServer) -> None:
    slow_config(tmp_path, site)
    first = cli("check", cwd=tmp_path)
    wait_for_lock(tmp_path / "state", first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=TIMEOUT)
    with hold(tmp_path / "state", "test"):
        pass


def test_the_lock_holds_within_one_process_too(tmp_path: Path) -> None:
    with hold(tmp_path, "check"), pytest.raises(StateLocked) as info, hold(tmp_path, "prune"):
        pass
    assert f"pid {os.getpid()}" in str(info.value) and info.value.exit_code == 2


# --- outbox claims ------------------------------------------------------------------------------

DELIVER = """
import asyncio, sys
from watcher.config import load_config
from watcher.runtime import open_runtime

async def main():
    async with open_runtime(load_config(sys.argv[1], environ={"HOOK": sys.argv[2]})) as rt:
        report = await rt.deliverer.deliver_due()
    print(report.sent, report.messages)

asyncio.run(main())
"""


def pending_alerts(tmp_path: Path, site: PageServer, count: int, hook: str) -> tuple[Path, int]:
    """`count` changes whose alerts could not be sent (the receiver was down), made due.

    One page changes per pass: a site whose every page changes at once is template churn."""
    for n in range(count):
        site.set(f"/p{n}", html_page(f"Page {n}", [f"First text of page {n}."]))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": f"p{n}", "url": site.url(f"/p{n}")} for n in range(count)],
        targets=[("hook", "HOOK")],
    )
    config = load_config(path, environ={"HOOK": hook})
    asyncio.run(check_once(config))
    for n in range(count):
        site.set(
            f"/p{n}",
            html_page(f"Page {n}", [f"First text of page {n}.", f"Grants for scheme {n} open."]),
        )
        asyncio.run(check_once(config))
    db = sqlite3.connect(tmp_path / "state" / DB_NAME)
    with db:
        db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
    pending = int(db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
    db.close()
    assert pending >= count // 2  # a few may be learned as the site's churn; half is plenty
    return path, pending


def test_two_senders_on_one_state_send_each_alert_once(tmp_path: Path, site: PageServer) -> None:
    port = free_port()
    hook = f"json://127.0.0.1:{port}/hook"
    path, pending = pending_alerts(tmp_path, site, 12, hook)
    receiver = PageServer(port)
    receiver.set("/hook", b"{}", headers={"Content-Type": "application/json"}, delay=0.1)
    receiver.start()
    try:
        senders = [
            subprocess.Popen(
                [sys.executable, "-c", DELIVER, str(path), hook],
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        reports = [p.communicate(timeout=TIMEOUT)[0].split() for p in senders]
    finally:
        receiver.stop()
    posts = receiver.requests(method="POST")
    sent = sum(int(r[0]) for r in reports)
    messages = sum(int(r[1]) for r in reports)
    assert sent == pending and len(posts) == messages >= 1, (reports, len(posts), pending)
    db = sqlite3.connect(tmp_path / "state" / DB_NAME)
    assert db.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0] == pending
    assert db.execute("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL").fetchone()[0] == 0
    db.close()


def _claimed_store(tmp_path: Path, owner: str, age: timedelta) -> tuple[Store, datetime]:
    store = Store.open(tmp_path)
    now = datetime.now(UTC)
    store.conn.execute(
        "INSERT INTO outbox (target, kind, source, created_at, next_attempt_at, claimed_by, "
        "claimed_at) VALUES ('hook', 'health', 's', ?, ?, ?, ?)",
        (iso(now), iso(now), owner, iso(now - age)),
    )
    return store, now


def test_a_live_claim_is_left_alone_and_a_stale_or_dead_one_is_taken_over(tmp_path: Path) -> None:
    from watcher.notify.deliver import CLAIM_TTL, claim_owner, owner_gone

    store, now = _claimed_store(tmp_path, "elsewhere:1", timedelta(minutes=1))
    assert store.claim_due(now, "me:2", now, now - CLAIM_TTL) == []
    assert len(store.claim_due(now + CLAIM_TTL, "me:2", now, now + timedelta(seconds=1))) == 1
    store.close()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = f"{os.uname().nodename}:{dead.pid}"
    assert owner_gone(owner) and not owner_gone(claim_owner())
    assert not owner_gone("another-host:1")
    store, now = _claimed_store(tmp_path / "b", owner, timedelta(seconds=1))
    assert len(store.claim_due(now, "me:2", now, now - CLAIM_TTL, gone=[owner])) == 1
    store.close()


def test_a_manual_check_beside_the_daemon_is_refused(tmp_path: Path, site: PageServer) -> None:
    """The probe's second case: `watcher check` beside a running daemon alerted edits twice."""
    site.set("/page", html_page("Page", ["Text."]))
    write_config(tmp_path / "sources.toml", [{"name": "page", "url": site.url("/page")}])
    daemon = cli("run", "--listen", "off", cwd=tmp_path)
    try:
        wait_for_lock(tmp_path / "state", daemon)
        code, err = finish(cli("check", cwd=tmp_path))
        assert code == 2, err
        assert f"`watcher run` (pid {daemon.pid}" in err, err
    finally:
        daemon.send_signal(signal.SIGTERM)
        finish(daemon)
    assert daemon.returncode == 0
