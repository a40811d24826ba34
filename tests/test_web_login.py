"""Login hardening: guessing slowed then stopped (per address and for everyone), lockouts an
admin clears, Basic only with API tokens, logout and password change ending sessions
server-side, `__Host-` Secure cookies beyond loopback, and a Host allowlist."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from starlette.testclient import TestClient

from tests.conftest import free_port
from watcher.config import Config, load_config
from watcher.store import Store
from watcher.web import logins as policy
from watcher.web.app import create_app

PASSWORD = "correct horse battery staple"
TOKEN = "tok-4f9a2c7e1b"
ENV = {"WATCHER_WEB_PASSWORD": PASSWORD, "WATCHER_WEB_TOKENS": TOKEN}


def make_config(tmp_path: Path, web: str = "", env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "sources.toml"
    path.write_text(f'[watcher]\nstate_dir = "state"\n[web]\n{web}\n')
    return load_config(path, environ=env or ENV)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def remote_client(
    config: Config, clock: Clock | None = None, address: str = "203.0.113.7"
) -> TestClient:
    app = create_app(config, listen="0.0.0.0:8443", clock=clock or Clock())
    return TestClient(
        app, base_url="https://watcher.example", follow_redirects=False, client=(address, 5000)
    )


@pytest.fixture
def remote(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    with remote_client(make_config(tmp_path), clock) as client:
        yield client


def csrf(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert match
    return match.group(1)


def guess(client: TestClient, password: str = "wrong") -> int:
    data = {"csrf": csrf(client), "name": "Ann", "password": password}
    return client.post("/login", data=data).status_code


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- credentials ----------------------------------------------------------------------------------


def test_basic_auth_takes_api_tokens_only_never_the_staff_password(remote: TestClient) -> None:
    assert remote.get("/api/changes", headers=basic("ann", PASSWORD)).status_code == 401
    assert remote.get("/api/changes", headers=basic("reader", TOKEN)).status_code == 200


def test_logout_ends_the_session_server_side(remote: TestClient) -> None:
    assert guess(remote, PASSWORD) == 303
    old_cookie = remote.cookies.get("__Host-watcher_session")
    assert old_cookie and remote.get("/").status_code == 200
    remote.post("/logout", data={"csrf": csrf(remote)})
    remote.cookies.clear()
    remote.cookies.set("__Host-watcher_session", old_cookie)  # a copy kept by an attacker
    assert remote.get("/").status_code == 303


def test_a_password_change_ends_every_session(tmp_path: Path) -> None:
    with remote_client(make_config(tmp_path)) as first:
        assert guess(first, PASSWORD) == 303
        cookie = first.cookies.get("__Host-watcher_session")
    changed = make_config(tmp_path, env={**ENV, "WATCHER_WEB_PASSWORD": "a new password"})
    with remote_client(changed) as second:
        second.cookies.set("__Host-watcher_session", str(cookie))
        assert second.get("/").status_code == 303


def test_cookie_is_host_prefixed_and_secure_beyond_loopback_only(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with remote_client(config) as client:
        client.get("/login")
        data = {"csrf": csrf(client), "name": "Ann", "password": PASSWORD}
        cookie = client.post("/login", data=data).headers["set-cookie"]
    assert cookie.startswith("__Host-watcher_session=")
    assert "; Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    app = create_app(config, listen="127.0.0.1:8080")
    with TestClient(app, base_url="http://127.0.0.1:8080") as local:
        cookie = local.get("/login").headers["set-cookie"]
    assert cookie.startswith("watcher_session=") and "Secure" not in cookie


# --- guessing ------------------------------------------------------------------------------------


def test_a_client_gets_three_tries_then_doubling_waits_then_a_lockout(
    remote: TestClient, clock: Clock
) -> None:
    assert [guess(remote) for _ in range(3)] == [401, 401, 401]
    response = remote.post("/login", data={"csrf": csrf(remote), "password": PASSWORD})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    waits = []
    for _ in range(policy.CLIENT_LOCK_AT - 3):
        clock.advance(policy.CLIENT_MAX_WAIT.total_seconds())
        assert guess(remote) == 401
        refused = remote.post("/login", data={"csrf": csrf(remote), "password": "x"})
        waits.append(refused.headers.get("retry-after"))
    assert waits[:4] == ["2", "4", "8", "16"]
    assert waits[-1] is None  # locked: no point in waiting
    clock.advance(86400 * 7)
    assert guess(remote, PASSWORD) == 429  # even the right password, a week later
    assert "watcher logins clear" in remote.post("/login", data={"csrf": csrf(remote)}).text


def test_an_admin_command_lifts_the_lockout(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path)
    with remote_client(config, clock) as client:
        for _ in range(policy.CLIENT_LOCK_AT):
            clock.advance(policy.CLIENT_MAX_WAIT.total_seconds())
            guess(client)
        assert guess(client, PASSWORD) == 429
        cli = [sys.executable, "-m", "watcher.cli"]
        listed = subprocess.run(
            [*cli, "logins", "--config", str(config.path)], capture_output=True, text=True
        )
        assert "203.0.113.7" in listed.stdout and "LOCKED" in listed.stdout, listed.stderr
        cleared = subprocess.run(
            [*cli, "logins", "clear", "203.0.113.7", "--config", str(config.path)],
            capture_output=True,
            text=True,
        )
        assert cleared.returncode == 0, cleared.stderr
        assert guess(client, PASSWORD) == 303


def test_every_address_together_backs_off(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path)
    store = Store.open(config.settings.state_dir)
    logins = policy.Logins(store, threading.Lock())
    try:
        now = clock()
        for n in range(policy.GLOBAL_FREE):
            address = f"198.51.100.{n}"
            assert logins.may_try(address, now) is None
            logins.failed(address, now)
        refusal = logins.may_try("192.0.2.200", now)  # a fresh address is held back too
        assert refusal is not None and not refusal.locked and refusal.retry_after >= 1
        now += policy.GLOBAL_MAX_WAIT
        assert logins.may_try("192.0.2.200", now) is None
        assert store.login_clear() > 0
        assert logins.may_try("192.0.2.201", now) is None
    finally:
        store.close()


def test_two_hundred_parallel_guesses_are_a_handful(tmp_path: Path) -> None:
    """Against the real server: the probe's 200 parallel guesses finished in 1.1 s."""
    config = make_config(tmp_path)
    port = free_port()
    app = create_app(config, listen=f"127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        page = urllib.request.urlopen(base + "/login", timeout=10)
        cookie = page.headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
        assert token
        body = f"csrf={token.group(1)}&name=Ann&password=wrong".encode()

        def attempt(_: int) -> int:
            request = urllib.request.Request(
                base + "/login", data=body, headers={"Cookie": cookie, "Origin": base}
            )
            try:
                return urllib.request.urlopen(request, timeout=20).status
            except urllib.error.HTTPError as exc:
                return exc.code

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=40) as pool:
            codes = list(pool.map(attempt, range(200)))
        took = time.monotonic() - started
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    looked_at = codes.count(401)
    # Three free tries, then one per doubling wait (1 s, 2 s ...): a handful even on a slow machine.
    assert looked_at <= policy.CLIENT_FREE + 3, codes
    assert codes.count(429) == 200 - looked_at
    print(f"200 parallel guesses: {looked_at} passwords looked at, {took:.2f} s")


