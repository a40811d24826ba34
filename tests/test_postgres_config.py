"""Pointing watcher at PostgreSQL: the URL from the environment or a secret file, never the
config file; then a real pass and the web app on the server's database."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import Clock, PageServer, html_page, write_config
from watcher.config import load_config
from watcher.config.loader import register_secrets
from watcher.errors import ConfigError
from watcher.logs import redact
from watcher.runtime import check_once
from watcher.store import Store
from watcher.web.app import create_app

URL = "postgresql://policyteam:pa55-w0rd-x@db.internal:5432/watcher"


def _config(tmp_path: Path, watcher: str = "") -> Path:
    return write_config(tmp_path / "sources.toml", [], watcher=watcher)


def test_the_url_comes_from_the_environment_or_a_secret_file(tmp_path: Path) -> None:
    path = _config(tmp_path)
    assert load_config(path, environ={}).settings.database_url is None
    from_env = load_config(path, environ={"WATCHER_DATABASE_URL": URL})
    assert from_env.settings.database_url == URL
    assert "pa55" not in repr(from_env.settings)
    secret = tmp_path / "db-url"
    secret.write_text(URL + "\n")
    other = _config(tmp_path, 'database_env = "DB_URL"')
    from_file = load_config(other, environ={"DB_URL_FILE": str(secret)})
    assert from_file.settings.database_url == URL
    assert from_file.settings.database_env == "DB_URL"


def test_a_url_written_in_the_config_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, f'database = "{URL}"')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "WATCHER_DATABASE_URL" in message and "secret file" in message
    assert "pa55" not in message and "\n" not in message


def test_a_variable_holding_something_else_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must be a postgresql:// URL \(value hidden\)") as e:
        load_config(_config(tmp_path), environ={"WATCHER_DATABASE_URL": "mysql://u:hush@x/db"})
    assert "hush" not in str(e.value)


def test_the_password_is_redacted_from_logs_but_not_the_user_name(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path), environ={"WATCHER_DATABASE_URL": URL})
    register_secrets(config)
    line = redact(f"connecting to {URL} as policyteam with pa55-w0rd-x")
    assert "pa55-w0rd-x" not in line and URL not in line
    assert "as policyteam" in line  # a user name is a plain word, often in other text


def test_a_pass_records_its_change_and_alert_in_postgresql(
    tmp_path: Path, site: PageServer, postgres_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    site.set("/p", html_page("Kinship", ["The allowance is paid monthly."]))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "kin", "url": site.url("/p")}],
        targets=[("mail", "MAIL_URL")],
    )
    environ = {"WATCHER_DATABASE_URL": postgres_db, "MAIL_URL": "json://127.0.0.1:9/hook"}
    config = load_config(path, environ=environ)
    caplog.set_level(logging.DEBUG)
    asyncio.run(check_once(config))
    site.set("/p", html_page("Kinship", ["The allowance is paid monthly.", "It rises in April."]))
    results, _ = asyncio.run(check_once(config))
    assert [r.outcome for r in results] == ["changed"]
    # Nothing was written beside the config: the state is the server's.
    assert not (config.settings.state_dir / "watcher.db").exists()
    store = Store.connect(postgres_db)
    try:
        assert store.engine == "postgresql"
        changes = store.changes()
        assert len(changes) == 1 and "It rises in April." in changes[0].added
        assert [(r.change_id, r.target) for r in store.outbox()] == [(changes[0].id, "mail")]
    finally:
        store.close()
    assert postgres_db.split("@")[0].split(":")[-1] not in caplog.text  # the password

    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "Kinship" in page.text
        api = client.get("/api/changes").json()
        assert [c["id"] for c in api["items"]] == [changes[0].id] and api["total"] == 1


def test_the_commands_on_postgresql(tmp_path: Path, postgres_db: str) -> None:
    from tests.test_cli import err, out, watcher

    config = _config(tmp_path)
    env = {"WATCHER_DATABASE_URL": postgres_db}
    password = postgres_db.split("@")[0].split(":")[-1]
    migrated = watcher("migrate", "--config", str(config), cwd=tmp_path, env=env)
    assert migrated.returncode == 0, err(migrated)
    assert "migrated from version 0 to 14" in out(migrated)
    again = watcher("migrate", "--config", str(config), cwd=tmp_path, env=env)
    assert "already at version 14" in out(again)
    # No daemon has beaten yet: unhealthy for that reason alone, the probe write committed.
    health = watcher("health", "--config", str(config), "--format", "json", cwd=tmp_path, env=env)
    report = json.loads(out(health))
    assert health.returncode == 1 and report["writable"] is True
    assert report["reasons"] == [
        "no heartbeat: the daemon (`watcher run`) has not run on this database"
    ]
    backup = watcher(
        "backup", "--config", str(config), str(tmp_path / "b.db"), cwd=tmp_path, env=env
    )
    assert backup.returncode != 0 and "pg_dump -Fc" in err(backup)
    assert not (tmp_path / "state" / "watcher.db").exists()
    down = dict(env, WATCHER_DATABASE_URL=postgres_db.rsplit("@", 1)[0] + "@127.0.0.1:9/nope")
    refused = watcher("migrate", "--config", str(config), cwd=tmp_path, env=down)
    message = err(refused)
    assert refused.returncode != 0 and "cannot reach the database at 127.0.0.1:9/nope" in message
    assert password not in message and len(message.strip().splitlines()) == 1


def test_the_daemon_beats_checks_and_prunes_on_postgresql(
    tmp_path: Path, site: PageServer, postgres_db: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from watcher.runtime import open_runtime
    from watcher.scheduler import Daemon
    from watcher.store import ops

    site.set("/page", html_page("Kinship care", ["The allowance is paid monthly."]))
    path = write_config(tmp_path / "sources.toml", [{"name": "kin", "url": site.url("/page")}])
    config = load_config(path, environ={"WATCHER_DATABASE_URL": postgres_db})
    late = datetime.now(UTC) + timedelta(days=400)

    async def scenario() -> tuple[int, int, bool]:
        async with open_runtime(config) as rt:
            clock = Clock(late)
            daemon = Daemon(config, clock=clock)
            await daemon._check(rt, config.sources)
            site.set("/page", html_page("Kinship care", ["A wholly new text of the page."]))
            # On PostgreSQL workers share the sites: the site is due again an interval on.
            clock.advance(config.sources[0].every)
            await daemon._check(rt, config.sources)
            await daemon._heartbeat(rt)
            checks = rt.store.count("checks")
            await daemon._prune(rt)
            report = ops.health(rt.store, clock(), timedelta(minutes=5))
            return checks, rt.store.count("checks"), report.ok

    before, after, healthy = asyncio.run(scenario())
    # A year on, only the change's check is left; the heartbeat just written makes it healthy.
    assert (before, after, healthy) == (2, 1, True)
    assert not (config.settings.state_dir / "watcher.db").exists()
