"""Failing loudly, through the real console script: a pass where every source failed, an empty
config, a target Apprise cannot use, and a read-only state directory each end in one line that
names the problem and the fix, with the right exit code and no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PageServer, free_port, html_page, write_config

pytestmark = pytest.mark.slow
CANARY = "CANARY-SECRET-7f3a9"


def watcher(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    proc = subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("watcher: error:")]


def test_check_exits_1_when_every_source_failed(tmp_path: Path) -> None:
    dead = [f"http://127.0.0.1:{free_port()}/{n}" for n in range(3)]
    write_config(
        tmp_path / "sources.toml", [{"name": f"s{n}", "url": u} for n, u in enumerate(dead)]
    )
    code, out, err = watcher("check", cwd=tmp_path)
    assert code == 1, err
    (line,) = error_lines(err)
    assert "all 3 sources failed" in line
    assert out.count("ERROR") == 3


def test_check_exits_0_when_some_sources_were_checked(tmp_path: Path, site: PageServer) -> None:
    site.set("/ok", html_page("Fine", ["A page that answers."]))
    sources = [
        {"name": "ok", "url": site.url("/ok")},
        {"name": "dead", "url": f"http://127.0.0.1:{free_port()}/"},
    ]
    write_config(tmp_path / "sources.toml", sources)
    code, _, err = watcher("check", cwd=tmp_path)
    assert code == 0, err
    assert error_lines(err) == []


def test_check_warns_on_a_config_without_sources(tmp_path: Path) -> None:
    write_config(tmp_path / "sources.toml", [])
    code, _, err = watcher("check", cwd=tmp_path)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("watcher: warning:")]
    assert len(warnings) == 1 and "lists no sources" in warnings[0], err


@pytest.mark.parametrize(
    "url",
    [
        f"notascheme://{CANARY}",
        f"slack://{CANARY}",
        f"plain words {CANARY}",
        f"mailto://{CANARY}@127.0.0.1:1?to=a@b.c",
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_target_apprise_cannot_use_stops_the_start(
    tmp_path: Path, site: PageServer, url: str, command: str
) -> None:
    site.set("/ok", html_page("Fine", ["A page that answers."]))
    write_config(
        tmp_path / "sources.toml",
        [{"name": "ok", "url": site.url("/ok")}],
        targets=[("team", "TEAM_ALERT_URL")],
    )
    extra = ["--listen", "off"] if command == "run" else []
    code, out, err = watcher(command, *extra, cwd=tmp_path, env={"TEAM_ALERT_URL": url})
    assert code == 2, err
    (line,) = error_lines(err)
    assert "notify target 'team'" in line and "$TEAM_ALERT_URL" in line, line
    assert CANARY not in out + err
    assert not (tmp_path / "state" / "watcher.db").exists()  # refused before any check


# --- a read-only state directory (a real read-only mount, in a private mount namespace) -----

UNSHARE = shutil.which("unshare")


def _can_mount() -> bool:
    if UNSHARE is None:
        return False
    probe = subprocess.run(
        [UNSHARE, "--mount", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs unshare --mount (root or user namespaces)")
@pytest.mark.parametrize(
    "args",
    [["check"], ["migrate"], ["prune"], ["changes"], ["sources"], ["serve", "--listen", "PORT"]],
    ids=lambda a: a[0],
)
def test_a_read_only_state_is_named_as_such(
    tmp_path: Path, site: PageServer, args: list[str]
) -> None:
    site.set("/ok", html_page("Fine", ["A page that answers."]))
    write_config(tmp_path / "sources.toml", [{"name": "ok", "url": site.url("/ok")}])
    assert watcher("check", cwd=tmp_path)[0] == 0
    state = tmp_path / "state"
    shutil.copytree(state, tmp_path / "saved")
    args = [a.replace("PORT", f"127.0.0.1:{free_port()}") for a in args]
    command = " ".join(
        [sys.executable, "-m", "watcher.cli", *args, "--config", str(tmp_path / "sources.toml")]
    )
    script = (
        f"mount -t tmpfs tmpfs {state} && cp -a {tmp_path / 'saved'}/. {state}/ "
        f"&& mount -o remount,ro {state} && timeout 20 {command}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    proc = subprocess.run(
        [str(UNSHARE), "--mount", "--propagation", "private", "sh", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    (line,) = error_lines(proc.stderr)
    assert "read-only" in line and "--state" in line, line
    assert "damaged" not in line and "backup" not in line, line


def test_page_text_cannot_drive_the_terminal() -> None:
    from watcher.cli import terminal_safe

    hostile = "price \u202e0001£\u202c paid \x1b[2J\x1b]0;owned\x07 done\u2066x\u2069"
    shown = terminal_safe(hostile)
    assert not any(c in shown for c in "\u202e\u202c\x1b\x07\u2066\u2069")
    assert "\\u202e" in shown and "\\u001b" in shown
    assert terminal_safe("line one\n\tline two £5") == "line one\n\tline two £5"
