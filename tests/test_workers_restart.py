"""A `watcher run` worker while its PostgreSQL server restarts under it: the writes that fail
say so in one log line each, the worker keeps running, opens a new connection at its next job
once the server is back, and checks on. Its own server (tests/postgres.py), not the session's,
since it is stopped in the middle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PageServer, html_page, write_config
from tests.postgres import (
    PostgresServer,
    PostgresUnavailable,
    start_again,
    start_postgres,
    stop_only,
)

CMD = (sys.executable, "-m", "watcher.cli")
WAIT = 90.0  # seconds a condition may take to come true on a loaded machine


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


def wait_until(
    ok: Callable[[], bool], what: str, log: Path, worker: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + WAIT
    while not ok():
        assert worker.poll() is None, f"the worker exited: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not within {WAIT:.0f}s: {what}\n{log.read_text()}"
        time.sleep(0.2)


def launch(
    tmp_path: Path, server: PostgresServer, *args: str, log_name: str = "worker.log"
) -> tuple[subprocess.Popen[bytes], Path]:
    """`watcher ARGS` on `server`'s database, its output to a log file under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_DATABASE_URL"] = server.url()
    log = tmp_path / log_name
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CMD, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, log


def checks(server: PostgresServer) -> int:
    import psycopg

    try:
        with psycopg.connect(server.url(), connect_timeout=2) as db:
            row = db.execute("SELECT count(*) FROM checks").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:  # not migrated yet, or the server is down
        return 0


@pytest.mark.slow
def test_a_worker_reconnects_after_the_database_restarts(
    tmp_path: Path, site: PageServer, own_postgres: PostgresServer
) -> None:
    sources = []
    for h, host in enumerate(("127.0.0.1", "localhost")):
        site.set(f"/p{h}", html_page(f"Page {h}", [f"Text of page {h}."]))
        url = site.url(f"/p{h}").replace("127.0.0.1", host, 1)
        sources.append({"name": f"p{h}", "url": url, "every": "10s"})
    config = write_config(tmp_path / "sources.toml", sources, watcher="jitter = 0")
    worker, log = launch(
        tmp_path, own_postgres, "run", "--config", str(config), "--listen", "off", "--worker", "w1"
    )
    try:
        wait_until(lambda: checks(own_postgres) >= 2, "the worker's first checks", log, worker)
        stop_only(own_postgres)
        # Down for a few of the worker's due times: its jobs fail, one line each.
        wait_until(
            lambda: log.read_text().count("database unreachable") >= 2, "failed jobs", log, worker
        )
        assert worker.poll() is None
        start_again(own_postgres)
        before = checks(own_postgres)
        wait_until(
            lambda: checks(own_postgres) >= before + 2, "checks after the restart", log, worker
        )
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(WAIT) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    text = log.read_text()
    assert "reconnected to the database" in text
    assert "Traceback" not in text, text[-3000:]
    # The password is never written, however the connection failed.
    assert own_postgres.password not in text


@pytest.mark.slow
def test_a_pass_cut_off_by_the_restart_writes_nothing_and_keeps_its_lease(
    tmp_path: Path, site: PageServer, own_postgres: PostgresServer
) -> None:
    """The server stops while a site's page is being fetched: the check is not written (one
    line), the lease cannot be given back, so the site waits for it to run out."""
    import psycopg

    site.set("/slow", html_page("Slow", ["Text of the slow page."]), delay=3.0)
    sources = [{"name": "slow", "url": site.url("/slow"), "every": "10s"}]
    config = write_config(tmp_path / "sources.toml", sources, watcher="jitter = 0")
    worker, log = launch(
        tmp_path, own_postgres, "run", "--config", str(config), "--listen", "off", "--worker", "w1"
    )
    try:
        wait_until(lambda: site.active > 0, "the page's fetch", log, worker)
        stop_only(own_postgres)
        wait_until(lambda: "site not released" in log.read_text(), "the failed pass", log, worker)
        start_again(own_postgres)
        with psycopg.connect(own_postgres.url()) as db:
            checked = db.execute("SELECT count(*) FROM checks").fetchone()
            claim = db.execute(
                "SELECT worker, claimed_until FROM site_claims WHERE site = %s",
                ("127.0.0.1",),
            ).fetchone()
        assert checked == (0,)
        assert claim is not None and claim[0] == "w1"
        assert datetime.fromisoformat(claim[1]) > datetime.now(UTC)  # until the lease runs out
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(WAIT)
    text = log.read_text()
    assert "state not written" in text and "Traceback" not in text, text[-3000:]


@pytest.mark.slow
def test_the_web_replica_answers_503_while_the_database_is_down_and_reconnects(
    tmp_path: Path, site: PageServer, own_postgres: PostgresServer
) -> None:
    """`watcher serve` on PostgreSQL (the web app as its own replica): while the server is down
    a page is a one-line 503, not a traceback; once it is back, the same process serves again."""
    import urllib.error
    import urllib.request

    from tests.conftest import free_port

    site.set("/p", html_page("Page", ["Text of the page."]))
    config = write_config(tmp_path / "sources.toml", [{"name": "p", "url": site.url("/p")}])
    port = free_port()

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    listen = f"127.0.0.1:{port}"
    web, log = launch(
        tmp_path, own_postgres, "serve", "--config", str(config), "--listen", listen,
        log_name="web.log",
    )  # fmt: skip
    try:
        wait_until(lambda: get("/sources")[0] == 200, "the web app serving", log, web)
        stop_only(own_postgres)
        status, body = get("/sources")
        assert status == 503 and "cannot be reached" in body and "\n" not in body.strip()
        assert own_postgres.password not in body
        start_again(own_postgres)
        wait_until(lambda: get("/sources")[0] == 200, "serving after the restart", log, web)
        assert web.poll() is None
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(WAIT)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert own_postgres.password not in text
