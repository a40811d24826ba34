"""`watcher migrate --to`: a real state (the seed pages checked over loopback, with alerts,
reviews, corrections, topics and stories) copied by the real command into another store, then
compared: counts and hashes, search, and the web app's timeline on both.

The target comes from the `copy_target` fixture: a fresh SQLite state, and a fresh PostgreSQL
database; the same tests run against both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.conftest import PageServer
from tests.storydata import fill_seeds, shipped_topics
from tests.test_cli import out, watcher
from watcher.config import Config
from watcher.config.types import Secret
from watcher.errors import CopyError
from watcher.store import Store, reads
from watcher.store.codec import pack_text
from watcher.store.copy import SKIPPED, TABLES, copy_state, state_tables
from watcher.store.copy_verify import table_digest, verify_copy
from watcher.store.target import open_target, parse_target
from watcher.web.app import create_app

PASSWORD = "s3cret-pass-word"
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


@dataclass
class CopyTarget:
    """Where a copy goes: `spec` as `--to` takes it, or a URL passed through `env` (its name in
    `args`); `web` builds the web app over the target for a config."""

    spec: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    web: Callable[[Config], Starlette] | None = None

    def open(self) -> Store:
        return open_target(parse_target(self.spec))


@pytest.fixture(params=["sqlite", "postgresql"])
def copy_target(request: pytest.FixtureRequest, tmp_path: Path) -> CopyTarget:
    """A fresh, empty store to copy into: a SQLite state, or a fresh PostgreSQL database passed
    as WATCHER_DATABASE_URL (which the web app over it then reads as its configured database)."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_db"))

        def web(config: Config) -> Starlette:
            settings = replace(config.settings, database=Secret(url))
            return create_app(replace(config, settings=settings))

        env = {"WATCHER_DATABASE_URL": url}
        return CopyTarget(url, ["--to-env", "WATCHER_DATABASE_URL"], env, web=web)
    db = tmp_path / "target" / "watcher.db"
    spec = f"sqlite:{db.parent}"
    return CopyTarget(spec, ["--to", spec], web=lambda config: create_app(config, store_path=db))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """The seed pages watched and changed, an alert per change, then staff judgements, a web
    login and a daemon heartbeat on top."""
    site = PageServer().start()
    receiver = PageServer().start()
    receiver.set("/hook", b"{}")
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    try:
        config, _ = fill_seeds(
            tmp_path_factory.mktemp("seeds"), site, env, [("hook", "HOOK")], shipped_topics()
        )
    finally:
        site.stop()
        receiver.stop()
    store = Store.open(config.settings.state_dir)
    try:
        first, second = [c.id for c in store.changes()][:2]
        store.review(first, "needs_action", "ana", "call the team", NOW)
        store.review(second, "reviewed", "ben", "", NOW)
        store.correct(second, "guidance", "ben", "a guidance update", NOW)
        store.session_start("sid-1", "ana", NOW, NOW + timedelta(hours=8))
        store.set_meta("heartbeat", NOW.isoformat())
        store.set_meta("calendar_key", "kept")
    finally:
        store.close()
    yield config


def _copy(config: Config, target: CopyTarget) -> tuple[int, str, str]:
    proc = watcher(
        "migrate",
        "--config",
        str(config.path),
        *target.args,
        cwd=config.path.parent,
        env=target.env,
    )
    return proc.returncode, out(proc), proc.stderr.decode()


def _printed(text: str) -> dict[str, tuple[int, str, str]]:
    return {
        m[1]: (int(m[2]), m[3], m[4])
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+([0-9a-f]{12})\s+(\S+)", text, re.M)
    }


