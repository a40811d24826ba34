"""A throwaway PostgreSQL server for tests: a cluster in a temp dir, listening on 127.0.0.1 only.

`postgres` (session) starts one server and yields a URL to its `watcher` database;
`postgres_db` (per test) creates a fresh database on that server and drops it afterwards.
Both skip, with the reason in pytest's summary, where PostgreSQL is not installed or will not
start; with WATCHER_REQUIRE_POSTGRES=1 (set by `.ci/run` once the package is installed) they
fail instead, so a broken harness cannot pass CI as a row of skips.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

INSTALL_HINT = "PostgreSQL not installed: apt-get install postgresql"
# Debian installs the server programs per major version, outside PATH.
DEBIAN_ROOT = Path("/usr/lib/postgresql")
REQUIRED = ("initdb", "postgres")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
USER = "watcher"
_PR_SET_PDEATHSIG = 1
# Loaded here, not in the forked child, where only async-signal-safe calls belong.
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


class PostgresUnavailable(Exception):
    """PostgreSQL is missing or would not start; the message says which and how to fix it."""


def find_bindir(
    debian_root: Path | None = None, path: str | None = None, override: str | None = None
) -> Path | None:
    """The directory holding initdb and postgres: PG_BINDIR, then PATH, then Debian's newest."""
    debian_root = debian_root or DEBIAN_ROOT
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    # /usr/local/bin/initdb may be a symlink into /usr/lib/postgresql/<ver>/bin; postgres must
    # come from the same version, so look beside the resolved file.
    on_path = shutil.which("initdb", path=path)
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    if debian_root.is_dir():
        versions = [d for d in debian_root.iterdir() if re.fullmatch(r"\d+(\.\d+)?", d.name)]
        versions.sort(key=lambda d: [int(p) for p in d.name.split(".")], reverse=True)
        candidates += [d / "bin" for d in versions]
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in REQUIRED):
            return bindir
    return None


def free_port() -> int:
    """A port free on 127.0.0.1 now (postgres needs the number before it binds)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_account() -> pwd.struct_passwd | None:
    """Who runs the server: None for ourselves, or an unprivileged account when we are root."""
    if os.geteuid() != 0:
        return None
    # initdb and postgres refuse to run as root.
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no 'postgres' or 'nobody' account to run as")


@dataclass
class PostgresServer:
    """One running throwaway server; `stop` removes every trace of it."""

    root: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]

    def url(self, database: str = USER) -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT is PostgreSQL's fast shutdown: clients are cut off, nothing is waited for.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def stop_only(server: PostgresServer) -> None:
    """Stop the server as an operator's restart does (fast shutdown), keeping its data."""
    server.process.send_signal(signal.SIGINT)
    server.process.wait(STOP_TIMEOUT)


def start_again(server: PostgresServer) -> None:
    """Start a server `stop_only` stopped, on the same data and port."""
    import psycopg

    bindir = find_bindir(override=os.environ.get("PG_BINDIR"))
    assert bindir is not None
    server.process = _spawn(bindir, server.root, server.port, server_account())
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                raise PostgresUnavailable(
                    f"postgres did not start again: {server.log()[-500:]}"
                ) from None
            time.sleep(0.05)


def _die_with_parent() -> None:
    # A pytest killed outright (SIGKILL, a CI timeout) would otherwise leave the server running on
    # a shared machine. SIGQUIT is PostgreSQL's immediate shutdown. The signal comes when the
    # thread that started the server ends, so start it from the main thread (fixtures do).
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)


def _initdb(bindir: Path, root: Path, account: pwd.struct_passwd | None) -> str:
    password = secrets.token_urlsafe(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if account:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    # A password, not trust: the machine is shared and 127.0.0.1 is open to every local user.
    args = [str(bindir / "initdb"), "-D", str(root / "data"), "-U", USER, "--pwfile", str(pwfile)]
    args += ["-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
    )
    pwfile.unlink()
    if done.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
    return password


def _spawn(
    bindir: Path, root: Path, port: int, account: pwd.struct_passwd | None
) -> subprocess.Popen[bytes]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(root),
        # Durability is worthless for a cluster deleted at the end of the session.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "16MB",
        "max_connections": "40",
    }
    args = [str(bindir / "postgres"), "-D", str(root / "data")]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    with open(root / "server.log", "wb") as log:
        return subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C at the terminal reaches pytest, which stops the server
            # in order, instead of reaching the server in the middle of a test.
            start_new_session=True,
            preexec_fn=_die_with_parent,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )


def _wait_ready(server: PostgresServer, deadline: float) -> None:
    import psycopg

    while True:
        if server.process.poll() is not None:
            raise PostgresUnavailable(f"postgres exited: {server.log().strip()[-500:]}")
        try:
            with psycopg.connect(server.url("postgres"), connect_timeout=2, autocommit=True) as db:
                db.execute(f"CREATE DATABASE {USER}")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"postgres did not accept connections in {START_TIMEOUT:.0f}s: "
                    f"{server.log().strip()[-500:]}"
                ) from None
            time.sleep(0.05)


def start_postgres(bindir: Path | None = None) -> PostgresServer:
    """Create a cluster in a fresh temp dir and start it on a free loopback port.

    Call it from the main thread: the server stops when the calling thread ends.
    """
    bindir = bindir or find_bindir(override=os.environ.get("PG_BINDIR"))
    if bindir is None:
        raise PostgresUnavailable(INSTALL_HINT)
    account = server_account()
    # mkdtemp, not pytest's tmp_path: pytest's base directory is private to us, and the server
    # account must be able to reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="watcher-pg-"))
    try:
        if account:
            os.chown(root, account.pw_uid, account.pw_gid)
        password = _initdb(bindir, root, account)
        # Another process may take the free port before postgres binds it; a few tries settle it.
        for attempt in range(3):
            port = free_port()
            server = PostgresServer(root, port, password, _spawn(bindir, root, port, account))
            try:
                _wait_ready(server, time.monotonic() + START_TIMEOUT)
                return server
            except PostgresUnavailable:
                server.process.kill()
                server.process.wait()
                if attempt == 2 or "could not bind" not in server.log():
                    raise
        raise AssertionError("unreachable")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("WATCHER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"WATCHER_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except ImportError:
        _unavailable("psycopg not installed: pip install -e '.[dev]'")
    except PostgresUnavailable as e:
        _unavailable(str(e))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres(postgres_server: PostgresServer) -> str:
    """The URL of a database on a throwaway PostgreSQL server, shared by the session."""
    return postgres_server.url()


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    import psycopg

    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_server.url(name)
    finally:
        with psycopg.connect(postgres_server.url(), autocommit=True) as db:
            db.execute(f"DROP DATABASE {name} WITH (FORCE)")
