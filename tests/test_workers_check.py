"""`watcher check` as one of several workers on one PostgreSQL store: each process takes its
share of the sites by lease, skips (and counts) those another worker holds or that are not due,
and on SQLite claims nothing.

Sites are host names: every one of these spellings reaches 127.0.0.1 and is its own site. The
shorthand numeric forms ("127.1", "127.0.1", "2130706433", "0x7f.0.0.1") are refused by the
config loader (parsers disagree on them), so the IPv4-mapped IPv6 spellings of 127.0.0.1 stand in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import PageServer, html_page, write_config
from tests.engines import open_on

HOSTS = (
    "127.0.0.1",
    "localhost",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[0::ffff:127.0.0.1]",
)
PAGES = 4  # per site
TIMEOUT = 120


def _sources(site: PageServer, delay: float = 0.0) -> list[dict[str, str]]:
    sources = []
    for h, host in enumerate(HOSTS):
        for p in range(PAGES):
            path = f"/s{h}p{p}"
            site.set(path, html_page(f"Page {h}.{p}", [f"Text of page {h}.{p}."]), delay=delay)
            url = site.url(path).replace("127.0.0.1", host, 1)
            sources.append({"name": f"s{h}p{p}", "url": url, "every": "1h"})
    return sources


def _check(config: Path, database: str | None, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    if database:
        env["WATCHER_DATABASE_URL"] = database
    return subprocess.Popen(
        [sys.executable, "-m", "watcher.cli", "check", "--config", str(config), *args],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, list[str], str]:
    """Exit code, the names of the sources it checked, and its stderr."""
    out, err = proc.communicate(timeout=TIMEOUT)
    names = [line.split()[1] for line in out.splitlines() if line and not line[0].isspace()]
    return proc.returncode, names, err


def test_three_checks_at_once_split_the_sites_and_check_none_twice(
    tmp_path: Path, site: PageServer, postgres_db: str
) -> None:
    # A short wait per page keeps each site's pass open while the other processes claim.
    sources = _sources(site, delay=0.05)
    config = write_config(tmp_path / "sources.toml", sources, watcher="concurrency = 2")
    procs = [_check(config, postgres_db, "--worker", f"w{k}") for k in range(3)]
    done = [_finish(p) for p in procs]
    for code, _, err in done:
        assert code == 0, err
    checked = Counter(name for _, names, _ in done for name in names)
    assert checked == Counter(s["name"] for s in sources)  # every source once, none twice
    for s in sources:
        assert len(site.requests("/" + s["name"], "GET")) == 1
    for _, names, err in done:
        sites = {n.split("p")[0] for n in names}
        # What a process did not check, it says it skipped: held by another, or already done.
        said = re.findall(r"(\d+) sites? (?:held by other workers|not due yet)", err)
        assert sum(int(n) for n in said) == len(HOSTS) - len(sites)
    store = open_on(tmp_path, postgres_db)
    try:
        rows = store.conn.execute("SELECT source, count(*) FROM checks GROUP BY source")
        assert dict(rows.fetchall()) == {s["name"]: 1 for s in sources}
        claims = store.site_claims()
        assert set(claims) == {h.strip("[]") for h in HOSTS}
        assert all(worker is None and due for worker, _, due in claims.values())
        assert set(store.workers_seen()) == {"w0", "w1", "w2"}
    finally:
        store.close()


def test_a_held_site_is_skipped_and_a_checked_one_is_not_due_again(
    tmp_path: Path, site: PageServer, postgres_db: str
) -> None:
    sources = _sources(site)
    config = write_config(tmp_path / "sources.toml", sources)
    store = open_on(tmp_path, postgres_db)
    try:
        now = datetime.now(UTC)
        store.beat("other", now)
        assert store.claim_sites("other", ["localhost"], now, now + timedelta(minutes=10))
        code, names, err = _finish(_check(config, postgres_db, "--worker", "me"))
        assert code == 0, err
        assert sorted(names) == sorted(s["name"] for s in sources if "localhost" not in s["url"])
        assert "1 site held by other workers, skipped" in err
        assert "20 checked: 0 changed, 0 failed" in err
        assert store.site_claims()["localhost"][0] == "other"

        store.release_site("other", "localhost", None)
        code, names, err = _finish(_check(config, postgres_db, "--worker", "me"))
        assert code == 0, err
        assert names == [f"s1p{p}" for p in range(PAGES)]  # only the site freed was due
        assert f"{len(HOSTS) - 1} sites not due yet, skipped" in err
    finally:
        store.close()


def test_check_on_sqlite_claims_nothing(tmp_path: Path, site: PageServer) -> None:
    sources = _sources(site)
    config = write_config(tmp_path / "sources.toml", sources)
    for _ in range(2):  # a second pass is not "not due": a single worker checks every time
        code, names, err = _finish(_check(config, None, "--worker", "me"))
        assert code == 0, err
        assert sorted(names) == sorted(s["name"] for s in sources)
        assert "skipped" not in err
    store = open_on(tmp_path, None)
    try:
        assert store.site_claims() == {}
        assert store.workers_seen() == {}
    finally:
        store.close()
