"""The real `watcher` console script, run in a subprocess against loopback pages and a temp state dir."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PageServer, html_page, write_config
from watcher import __version__

pytestmark = pytest.mark.slow

CANARY = "CANARY-SECRET-7f3a9"
# Usable by Apprise (so `check` starts) but undeliverable: nothing listens on port 1.
CANARY_URL = f"mailto://user:{CANARY}@127.0.0.1:1?from=watcher@example.org&to=team@example.org"
HERE = "# <-- HERE"
TIMEOUT = 60
COMMANDS = ("check", "run", "changes", "sources")

PARAS = [
    "The Government has published its response to the Independent Review of Children's Social Care.",
    "It commits £200 million over the next two years to begin reform.",
    "The consultation closes on 11 May 2023.",
]
EDITED = [
    PARAS[0],
    PARAS[1].replace("£200 million", "£250 million"),
    PARAS[2],
    "A new workforce consultation opens in June.",
]


def watcher(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m watcher.cli ARGS` with a clean WATCHER_* environment, bounded in time."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )


def out(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode("utf-8")


def err(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stderr.decode("utf-8")


def good_config(tmp_path: Path, url: str, targets: list[tuple[str, str]] = ()) -> Path:  # type: ignore[assignment]
    return write_config(
        tmp_path / "sources.toml", [{"name": "dfe", "url": url}], targets=list(targets)
    )


def state_files(state: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under the state dir: sha256, size and mtime (ns)."""
    found = {}
    for p in sorted(state.rglob("*")):
        if p.is_file():
            st = p.stat()
            found[str(p.relative_to(state))] = (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                st.st_size,
                st.st_mtime_ns,
            )
    return found


# Ways to break a good config, each marking the offending line; appended after the last [[source]].
BREAKS: dict[str, str] = {
    "unknown-key": f'evrey = "1h"  {HERE}\n',
    "bad-scheme": f'[[source]]\nname = "x"\nurl = "file:///etc/passwd"  {HERE}\n',
    "duplicate-name": f'[[source]]\nname = "dfe"  {HERE}\nurl = "http://127.0.0.1:9/other"\n',
    "bad-interval": f'every = "5 minutes"  {HERE}\n',
    "bad-toml": f'every = "1h  {HERE}\n',
    "bad-selector": f'select = "main >>"  {HERE}\n',
}


def break_config(path: Path, kind: str) -> int:
    """Append a mistake to `path`; return its line number."""
    path.write_text(path.read_text() + BREAKS[kind])
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if HERE in line)


def assert_config_error(proc: subprocess.CompletedProcess[bytes], where: str) -> None:
    assert proc.returncode == 2, (proc.returncode, err(proc))
    assert proc.stdout == b""
    lines = err(proc).splitlines()
    assert len(lines) == 1, err(proc)
    assert lines[0].startswith("watcher: error: "), lines[0]
    assert where in lines[0], (where, lines[0])
    assert len(lines[0]) > len("watcher: error: ") + len(where)


# ---------------------------------------------------------------------------------------------
# Broken configuration: exit 2, one line on stderr, nothing on stdout


@pytest.mark.parametrize("kind", list(BREAKS))
def test_broken_config_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    path = good_config(tmp_path, "http://127.0.0.1:9/page")
    line = break_config(path, kind)
    # The default --config is sources.toml in the working directory.
    assert_config_error(watcher("check", cwd=tmp_path), f"sources.toml:{line}: ")
    # And an explicit path is named as given.
    assert_config_error(watcher("check", "--config", str(path), cwd=tmp_path), f"{path}:{line}: ")
    assert not (tmp_path / "state").exists(), "a config error must not create the state dir"


def test_missing_config_file(tmp_path: Path) -> None:
    proc = watcher("sources", "--config", "nope.toml", cwd=tmp_path)
    assert_config_error(proc, "nope.toml: file not found")


def test_broken_config_touches_nothing_stored(tmp_path: Path, site: PageServer) -> None:
    site.set("/page", html_page("Stable Homes", PARAS))
    path = good_config(tmp_path, site.url("/page"))
    first = watcher("check", cwd=tmp_path)
    assert first.returncode == 0, err(first)
    assert "baseline" in out(first)
    state = tmp_path / "state"
    assert (state / "watcher.db").is_file()
    before = state_files(state)
    assert "watcher.db" in before
    good_text = path.read_text()

    for kind in ("unknown-key", "bad-toml", "duplicate-name"):
        path.write_text(good_text)
        line = break_config(path, kind)
        for command in COMMANDS:
            proc = watcher(command, cwd=tmp_path)
            assert_config_error(proc, f"sources.toml:{line}: ")
            assert state_files(state) == before, (kind, command)
    # The good run fetched once (a new source is fetched again only at its first change).
    assert len(site.requests("/page", "GET")) == 1, "only the good run fetched"