def test_a_copy_prints_each_table_with_counts_and_hashes_that_match(
    seeded: Config, copy_target: CopyTarget
) -> None:
    code, stdout, stderr = _copy(seeded, copy_target)
    assert code == 0, stderr
    printed = _printed(stdout)
    source = Store.open(seeded.settings.state_dir)
    target = copy_target.open()
    try:
        for table in TABLES:
            rows, digest = table_digest(source, table, source.columns(table.name))
            assert printed[table.name] == (rows, digest[:12], "ok"), table.name
            assert table_digest(target, table, source.columns(table.name)) == (rows, digest)
        # Everything the issue names is there, not just equal on two empty sides.
        for name in ("checks", "snapshots", "changes", "outbox", "reviews", "corrections"):
            assert printed[name][0] > 0, name
        for name in ("volatility", "change_topics", "stories", "story_links", "deadlines"):
            assert printed[name][0] > 0, name
        assert target.meta("calendar_key") == "kept"
        assert target.meta("heartbeat") is None  # the new deployment's daemon beats for itself
        assert source.count("web_sessions") == 1 and target.count("web_sessions") == 0
        assert [c.title for c in target.changes()] == [c.title for c in source.changes()]
        assert target.corrections() == source.corrections()
    finally:
        source.close()
        target.close()
    assert "not copied: web_sessions" in stdout
    assert PASSWORD not in stdout + stderr


def test_search_on_the_copy_finds_change_words_and_page_words(
    seeded: Config, copy_target: CopyTarget
) -> None:
    assert _copy(seeded, copy_target)[0] == 0
    source = Store.open(seeded.settings.state_dir)
    target = copy_target.open()
    try:
        change = source.changes()[0]
        word = max(re.findall(r"[A-Za-z]{6,}", change.title), key=len)
        found = reads.search(target, word)
        assert change.id in [hit.id for hit in found.changes.items]
        theirs = [h.id for h in reads.search(source, word).changes.items]
        if target.engine == source.engine:
            assert [h.id for h in found.changes.items] == theirs
        else:  # bm25 and ts_rank_cd rank the same hits differently
            assert sorted(h.id for h in found.changes.items) == sorted(theirs)
        # Page search has its own index (filled as each snapshot is written on the target).
        page = source.snapshot(change.after_hash)
        assert page is not None
        only_page = max(sorted(set(re.findall(r"[A-Za-z]{7,}", page.text))), key=len)
        hits = reads.search(target, only_page).snapshots
        assert change.after_hash in [h.hash for h in hits]
        assert hits == reads.search(source, only_page).snapshots
    finally:
        source.close()
        target.close()


def test_the_web_app_shows_the_same_timeline_on_the_copy(
    seeded: Config, copy_target: CopyTarget
) -> None:
    assert _copy(seeded, copy_target)[0] == 0
    assert copy_target.web is not None

    def timeline(app: Starlette) -> tuple[list[str], object]:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            api = client.get("/api/v1/changes", params={"per_page": 100}).json()
            html = client.get("/").text
        found = re.findall(r'<h2 class="change-title"><a href="/changes/\d+">([^<]+)</a>', html)
        titles = [unescape(t) for t in found]
        return titles, api

    source_titles, source_api = timeline(create_app(seeded))
    target_titles, target_api = timeline(copy_target.web(seeded))
    assert source_api == target_api
    assert isinstance(source_api, dict) and len(source_api["items"]) >= 5
    assert [c["title"] for c in source_api["items"]] == [c["title"] for c in target_api["items"]]  # type: ignore[index]
    assert source_titles == target_titles
    assert source_titles[:5] == [c["title"] for c in source_api["items"]][:5]  # type: ignore[index]


