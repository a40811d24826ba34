"""compose.yaml's two profiles, read as compose reads them: the single SQLite daemon, or
PostgreSQL with two workers and the web app as its own replica. No profile runs both (two
daemons on one set of sources would each alert), and no secret is written in the file."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import REPO

COMPOSE = REPO / "compose.yaml"


def services(profile: str) -> dict[str, Any]:
    spec = yaml.safe_load(COMPOSE.read_text())
    return {n: s for n, s in spec["services"].items() if profile in s.get("profiles", [])}


def test_every_service_belongs_to_exactly_one_profile() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    for name, service in spec["services"].items():
        assert len(service.get("profiles", [])) == 1, name
    assert set(services("sqlite")) == {"watcher"}


def test_the_postgresql_profile_has_the_database_two_workers_and_a_web_replica() -> None:
    found = services("postgresql")
    workers = {n: s for n, s in found.items() if s.get("command", [None])[0] == "run"}
    assert len(workers) >= 2
    names = [s["command"][s["command"].index("--worker") + 1] for s in workers.values()]
    assert len(set(names)) == len(names)  # each worker its own name: its claims are its own
    assert all(s["command"][s["command"].index("--listen") + 1] == "off" for s in workers.values())
    [web] = [s for s in found.values() if s.get("command", [None])[0] == "serve"]
    assert "postgres" in found
    for service in (*workers.values(), web):
        env = service["environment"]
        assert env["WATCHER_DATABASE_URL_FILE"].startswith("/run/secrets/")
        assert "WATCHER_DATABASE_URL" not in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["read_only"] is True


def test_no_url_or_password_is_written_in_the_file() -> None:
    text = COMPOSE.read_text()
    assert "postgresql://" not in text.replace("(postgresql://watcher:PASSWORD@", "")
    spec = yaml.safe_load(text)
    for service in spec["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "URL", "TOKEN")):
                assert key.endswith("_FILE"), key
                assert str(value).startswith("/run/secrets/"), key
