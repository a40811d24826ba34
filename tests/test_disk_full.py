"""A full disk: one clear line, exit code 3, and nothing already stored is lost."""

from __future__ import annotations

import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PageServer, html_page, write_config


def _limited(limit: int):  # type: ignore[no-untyped-def]
    def set_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return set_limit


@pytest.mark.slow
def test_disk_full_during_a_check_is_one_line_and_loses_nothing(
    tmp_path: Path, site: PageServer
) -> None:
    site.set("/page", html_page("Guidance", ["A short first version of the page."]))
    config = write_config(tmp_path / "sources.toml", [{"name": "g", "url": site.url("/page")}])
    cmd = [sys.executable, "-m", "watcher.cli", "check", "--config", str(config)]
    assert subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 0
    db = tmp_path / "state" / "watcher.db"
    sizes = {p.name: p.stat().st_size for p in db.parent.iterdir()}

    # The next version is far larger than the files may grow.
    big = [f"Paragraph {n}: " + "funding for kinship carers " * 40 for n in range(400)]
    site.set("/page", html_page("Guidance", big))
    limit = max(sizes.values()) + 4096
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=60, check=False, preexec_fn=_limited(limit)
    )
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("watcher: error:")]
    assert len(lines) == 1 and "could not write" in lines[0] and "nothing was lost" in lines[0]
    assert "Traceback" not in proc.stderr

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1
    conn.close()

    # With room again, the next check finds the change.
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "CHANGED" in proc.stdout
