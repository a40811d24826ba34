"""Operations on a real state database: health, backup under load, retention, integrity, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PageServer, html_page, write_config
from watcher.config import load_config
from watcher.diff import diff_blocks
from watcher.errors import StoreError
from watcher.heartbeat import HEARTBEAT_EVERY
from watcher.models import Change, CheckResult, Snapshot, Source
from watcher.pipeline import digest
from watcher.runtime import open_runtime
from watcher.scheduler import HEALTH_MAX_AGE, Daemon
from watcher.store import Store, iso
from watcher.store.ops import (
    HEARTBEAT_KEY,
    backup,
    default_max_age,
    figures,
    health,
    integrity,
    latest_schema,
    retention,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TIMEOUT = 60


def watcher(
    *args: str, cwd: Path, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The real console script in a subprocess, with no WATCHER_* variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _config(tmp_path: Path, site: PageServer, watcher_lines: str = "") -> Path:
    site.set("/page", html_page("Kinship care", ["Kinship carers will receive an allowance."]))
    return write_config(
        tmp_path / "sources.toml",
        [{"name": "kinship", "url": site.url("/page")}],
        watcher=watcher_lines,
    )


def _store(state: Path) -> Store:
    store = Store.open(state)
    store.sync_sources([Source("dfe", "https://www.gov.uk/x", timedelta(hours=6))], NOW)
    return store


# --- health -------------------------------------------------------------------------------------


def test_default_max_age_is_three_heartbeats_at_least_two_minutes() -> None:
    assert max(3 * HEARTBEAT_EVERY, timedelta(minutes=2)) == HEALTH_MAX_AGE
    assert default_max_age(timedelta(seconds=10)) == timedelta(minutes=2)
    assert default_max_age(timedelta(minutes=5)) == timedelta(minutes=15)


@pytest.mark.slow
def test_health_cli_is_unhealthy_on_a_stale_heartbeat_and_healthy_on_a_fresh_one(
    tmp_path: Path, site: PageServer
) -> None:
    config = _config(tmp_path, site)
    proc = watcher("health", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 1 and "no state database" in proc.stdout
    assert not (tmp_path / "state" / "watcher.db").exists(), "a health check created the database"

    store = Store.open(tmp_path / "state")
    store.set_meta(HEARTBEAT_KEY, iso(datetime.now(UTC) - timedelta(minutes=10)))
    proc = watcher("health", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("unhealthy: heartbeat is 6")  # about 600 s old
    assert "limit 120s" in proc.stdout

    store.set_meta(HEARTBEAT_KEY, iso(datetime.now(UTC) - timedelta(seconds=5)))
    proc = watcher("health", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["writable"] is True and report["reasons"] == []
    assert 0 <= report["heartbeat_age_seconds"] < 60
    # The probe really wrote: its key holds the time of the check.
    assert store.meta("health_probe") is not None
    store.close()


@pytest.mark.slow
def test_health_max_age_comes_from_the_config(tmp_path: Path, site: PageServer) -> None:
    config = _config(tmp_path, site, 'health_max_age = "1h"')
    store = Store.open(tmp_path / "state")
    store.set_meta(HEARTBEAT_KEY, iso(datetime.now(UTC) - timedelta(minutes=10)))
    store.close()
    assert watcher("health", "--config", str(config), cwd=tmp_path).returncode == 0
    proc = watcher("health", "--config", str(config), "--max-age", "5m", cwd=tmp_path)
    assert proc.returncode == 1 and "limit 300s" in proc.stdout


def test_health_is_unhealthy_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    store = _store(tmp_path / "state")
    store.set_meta(HEARTBEAT_KEY, iso(NOW))
    other = sqlite3.connect(tmp_path / "state" / "watcher.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a stuck writer
    try:
        report = health(store, NOW + timedelta(seconds=5), timedelta(minutes=2), probe_wait=0.3)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not report.ok and not report.writable
    assert len(report.reasons) == 1 and "database not writable" in report.reasons[0]
    assert "locked" in report.reasons[0]
    # The store's own, longer wait is restored for everything else.
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert health(store, NOW + timedelta(seconds=5), timedelta(minutes=2)).ok
    store.close()


@pytest.mark.slow
def test_health_cli_is_unhealthy_on_a_read_only_database(tmp_path: Path, site: PageServer) -> None:
    config = _config(tmp_path, site)
    state = tmp_path / "state"
    store = Store.open(state)
    store.set_meta(HEARTBEAT_KEY, iso(datetime.now(UTC)))
    store.close()
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # Root writes any file; without these capabilities it obeys the file modes like anyone.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux) to drop DAC capabilities")
        prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner")
    for p in state.iterdir():
        p.chmod(0o444)
    state.chmod(0o555)
    try:
        proc = watcher("health", "--config", str(config), cwd=tmp_path, prefix=prefix)
    finally:
        state.chmod(0o755)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("unhealthy: "), proc.stdout
    # Named as what it is, with the fix (not "damaged").
    assert "read-only" in proc.stdout and "--state" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr


# --- backup -------------------------------------------------------------------------------------


def test_backup_during_a_pass_is_consistent(tmp_path: Path, site: PageServer) -> None:
    names = [f"page-{n}" for n in range(30)]
    for n, name in enumerate(names):
        # A short delay spreads the pass's writes over time, as real fetches do.
        site.set(f"/{name}", html_page(f"Page {n}", [f"Paragraph of page {n}."]), delay=0.01)
    config = load_config(
        write_config(
            tmp_path / "sources.toml", [{"name": n, "url": site.url(f"/{n}")} for n in names]
        )
    )
    passes = 3

    async def daemon_like() -> None:
        # As the daemon does: each source observed and written on its own, so writes interleave.
        async with open_runtime(config) as rt:
            for n in range(passes):
                for s in config.sources:
                    if n:
                        site.set(f"/{s.name}", html_page(s.name, [f"Version {n} of {s.name}."]))
                    await rt.checker.check(s)

    writer = threading.Thread(target=asyncio.run, args=(daemon_like(),))
    store = Store.open(tmp_path / "state")
    copies: list[Path] = []
    writer.start()
    try:
        while writer.is_alive() and len(copies) < 200:
            copies.append(backup(store, tmp_path / f"copy-{len(copies)}.db").path)
    finally:
        writer.join(timeout=TIMEOUT)
    total = store.count("checks")
    store.close()
    assert total == len(names) * passes
    counts = []
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # Every change in the copy has its check and both snapshots.
        assert (
            conn.execute(
                "SELECT count(*) FROM changes WHERE check_id NOT IN (SELECT id FROM checks) "
                "OR before_hash NOT IN (SELECT hash FROM snapshots) "
                "OR after_hash NOT IN (SELECT hash FROM snapshots)"
            ).fetchone()[0]
            == 0
        )
        counts.append(conn.execute("SELECT count(*) FROM checks").fetchone()[0])
        conn.close()
    assert len(copies) >= 3
    assert any(0 < c < total for c in counts), f"no copy was taken mid-pass: {counts}"


def test_backup_never_overwrites(tmp_path: Path) -> None:
    store = _store(tmp_path / "state")
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"keep me")
    with pytest.raises(StoreError, match="already exists; a backup never overwrites"):
        backup(store, dest)
    assert dest.read_bytes() == b"keep me"
    with pytest.raises(StoreError, match="no such directory"):
        backup(store, tmp_path / "missing" / "copy.db")
    store.close()


# --- retention ----------------------------------------------------------------------------------


def _snap(text: str) -> Snapshot:
    return Snapshot(hash=digest(text), title="T", text=text)


def _changed(before: Snapshot, after: Snapshot, at: datetime) -> CheckResult:
    change = Change(
        source="dfe",
        url="https://www.gov.uk/x",
        detected_at=at,
        before=before.hash,
        after=after.hash,
        diff=diff_blocks(before.text.split("\n"), after.text.split("\n")),
        title="T",
        summary="s",
    )
    return CheckResult("dfe", "changed", at, 120, change=change)


def test_retention_deletes_old_unreferenced_rows_and_keeps_what_changes_need(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "state")
    store.sync_sources([Source("other", "https://www.gov.uk/y", timedelta(hours=6))], NOW)
    a, b, c, e, d, x = (_snap(t) for t in ("a", "b", "c", "e", "d", "x"))

    def ago(days: int) -> datetime:
        return NOW - timedelta(days=days)

    store.record(CheckResult("dfe", "baseline", ago(400), 100), snapshot=a)  # pruned
    store.record(CheckResult("dfe", "unchanged", ago(399), 100))  # pruned
    store.record(_changed(a, b, ago(398)), snapshot=b)  # kept: a change's check
    store.record(CheckResult("dfe", "error", ago(397), 100, error="x"))  # pruned
    store.record(CheckResult("dfe", "unchanged", ago(396), 100), snapshot=c)  # pruned, c too
    store.record(CheckResult("dfe", "unchanged", ago(395), 100), snapshot=e)  # pruned
    store.record(_changed(e, d, ago(10)), snapshot=d)  # kept, and e with it
    store.record(CheckResult("dfe", "unchanged", ago(5), 100))  # kept: recent
    store.record(CheckResult("other", "baseline", ago(400), 100), snapshot=x)  # pruned; x current
    before = figures(store).checks

    pruned = retention(store, NOW, timedelta(days=90), timedelta(days=365))

    assert (pruned.checks, pruned.snapshots) == (6, 1)
    kept = {r.started_at for r in store.checks()}
    assert kept == {iso(ago(398)), iso(ago(10)), iso(ago(5))}
    hashes = {r[0] for r in store.conn.execute("SELECT hash FROM snapshots")}
    assert hashes == {a.hash, b.hash, e.hash, d.hash, x.hash}
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for change in store.changes():
        assert {change.before_hash, change.after_hash} <= hashes
    # Counters built from checks never go back: the pruned rows' totals are kept.
    assert figures(store).checks == before
    # Nothing more to do a second time.
    again = retention(store, NOW, timedelta(days=90), timedelta(days=365))
    assert (again.checks, again.snapshots) == (0, 0)
    assert figures(store).checks == before
    store.close()


def test_the_daemon_prunes_daily(tmp_path: Path, site: PageServer) -> None:
    config = load_config(_config(tmp_path, site))
    late = datetime.now(UTC) + timedelta(days=400)

    async def scenario() -> tuple[object, int, int]:
        async with open_runtime(config) as rt:
            await rt.checker.check(config.sources[0])
            site.set("/page", html_page("Kinship care", ["A wholly new text of the page."]))
            await rt.checker.check(config.sources[0])
            checks = rt.store.count("checks")
            daemon = Daemon(config, clock=lambda: late)
            job = daemon._schedule(rt).get_job("retention")
            await daemon._prune(rt)
            return job.trigger.interval, checks, rt.store.count("checks")

    interval, before, after = asyncio.run(scenario())
    assert interval == timedelta(days=1)
    # A year on, only the change's check is left: the baseline was nobody's.
    assert before == 2 and after == 1


# --- integrity ----------------------------------------------------------------------------------


def _damage(db: Path) -> None:
    """Overwrite one whole page in the middle of the file, as a bad disk block would."""
    page = 4096
    pages = db.stat().st_size // page
    assert pages >= 8, "the database is too small to damage in the middle"
    with db.open("r+b") as f:
        f.seek((pages // 2) * page)
        f.write(b"\xa5" * page)


def _filled(state: Path) -> Path:
    store = _store(state)
    for n in range(300):
        text = f"snapshot {n} " + "text of a long page " * 40
        store.record(CheckResult("dfe", "baseline", NOW, 100), snapshot=_snap(text))
    store.close()  # the last close checkpoints the WAL into the file
    return state / "watcher.db"


def test_integrity_reports_damage_with_the_fix(tmp_path: Path) -> None:
    db = _filled(tmp_path / "state")
    store = Store.open(tmp_path / "state")
    integrity(store)  # sound
    store.close()
    _damage(db)
    store = Store.open(tmp_path / "state")
    with pytest.raises(StoreError) as caught:
        integrity(store)
    store.close()
    message = str(caught.value)
    assert "the database is damaged" in message and "\n" not in message
    assert "restore from a backup made by `watcher backup`, or move the file aside" in message


@pytest.mark.slow
def test_daemon_refuses_a_damaged_database_in_one_line(tmp_path: Path, site: PageServer) -> None:
    config = _config(tmp_path, site)
    _damage(_filled(tmp_path / "state"))
    proc = watcher("run", "--config", str(config), "--listen", "off", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("watcher: error: ") and "damaged" in lines[0]
    assert "`watcher backup`, or move the file aside" in lines[0]
    assert site.requests("/page") == [], "the daemon fetched before checking its database"


# --- the other commands -------------------------------------------------------------------------


@pytest.mark.slow
def test_migrate_backup_and_prune_commands(tmp_path: Path, site: PageServer) -> None:
    config = _config(tmp_path, site)
    proc = watcher("migrate", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 0 and f"migrated from version 0 to {latest_schema()}" in proc.stdout
    proc = watcher("migrate", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 0 and f"already at version {latest_schema()}" in proc.stdout

    assert watcher("check", "--config", str(config), cwd=tmp_path).returncode == 0
    proc = watcher("backup", "--config", str(config), str(tmp_path / "b.db"), cwd=tmp_path)
    assert proc.returncode == 0 and "integrity ok" in proc.stdout, proc.stderr
    copy = sqlite3.connect(tmp_path / "b.db")
    assert copy.execute("SELECT count(*) FROM checks").fetchone()[0] == 1
    copy.close()
    proc = watcher("backup", "--config", str(config), str(tmp_path / "b.db"), cwd=tmp_path)
    assert proc.returncode == 2 and "never overwrites" in proc.stderr

    proc = watcher("prune", "--config", str(config), "--keep-checks", "1d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pruned 0 checks older than 1d and 0 snapshots older than 365d")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["check", "changes", "sources"])
def test_every_command_reports_a_damaged_database_in_one_line(
    tmp_path: Path, site: PageServer, command: str
) -> None:
    config = _config(tmp_path, site)
    db = _filled(tmp_path / "state")
    with db.open("r+b") as f:  # the schema page: every command reads it first
        f.seek(100)
        f.write(b"\xa5" * 3996)
    proc = watcher(command, "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "backup" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert site.requests("/page") == []
