"""The store on both engines (tests/engines.py): migrations, one transaction per check, and
refusal of unknown schemas; SQLite's pragmas and file errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.engines import open_on
from watcher.diff import diff_blocks
from watcher.errors import StoreError
from watcher.models import Change, CheckResult, Snapshot, Source, Validators
from watcher.pipeline import digest
from watcher.store import Store, migrations
from watcher.store.engine import IntegrityError

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SOURCE = Source(
    name="dfe", url="https://www.gov.uk/x", every=__import__("datetime").timedelta(hours=6)
)


def _snapshot(text: str) -> Snapshot:
    return Snapshot(hash=digest(text), title="T", text=text)


def _change(before: Snapshot, after: Snapshot) -> Change:
    diff = diff_blocks(before.text.split("\n"), after.text.split("\n"))
    return Change(
        source="dfe",
        url=SOURCE.url,
        detected_at=NOW,
        before=before.hash,
        after=after.hash,
        diff=diff,
        title="T",
        summary="s",
    )


@pytest.fixture
def store(engine_store: Store) -> Store:
    engine_store.sync_sources([SOURCE], NOW)
    return engine_store


def test_pragmas_and_schema(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    conn = store.sqlite
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert store.schema_version == len(migrations._migrations)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sources", "checks", "snapshots", "changes", "outbox", "meta"} <= tables


def test_reopening_migrates_nothing_twice(
    tmp_path: Path, database: str | None, store: Store
) -> None:
    assert store.schema_version == len(migrations._migrations)
    store.close()
    again = open_on(tmp_path, database)
    assert again.schema_version == len(migrations._migrations)
    assert again.state("dfe").error_streak == 0  # the row synced before reopening is still there
    again.close()


def test_a_newer_schema_is_refused(tmp_path: Path, database: str | None, store: Store) -> None:
    if store.engine == "sqlite":
        store.conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('watcher', 'm999_future', 'x')"
        )
    else:
        store.conn.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES ('m999_future', 'x')"
        )
    store.close()
    with pytest.raises(StoreError, match=r"newer watcher.*m999_future"):
        open_on(tmp_path, database)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "watcher.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="restore it from a backup"):
        Store.open(state)


def test_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="writable directory"):
        Store.open(blocker / "state")


def test_snapshots_are_content_addressed(store: Store) -> None:
    a = _snapshot("one\ntwo")
    store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=a, body_hash="b1")
    store.record(CheckResult("dfe", "unchanged", NOW, 5), snapshot=a, body_hash="b2")
    assert store.count("snapshots") == 1
    assert store.state("dfe").snapshot_hash == a.hash
    assert store.state("dfe").body_hash == "b2"


def test_a_check_writes_check_snapshot_change_and_outbox_together(store: Store) -> None:
    a, b = _snapshot("one\ntwo"), _snapshot("one\nthree")
    store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=a)
    change_id = store.record(
        CheckResult("dfe", "changed", NOW, 5, change=_change(a, b)),
        snapshot=b,
        validators=Validators(etag='"e"'),
        targets=["mail", "hook"],
    )
    assert change_id is not None
    assert [(r.change_id, r.target, r.status) for r in store.outbox()] == [
        (change_id, "mail", "pending"),
        (change_id, "hook", "pending"),
    ]
    row = store.changes()[0]
    assert list(row.added) == ["three"] and list(row.removed) == ["two"]
    assert store.state("dfe").validators.etag == '"e"'


def test_a_failure_mid_transaction_leaves_nothing_behind(store: Store) -> None:
    a, b = _snapshot("one"), _snapshot("two")
    store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=a)
    counts = {t: store.count(t) for t in ("checks", "snapshots", "changes", "outbox")}
    # A change that points at a snapshot that does not exist violates a foreign key at insert time,
    # after the check and snapshot rows were already written inside the transaction.
    bad = Change(
        source="dfe",
        url="u",
        detected_at=NOW,
        before="missing",
        after=b.hash,
        diff=diff_blocks(["one"], ["two"]),
        title="T",
        summary="s",
    )
    with pytest.raises(IntegrityError):
        store.record(
            CheckResult("dfe", "changed", NOW, 5, change=bad), snapshot=b, targets=["mail"]
        )
    assert {t: store.count(t) for t in counts} == counts
    assert store.state("dfe").snapshot_hash == a.hash


def test_error_checks_keep_the_snapshot_and_count_the_streak(store: Store) -> None:
    a = _snapshot("one")
    store.record(
        CheckResult("dfe", "baseline", NOW, 5), snapshot=a, validators=Validators(etag='"1"')
    )
    for _ in range(3):
        store.record(CheckResult("dfe", "error", NOW, 5, error_reason="timeout", error="slow"))
    state = store.state("dfe")
    assert (
        state.snapshot_hash == a.hash and state.error_streak == 3 and state.validators.etag == '"1"'
    )
    store.record(CheckResult("dfe", "unchanged", NOW, 5))
    assert store.state("dfe").error_streak == 0
