"""`watcher migrate --to` round-trips the demo's state: the state `make demo` leaves (its three
alerts, their changes, snapshots and checks) is copied into PostgreSQL and from there into a new
SQLite file; every table prints the same rows and hashes at each step, and the web app shows
the same timeline on all three."""

from __future__ import annotations

import os
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import REPO
from tests.test_cli import out, watcher
from tests.test_copy import _printed
from watcher.config import load_config
from watcher.web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run once, its state kept in a temporary directory (not the repository's)."""
    state = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_DEMO_STATE"] = str(state)
    env["WATCHER_LISTEN"] = "off"  # no web app needed here, and 8080 may be taken
    run = subprocess.run(
        [sys.executable, str(REPO / "demo" / "demo.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout.decode()[-3000:] + run.stderr.decode()[-3000:]
    return state


def timeline(config_path: Path, environ: dict[str, str], state: Path | None = None) -> object:
    config = load_config(config_path, environ=environ, state_dir=str(state) if state else None)
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        api = client.get("/api/v1/changes", params={"per_page": 100}).json()
        html = client.get("/").text
    titles = [unescape(t) for t in html.split('<h2 class="change-title">')[1:]]
    return api, len(titles)


def test_the_demos_state_goes_to_postgresql_and_back_unchanged(
    demo_state: Path, postgres_db: str, tmp_path: Path
) -> None:
    config = demo_state / "sources.toml"
    there = watcher(
        "migrate", "--config", str(config), "--to-env", "PG_TARGET",
        cwd=demo_state, env={"PG_TARGET": postgres_db},
    )  # fmt: skip
    assert there.returncode == 0, there.stderr.decode()
    back = watcher(
        "migrate", "--config", str(config), "--to", f"sqlite:{tmp_path / 'back'}",
        cwd=demo_state, env={"WATCHER_DATABASE_URL": postgres_db},
    )  # fmt: skip
    assert back.returncode == 0, back.stderr.decode()
    assert "copying postgresql://" in out(back)  # from the configured database this time
    to_pg, to_sqlite = _printed(out(there)), _printed(out(back))
    assert to_pg == to_sqlite and to_pg["changes"][0] >= 3 and to_pg["snapshots"][0] >= 3
    assert all(ok == "ok" for _, _, ok in to_pg.values())
    assert postgres_db.split("@")[0] not in out(there) + out(back)  # no user:password

    original = timeline(config, {})
    assert original == timeline(config, {"WATCHER_DATABASE_URL": postgres_db})
    assert original == timeline(config, {}, tmp_path / "back")
    api, shown = original
    assert isinstance(api, dict) and len(api["items"]) >= 3 and shown == len(api["items"])