# --- Host names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listen", "own"),
    [("127.0.0.1:8080", "127.0.0.1:8080"), ("127.0.0.2:8080", "127.0.0.2:8080"),
     ("[::1]:8080", "[::1]:8080"), ("127.0.0.1:8080", "localhost:8080")],
)  # fmt: skip
def test_a_loopback_address_accepts_its_own_host_and_no_other(
    tmp_path: Path, listen: str, own: str
) -> None:
    app = create_app(make_config(tmp_path), listen=listen)
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        assert client.get("/", headers={"Host": own}).status_code == 200
        foreign = client.get("/", headers={"Host": "evil.example:8080"})
    assert foreign.status_code == 400
    assert foreign.headers["x-content-type-options"] == "nosniff"


def test_login_mode_answers_only_its_public_name(tmp_path: Path) -> None:
    config = make_config(tmp_path, 'public_url = "https://watcher.example.org"')
    app = create_app(config, listen="0.0.0.0:8443")
    with TestClient(app, base_url="https://watcher.example.org", follow_redirects=False) as c:
        assert c.get("/login").status_code == 200
        assert c.get("/login", headers={"Host": "rebound.example"}).status_code == 400


@pytest.mark.parametrize("path", ["/static/watcher.css%00", "/static/%00", "/changes/1%00x"])
def test_a_nul_in_the_path_is_a_404_with_the_security_headers(tmp_path: Path, path: str) -> None:
    app = create_app(make_config(tmp_path), listen="127.0.0.1:8080")
    with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:
        response = c.get(path)
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "path",
    ["/static/..%2f..%2fpyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
     "/static/....//....//pyproject.toml", "/static//etc/passwd", "/static/..%5c..%5cREADME.md"],
)  # fmt: skip
def test_static_traversal_is_a_404(tmp_path: Path, path: str) -> None:
    app = create_app(make_config(tmp_path), listen="127.0.0.1:8080")
    with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:
        response = c.get(path)
    assert response.status_code == 404, path
    assert "[project]" not in response.text and "root:" not in response.text
