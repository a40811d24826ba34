"""The throwaway PostgreSQL harness (tests/postgres.py), and the row claiming workers will need."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

import tests.postgres
from tests.postgres import PostgresServer, PostgresUnavailable, find_bindir, start_postgres

ROWS = 40


def test_a_table_round_trips(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as db:
        db.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)")
        db.execute("INSERT INTO notes (body) VALUES (%s), (%s)", ("first", "zweite – ü"))
        db.commit()
    with psycopg.connect(postgres_db) as db:
        rows = db.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
    assert rows == [(1, "first"), (2, "zweite – ü")]


def test_the_server_listens_on_loopback_only(postgres: str) -> None:
    with psycopg.connect(postgres) as db:
        listen = db.execute("SHOW listen_addresses").fetchone()
        address = db.execute("SELECT host(inet_server_addr())").fetchone()
    assert listen == ("127.0.0.1",)
    assert address == ("127.0.0.1",)
    assert postgres.startswith("postgresql://watcher:") and "@127.0.0.1:" in postgres


def _claim_all(url: str, worker: str, both_holding: threading.Barrier) -> list[int]:
    """Claim rows one transaction at a time until none is left, as a worker would."""
    claimed: list[int] = []
    with psycopg.connect(url, autocommit=True) as db:
        while True:
            with db.transaction():
                row = db.execute(
                    "SELECT id FROM jobs WHERE claimed_by IS NULL ORDER BY id LIMIT 1"
                    " FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    return claimed
                if not claimed:
                    # Both workers hold a locked row at once: had the second blocked on the
                    # first's row instead of skipping it, this wait would time out.
                    both_holding.wait(timeout=5)
                db.execute("UPDATE jobs SET claimed_by = %s WHERE id = %s", (worker, row[0]))
                claimed.append(row[0])


def test_skip_locked_gives_two_workers_different_rows(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as db:
        db.execute("CREATE TABLE jobs (id bigserial PRIMARY KEY, claimed_by text)")
        db.execute("INSERT INTO jobs (claimed_by) SELECT NULL FROM generate_series(1, %s)", (ROWS,))
        db.commit()
    both_holding = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(_claim_all, postgres_db, w, both_holding) for w in ("a", "b")]
        a, b = (f.result(timeout=30) for f in running)
    assert a and b
    assert not set(a) & set(b)
    assert sorted(a + b) == list(range(1, ROWS + 1))
    with psycopg.connect(postgres_db) as db:
        owners: dict[str, int] = dict(
            db.execute("SELECT claimed_by, count(*) FROM jobs GROUP BY 1").fetchall()
        )
    assert owners == {"a": len(a), "b": len(b)}


def test_without_skip_locked_the_second_worker_waits(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as db:
        db.execute("CREATE TABLE jobs (id bigserial PRIMARY KEY, claimed_by text)")
        db.execute("INSERT INTO jobs (claimed_by) VALUES (NULL), (NULL)")
        db.commit()
    claim = "SELECT id FROM jobs WHERE claimed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE"
    with psycopg.connect(postgres_db) as first, psycopg.connect(postgres_db) as second:
        assert first.execute(claim).fetchone() == (1,)
        second.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            second.execute(claim)
        second.rollback()
        assert second.execute(claim + " SKIP LOCKED").fetchone() == (2,)


def test_a_stopped_server_leaves_nothing(postgres_server: PostgresServer) -> None:
    # Its own server, not the session's: stopping that one would break the tests after this.
    server = start_postgres()
    with psycopg.connect(server.url()) as db:
        assert db.execute("SELECT 1").fetchone() == (1,)
    server.stop()
    assert server.process.returncode is not None
    assert not server.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url(), connect_timeout=2)


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_find_bindir_prefers_path_then_the_newest_debian_version(tmp_path: Path) -> None:
    debian = tmp_path / "usr-lib-postgresql"
    for version in ("9.6", "15", "16"):
        for name in ("initdb", "postgres"):
            _executable(debian / version / "bin" / name)
    _executable(debian / "16" / "bin" / "initdb").with_name("postgres").unlink()  # half installed
    empty = tmp_path / "empty-path"
    empty.mkdir()
    assert find_bindir(debian, path=str(empty)) == debian / "15" / "bin"
    # /usr/local/bin/initdb is a symlink into a versioned directory: postgres is found beside it.
    local = tmp_path / "local-bin"
    local.mkdir()
    (local / "initdb").symlink_to(debian / "9.6" / "bin" / "initdb")
    assert find_bindir(debian, path=str(local)) == debian / "9.6" / "bin"


def test_no_postgres_found_skips_saying_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_bindir(tmp_path / "nothing", path=str(tmp_path)) is None
    monkeypatch.setattr(tests.postgres, "find_bindir", lambda **_: None)
    with pytest.raises(PostgresUnavailable) as missing:
        start_postgres()
    assert str(missing.value) == "PostgreSQL not installed: apt-get install postgresql"
    monkeypatch.delenv("WATCHER_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        tests.postgres._unavailable(str(missing.value))
    # CI, once it has installed the package, asks for failures instead of skips.
    monkeypatch.setenv("WATCHER_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install postgresql"):
        tests.postgres._unavailable(str(missing.value))
