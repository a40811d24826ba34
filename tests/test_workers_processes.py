"""Three `watcher run` workers on one PostgreSQL, 200 loopback sources changing over passes: each
change recorded once, each alert delivered once, no host fetched by two workers at once; and
when a worker is killed with SIGKILL in the middle of a site's pass, the others finish its
sources once its heartbeat has gone silent.

Sites are host names: every name here reaches 127.0.0.1 (the test talks to nothing else), and
each is its own site to the workers, which is what they claim.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, Hit, PageServer, html_page
from watcher.store import Store, parse_iso

pytestmark = pytest.mark.slow

SOURCES = 200
CHANGED = 20  # a tenth of the sources gain a funding sentence in the second round
DELAY = 0.03  # seconds each page takes to answer: requests overlapping on one host would show
EVERY = "10s"


def loopback_names() -> list[str]:
    """127.0.0.1, localhost, and the other names /etc/hosts gives 127.0.0.1 on this machine."""
    names = ["127.0.0.1", "localhost"]
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if fields[:1] == ["127.0.0.1"]:
            for name in fields[1:]:
                if name not in names and name.isalnum():
                    try:
                        if socket.gethostbyname(name) == "127.0.0.1":
                            names.append(name)
                    except OSError:
                        continue
    return names[:6]


def wait(until: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until():
            return True
        time.sleep(step)
    return until()


def page(n: int, changed: bool) -> str:
    words = [f"Page {n} describes local children's services, item {n}."]
    if changed:
        words.append(f"The council announces funding of {n + 1} million pounds for kinship carers.")
    return html_page(f"Services {n}", words)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[str]]]:
    started: dict[str, subprocess.Popen[str]] = {}
    yield started
    for proc in started.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_three_workers_share_the_work_and_survive_one_killed(
    tmp_path: Path,
    site: PageServer,
    receiver: PageServer,
    postgres_db: str,
    workers: dict[str, subprocess.Popen[str]],
) -> None:
    hosts = loopback_names()
    assert len(hosts) >= 2
    receiver.set("/hook", b"{}")
    names: dict[str, int] = {}
    lines = [
        "[watcher]",
        'state_dir = "state"',
        'per_host_gap = "0s"',
        "per_host_concurrency = 1",
        'timeout = "5s"',
        'alert_hold = "0s"',
        'heartbeat_every = "1s"',
        "[egress]",
        'allow_cidrs = ["127.0.0.0/8"]',
        "[[notify]]",
        'name = "hook"',
        'env = "HOOK"',
        'format = "json"',
    ]
    for n in range(SOURCES):
        site.set(f"/p{n}", page(n, changed=False), delay=DELAY)
        host = hosts[n % len(hosts)]
        names[f"p{n}"] = n
        url = site.url(f"/p{n}").replace("127.0.0.1", host, 1)
        lines += ["[[source]]", f'name = "p{n}"', f'url = "{url}"', f'every = "{EVERY}"']
    config = tmp_path / "sources.toml"
    config.write_text("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "WATCHER_DATABASE_URL": postgres_db,
        "HOOK": f"json://127.0.0.1:{receiver.port}/hook",
        "WATCHER_LISTEN": "off",
    }
    for name in ("w1", "w2", "w3"):
        workers[name] = subprocess.Popen(
            [sys.executable, "-m", "watcher.cli", "run", "--config", str(config), "--worker", name],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    store = Store.connect(postgres_db)
    try:

        def checked_sources(since: str = "") -> set[str]:
            rows = store.conn.execute(
                "SELECT DISTINCT source FROM checks WHERE started_at >= ?", (since,)
            ).fetchall()
            return {r[0] for r in rows}

        def held_by(worker: str) -> list[str]:
            now = datetime.now().astimezone()
            return [
                s
                for s, (w, until, _) in store.site_claims().items()
                if w == worker and until and parse_iso(until) > now
            ]

        assert wait(lambda: len(checked_sources()) == SOURCES, 90), "the first pass never ended"

        # Round 2: a tenth of the pages gain a funding sentence; a worker is killed mid-pass.
        edited_at = store_now(store)
        changed = list(range(0, SOURCES, SOURCES // CHANGED))
        for n in changed:
            site.set(f"/p{n}", page(n, changed=True), delay=DELAY)
        victim_sites: list[str] = []
        victim: list[str] = []
        before = len(site.hits)

        def one_in_a_pass() -> bool:
            # Each worker's jobs keep their phase, so one may win no site: whichever holds one
            # with some of its pages fetched since the edit, and most not, is in mid-pass.
            for worker in workers:
                held = held_by(worker)
                fresh = [h for h in site.hits[before:] if _host(h) in held]
                if held and 2 <= len(fresh) < SOURCES // len(hosts) // 2:
                    victim.append(worker)
                    victim_sites.extend(held)
                    return True
            return False

        assert wait(one_in_a_pass, 60, step=0.01), "no worker was seen in a site's pass"
        [killed] = victim
        workers[killed].send_signal(signal.SIGKILL)
        workers[killed].wait(timeout=10)
        killed_at = store_now(store)

        def round_two_done() -> bool:
            return (
                store.count("changes") >= len(changed)
                and len(checked_sources(edited_at)) == SOURCES
            )

        assert wait(round_two_done, 90), f"the others did not finish {killed}'s sources"
        # Another round of passes: nothing more may be recorded or sent.
        time.sleep(12)
        others = [name for name in workers if name != killed]
        for name in others:
            workers[name].send_signal(signal.SIGTERM)
        for name in others:
            _, err = workers[name].communicate(timeout=30)
            assert workers[name].returncode == 0, err[-2000:]

        # Every change recorded exactly once, on the pages that changed.
        rows = store.conn.execute("SELECT source FROM changes").fetchall()
        assert sorted(names[r[0]] for r in rows) == changed
        # The victim's sites were checked after the kill, by the others.
        after = store.conn.execute(
            "SELECT DISTINCT source FROM checks WHERE started_at >= ?", (killed_at,)
        ).fetchall()
        victims = {s for s, n in names.items() if hosts[n % len(hosts)] in victim_sites}
        assert victims <= {r[0] for r in after}
        # Every alert delivered exactly once.
        sent = dict(
            store.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )
        assert sent == {"sent": len(changed)}, sent
    finally:
        store.close()
    posts = [json.loads(p.body) for p in receiver.requests("/hook", "POST")]
    ids = [p["id"] for p in posts]
    assert len(ids) == len(set(ids)) == len(changed), ids
    # No host was fetched by two workers at once: each worker asks a host one page at a time, so
    # two requests to one host overlapping in time came from two workers.
    by_host: dict[str, list[float]] = defaultdict(list)
    for hit in site.hits:
        by_host[_host(hit)].append(hit.at)
    for host, starts in by_host.items():
        starts.sort()
        overlaps = [b - a for a, b in itertools.pairwise(starts) if b - a < DELAY * 0.8]
        assert not overlaps, (host, overlaps[:5])


def _host(hit: Hit) -> str:
    return hit.headers.get("Host", "").rsplit(":", 1)[0]


def store_now(store: Store) -> str:
    """Now, as the store writes times (ISO text compares in time order)."""
    from watcher.store import iso

    del store
    return iso(datetime.now(UTC))