def test_a_target_holding_data_is_refused_with_nothing_written(
    seeded: Config, copy_target: CopyTarget
) -> None:
    assert _copy(seeded, copy_target)[0] == 0
    target = copy_target.open()
    try:
        before = [table_digest(target, t, target.columns(t.name)) for t in TABLES]
        checks = target.count("checks")
    finally:
        target.close()
    code, stdout, stderr = _copy(seeded, copy_target)
    assert code == 2 and "sha256" not in stdout
    assert stderr.strip().splitlines() == [
        f"watcher: error: the target already holds {checks} checks; copy into an empty database"
    ]
    target = copy_target.open()
    try:
        assert [table_digest(target, t, target.columns(t.name)) for t in TABLES] == before
    finally:
        target.close()


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (
            ["--to-env", "WATCHER_DATABASE_URL"],
            {"WATCHER_DATABASE_URL": f"postgresql://watcher:{PASSWORD}@127.0.0.1:1/watcher"},
            "cannot reach the database at 127.0.0.1:1/watcher",
        ),
        (["--to", f"postgresql://watcher:{PASSWORD}@127.0.0.1:1/w"], {}, "--to-env"),
        (["--to-env", "WATCHER_DATABASE_URL"], {}, "WATCHER_DATABASE_URL is not set"),
        (["--to", "ftp://example.org/x"], {}, "not a store watcher can copy into"),
        (["--to", "sqlite:/proc/watcher-copy/x"], {}, "cannot create the target directory"),
    ],
)
def test_a_bad_or_unreachable_target_is_one_line_without_the_password(
    seeded: Config, args: list[str], env: dict[str, str], says: str
) -> None:
    proc = watcher("migrate", "--config", str(seeded.path), *args, cwd=seeded.path.parent, env=env)
    stderr = proc.stderr.decode()
    assert proc.returncode != 0
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert says in stderr
    assert PASSWORD not in stderr + out(proc)


def test_every_table_of_a_state_is_copied_or_skipped_for_a_reason(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        tables = state_tables(store)
    finally:
        store.close()
    assert "changes" in tables and "snapshots_fts_data" not in tables
    copied = {t.name for t in TABLES}
    assert [t for t in tables if t not in copied and t not in SKIPPED] == []


def test_a_difference_after_the_copy_is_found(seeded: Config, tmp_path: Path) -> None:
    source = Store.open(seeded.settings.state_dir)
    target = Store.open(tmp_path / "target")
    try:
        report = copy_state(source, target)
        assert report.ok and report.differing == []
        with target.transaction() as c:
            c.execute("UPDATE volatility SET seen = seen + 0.5 WHERE rowid = 1")
            c.execute(
                "UPDATE snapshots SET ztext = ? WHERE rowid = 1", (pack_text("another text"),)
            )
        assert [c.name for c in verify_copy(source, target) if not c.ok] == [
            "snapshots",
            "volatility",
        ]
    finally:
        source.close()
        target.close()


def test_a_sqlite_target_names_no_secret_and_takes_a_db_file(tmp_path: Path) -> None:
    assert parse_target(f"sqlite:{tmp_path}").path == tmp_path / "watcher.db"
    assert parse_target(str(tmp_path / "x.db")).path == tmp_path / "x.db"
    url = parse_target(f"postgresql://u:{PASSWORD}@db.internal:5433/watcher")
    assert url.shown == "postgresql://db.internal:5433/watcher"


def test_a_target_without_a_column_of_the_source_is_refused(seeded: Config, tmp_path: Path) -> None:
    source = Store.open(seeded.settings.state_dir)
    target = Store.open(tmp_path / "target")
    try:
        target.conn.execute("ALTER TABLE sources DROP COLUMN stale_at")
        with pytest.raises(CopyError, match="no sources column stale_at"):
            copy_state(source, target)
        assert target.count("snapshots") == 0
    finally:
        source.close()
        target.close()


def test_a_row_the_target_refuses_stops_the_copy_naming_the_table(
    seeded: Config, tmp_path: Path
) -> None:
    source = Store.open(seeded.settings.state_dir)
    target = Store.open(tmp_path / "target")
    try:
        target.conn.execute("CREATE UNIQUE INDEX one_outcome ON checks(outcome)")
        with pytest.raises(
            CopyError,
            match=r"^copying checks: the target refused a row .*"
            r"tables copied before it: snapshots, sources;",
        ):
            copy_state(source, target)
        assert target.count("checks") == 0  # the table's transaction is rolled back whole
        assert target.count("sources") == source.count("sources")
    finally:
        source.close()
        target.close()