def test_bad_since_does_not_touch_the_state(tmp_path: Path) -> None:
    good_config(tmp_path, "http://127.0.0.1:9/page")
    for since in ("yesterday", "999999999d", "2026-13-45"):
        proc = watcher("changes", "--since", since, cwd=tmp_path)
        assert proc.returncode == 2, err(proc)
        assert proc.stdout == b""
        assert "--since" in err(proc) and "Traceback" not in err(proc)
    assert not (tmp_path / "state").exists()


# ---------------------------------------------------------------------------------------------
# Version and help


def test_version(tmp_path: Path) -> None:
    proc = watcher("--version", cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    assert __version__ in out(proc)
    assert out(proc).startswith("watcher")


def test_help_lists_the_commands(tmp_path: Path) -> None:
    proc = watcher("--help", cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    for command in COMMANDS:
        assert f"  {command} " in out(proc), command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_config_and_state(tmp_path: Path, command: str) -> None:
    proc = watcher(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    for option in ("--config", "--state", "--log-level", "--log-format"):
        assert option in out(proc), (command, option)


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = watcher("nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "No such command" in err(proc)


# ---------------------------------------------------------------------------------------------
# changes and sources after a real change


def baseline_then_change(tmp_path: Path, site: PageServer, *args: str) -> None:
    site.set("/page", html_page("Stable Homes", PARAS, sidebar="Rotating story 1"))
    first = watcher("check", *args, cwd=tmp_path)
    assert first.returncode == 0, err(first)
    assert "baseline" in out(first)
    site.set("/page", html_page("Stable Homes", EDITED, sidebar="Rotating story 2"))
    second = watcher("check", *args, cwd=tmp_path)
    assert second.returncode == 0, err(second)
    assert "CHANGED" in out(second)
    assert "1 checked: 1 changed, 0 failed" in err(second)


def changes_json(tmp_path: Path, *args: str) -> list[dict[str, object]]:
    proc = watcher("changes", "--format", "json", *args, cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    data = json.loads(out(proc))
    assert isinstance(data, list)
    return data


def test_changes_json(tmp_path: Path, site: PageServer) -> None:
    good_config(tmp_path, site.url("/page"))
    baseline_then_change(tmp_path, site)

    (item,) = changes_json(tmp_path)
    for key in ("source", "url", "detected_at", "category", "summary", "added", "removed"):
        assert key in item, key
    assert item["source"] == "dfe"
    assert item["url"] == site.url("/page")
    detected = datetime.fromisoformat(str(item["detected_at"]))
    assert abs(datetime.now(UTC) - detected) < timedelta(minutes=5)
    assert isinstance(item["added"], list) and isinstance(item["removed"], list)
    assert any("£250 million" in line for line in item["added"])  # type: ignore[attr-defined]
    assert any("£200 million" in line for line in item["removed"])  # type: ignore[attr-defined]
    assert isinstance(item["summary"], str) and item["summary"]

    assert changes_json(tmp_path, "--source", "other") == []
    assert len(changes_json(tmp_path, "--source", "dfe")) == 1
    assert len(changes_json(tmp_path, "--since", "1d")) == 1
    assert len(changes_json(tmp_path, "--since", "2020-01-01")) == 1
    assert changes_json(tmp_path, "--since", "2999-01-01") == []
    assert len(changes_json(tmp_path, "--limit", "1")) == 1

    bad = watcher("changes", "--format", "json", "--since", "last tuesday", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert "--since" in err(bad)

    text = watcher("changes", cwd=tmp_path)
    assert text.returncode == 0, err(text)
    assert "dfe" in out(text)


def test_sources_json_and_environment_variables(tmp_path: Path, site: PageServer) -> None:
    config = good_config(tmp_path, site.url("/page"))
    alt_state = tmp_path / "alt-state"
    baseline_then_change(tmp_path, site, "--config", "sources.toml", "--state", str(alt_state))
    assert (alt_state / "watcher.db").is_file()
    assert not (tmp_path / "state").exists(), "--state overrides state_dir from the file"

    proc = watcher("sources", "--format", "json", "--state", str(alt_state), cwd=tmp_path)
    assert proc.returncode == 0, err(proc)
    (row,) = json.loads(out(proc))
    assert row["name"] == "dfe"
    assert row["url"] == site.url("/page")
    assert row["last_outcome"] == "changed"
    assert row["error_streak"] == 0
    assert row["last_error"] is None
    assert row["last_check_at"] and row["last_change_at"]

    # From another directory, with WATCHER_CONFIG and WATCHER_STATE instead of flags.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"WATCHER_CONFIG": str(config), "WATCHER_STATE": str(alt_state)}
    proc = watcher("sources", "--format", "json", cwd=elsewhere, env=env)
    assert proc.returncode == 0, err(proc)
    (row,) = json.loads(out(proc))
    assert (row["name"], row["last_outcome"], row["error_streak"]) == ("dfe", "changed", 0)
    proc = watcher("changes", "--format", "json", cwd=elsewhere, env=env)
    assert proc.returncode == 0, err(proc)
    assert [c["source"] for c in json.loads(out(proc))] == ["dfe"]
    assert not (elsewhere / "state").exists() and not (elsewhere / "sources.toml").exists()

    # The text form too.
    proc = watcher("sources", cwd=elsewhere, env=env)
    assert proc.returncode == 0, err(proc)
    assert "dfe" in out(proc) and "changed" in out(proc)


def test_sources_error_outcome(tmp_path: Path, site: PageServer) -> None:
    site.set("/gone", b"gone", status=404)
    write_config(tmp_path / "sources.toml", [{"name": "gone", "url": site.url("/gone")}])
    proc = watcher("check", cwd=tmp_path)
    assert proc.returncode == 1, err(proc)  # every source failed: the pass failed
    assert "ERROR" in out(proc)
    proc = watcher("sources", "--format", "json", cwd=tmp_path)
    (row,) = json.loads(out(proc))
    assert row["last_outcome"] == "error"
    assert row["error_streak"] == 1
    assert row["last_error"]


# ---------------------------------------------------------------------------------------------
# Secrets stay out of output, logs and the database


def test_notify_secret_never_printed_or_stored(tmp_path: Path, site: PageServer) -> None:
    good_config(tmp_path, site.url("/page"), targets=[("mail", "WATCHER_TEST_MAIL_URL")])
    env = {"WATCHER_TEST_MAIL_URL": CANARY_URL}
    canary = CANARY.encode()

    site.set("/page", html_page("Stable Homes", PARAS))
    first = watcher("check", "--log-level", "debug", cwd=tmp_path, env=env)
    assert first.returncode == 0, err(first)
    site.set("/page", html_page("Stable Homes", EDITED))
    second = watcher("check", "--log-level", "debug", cwd=tmp_path, env=env)
    assert second.returncode == 0, err(second)
    assert "CHANGED" in out(second)
    # Delivery was attempted and failed (nothing listens on port 1), so error text was produced.
    assert "alerts sent 0, retrying 1" in err(second)
    assert "alert not delivered" in err(second)

    runs = [first, second]
    runs.append(
        watcher("check", "--log-level", "debug", "--log-format", "json", cwd=tmp_path, env=env)
    )
    runs.append(watcher("changes", "--format", "json", "--diff", cwd=tmp_path, env=env))
    runs.append(watcher("sources", "--format", "json", cwd=tmp_path, env=env))
    for proc in runs:
        assert proc.returncode == 0, err(proc)
        assert canary not in proc.stdout
        assert canary not in proc.stderr

    state = tmp_path / "state"
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.name == "watcher.db" for p in files)
    for p in files:  # watcher.db and any -wal / -shm, as raw bytes
        assert canary not in p.read_bytes(), p

    with sqlite3.connect(f"file:{state / 'watcher.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT target, status, attempts, last_error FROM outbox").fetchall()
    db.close()
    assert len(rows) == 1
    target, status, attempts, last_error = rows[0]
    assert (target, status, attempts) == ("mail", "pending", 1)
    assert last_error and CANARY not in last_error


def test_config_error_never_echoes_a_secret(tmp_path: Path) -> None:
    path = good_config(
        tmp_path, "http://127.0.0.1:9/page", targets=[("mail", "WATCHER_TEST_MAIL_URL")]
    )
    path.write_text(path.read_text() + f'[[notify]]\nname = "leak"\nurl = "{CANARY_URL}"\n')
    proc = watcher("check", cwd=tmp_path, env={"WATCHER_TEST_MAIL_URL": CANARY_URL})
    assert proc.returncode == 2
    assert b"CANARY" not in proc.stderr + proc.stdout
    assert "environment variable" in err(proc)

    path = good_config(
        tmp_path, "http://127.0.0.1:9/page", targets=[("mail", "WATCHER_TEST_MAIL_URL")]
    )
    env = {"WATCHER_TEST_MAIL_URL_FILE": str(tmp_path / "missing-secret")}
    proc = watcher("check", cwd=tmp_path, env=env)
    assert_config_error(proc, "WATCHER_TEST_MAIL_URL_FILE")
