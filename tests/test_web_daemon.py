"""`watcher run` serves the web app beside the checks and stops both on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PageServer, free_port, html_page, write_config


@pytest.mark.slow
def test_run_serves_the_web_app_and_stops_on_sigterm(tmp_path: Path, site: PageServer) -> None:
    site.set("/p", html_page("A page", ["Some text about kinship care."]))
    config = write_config(
        tmp_path / "sources.toml", [{"name": "p", "url": site.url("/p"), "every": "10s"}]
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher.cli", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WATCHER_LISTEN": f"127.0.0.1:{port}"},
    )
    try:
        body = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and body != "ok":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body == "ok", "the web app did not answer within 20 s"
        deadline = time.monotonic() + 20
        while not site.requests("/p") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert site.requests("/p"), "the daemon did not check while serving"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_run_refuses_a_public_address_without_a_login(tmp_path: Path) -> None:
    config = write_config(tmp_path / "sources.toml", [])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "watcher.cli",
            "serve",
            "--config",
            str(config),
            "--listen",
            "0.0.0.0:1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("WATCHER_WEB")},
    )
    assert done.returncode == 2
    assert "WATCHER_WEB_PASSWORD" in done.stderr and len(done.stderr.strip().splitlines()) == 1
