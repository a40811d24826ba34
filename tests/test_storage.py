"""Storing less and writing in batches (issue 17): compressed snapshots, their migration, search over
them, what an unchanged pass adds, and `Store.batch()`."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.conftest import PageServer, html_page, write_config
from watcher.config import load_config
from watcher.diff import diff_blocks
from watcher.errors import StoreError
from watcher.models import Change, CheckResult, Snapshot, Source
from watcher.pipeline import digest
from watcher.runtime import check_once
from watcher.store import Store, reads
from watcher.store.codec import pack_text, unpack_text
from watcher.store.ops import retention
from watcher.store.schema import migrations
from watcher.store.snapshots import snippet

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TEXT = "\n".join(
    f"Paragraph {i}: the kinship carers allowance rises to £{i} a week, café included."
    for i in range(200)
)


def _snapshot(text: str, title: str = "Kinship care") -> Snapshot:
    return Snapshot(hash=digest(text), title=title, text=text, paths=("main/p[1]", "main/p[2]"))


def _store(tmp_path: Path, *names: str) -> Store:
    store = Store.open(tmp_path / "state")
    store.sync_sources(
        [Source(name=n, url=f"https://example.org/{n}", every=timedelta(hours=6)) for n in names],
        NOW,
    )
    return store


def test_codec_round_trips_any_text() -> None:
    for text in ("", "plain", TEXT, "émoji 🎉 and \u2028 separators\x00nul"):
        assert unpack_text(pack_text(text)) == text
    assert len(pack_text(TEXT)) < len(TEXT.encode()) / 4
    assert unpack_text(None, "legacy text") == "legacy text"


def test_snapshots_are_stored_compressed_and_read_back_identical(tmp_path: Path) -> None:
    store = _store(tmp_path, "dfe")
    snap = _snapshot(TEXT)
    store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=snap)
    text, ztext, paths = store.conn.execute("SELECT text, ztext, paths FROM snapshots").fetchone()
    assert text == "" and paths is None and zlib.decompress(ztext).decode() == TEXT
    assert store.snapshot(snap.hash) == snap
    assert reads.snapshot_text(store, snap.hash) == TEXT
    assert reads.snapshot_text(store, "0" * 64) is None
    store.close()


def test_a_database_at_m009_is_migrated_and_reads_back_identical(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db_conn = sqlite3.connect(path, isolation_level=None)
    migrations.apply(Database(db_conn), stop_before="m010_compressed_snapshots")
    snaps = [_snapshot(TEXT), _snapshot("Short page\nwith two blocks", "Other")]
    for s in snaps:
        db_conn.execute(
            "INSERT INTO snapshots (hash, title, text, created_at, paths) VALUES (?,?,?,?,?)",
            (
                s.hash,
                s.title,
                s.text,
                "2026-01-01T00:00:00.000+00:00",
                '["main/p[1]", "main/p[2]"]',
            ),
        )
    db_conn.close()

    store = Store(path)
    try:
        assert store.schema_version == len(migrations._migrations)
        for s in snaps:
            assert store.snapshot(s.hash) == s
        assert store.conn.execute("SELECT count(*) FROM snapshots WHERE text != ''").fetchone() == (
            0,
        )
        found = reads.search(store, "allowance")
        assert [h.hash for h in found.snapshots] == [snaps[0].hash]
        assert reads.search(store, "blocks").snapshots[0].title == "Other"
    finally:
        store.close()


def test_search_finds_snapshot_text_with_a_marked_snippet(tmp_path: Path) -> None:
    store = _store(tmp_path, "dfe")
    snap = _snapshot(TEXT)
    store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=snap)
    hits = reads.search(store, "allowance").snapshots
    assert [(h.hash, h.source) for h in hits] == [(snap.hash, "dfe")]
    assert "\ue000allowance\ue001" in hits[0].snippet
    assert reads.search(store, "cafe").snapshots  # diacritics folded by the index
    assert reads.search(store, "allow*").snapshots
    assert reads.search(store, "nowhere").snapshots == []
    later = _snapshot("A later version: the allowance is frozen.")
    store.record(CheckResult("dfe", "volatile", NOW, 5), snapshot=later)
    assert [h.hash for h in reads.search(store, "allowance").snapshots] == [later.hash, snap.hash]
    store.close()


def test_snippet_marks_words_and_cuts_with_ellipses() -> None:
    words = " ".join(f"w{i}" for i in range(100))
    cut = snippet(words + " target " + words, '"target"', words=8)
    assert cut.startswith("…") and cut.endswith("…")
    assert "\ue000target\ue001" in cut and len(cut.split()) == 8
    assert snippet("Consultation opens", '"consult" *') == "\ue000Consultation\ue001 opens"


def test_pruned_snapshots_leave_the_search_index(tmp_path: Path) -> None:
    store = _store(tmp_path, "dfe")
    old, new = _snapshot(TEXT), _snapshot("Replaced page about fostering")
    store.record(CheckResult("dfe", "baseline", NOW - timedelta(days=400), 5), snapshot=old)
    store.record(CheckResult("dfe", "volatile", NOW, 5), snapshot=new)
    assert retention(store, NOW, timedelta(days=30), timedelta(days=365)).snapshots == 1
    assert reads.search(store, "allowance").snapshots == []
    assert [h.hash for h in reads.search(store, "fostering").snapshots] == [new.hash]
    indexed = store.conn.execute(
        "SELECT count(*) FROM snapshots_fts WHERE snapshots_fts MATCH 'allowance'"
    ).fetchone()[0]
    assert indexed == 0
    store.close()


def _counts(store: Store) -> dict[str, int]:
    tables = [
        r[0]
        for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
            "AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: store.count(t) for t in tables}


def test_an_unchanged_pass_adds_only_check_rows(tmp_path: Path, site: PageServer) -> None:
    paras = ["The kinship allowance rises in April.", "A consultation opens in June."]
    names = ["a", "b", "c"]
    for n in names:
        site.set(f"/{n}", html_page(f"Page {n}", [*paras, f"About {n}."], sidebar="Story 1"))
    path = write_config(
        tmp_path / "sources.toml", [{"name": n, "url": site.url(f"/{n}")} for n in names]
    )
    config = load_config(path, environ={})
    asyncio.run(check_once(config))
    store = Store.open(config.settings.state_dir)
    try:
        for label in ("same bytes", "other bytes, same text"):
            if label != "same bytes":
                for n in names:
                    site.set(
                        f"/{n}", html_page(f"Page {n}", [*paras, f"About {n}."], sidebar="Story 2")
                    )
            before = _counts(store)
            results, _ = asyncio.run(check_once(config))
            assert {r.outcome for r in results} == {"unchanged"}, label
            after = _counts(store)
            grown = {t: after[t] - before[t] for t in after if after[t] != before[t]}
            assert grown == {"checks": 3}, label
    finally:
        store.close()


def _result(name: str, outcome: str = "baseline") -> CheckResult:
    return CheckResult(name, outcome, NOW, 5)  # type: ignore[arg-type]


def test_a_batch_commits_its_records_together(tmp_path: Path) -> None:
    store = _store(tmp_path, "a", "b")
    other = sqlite3.connect(store.path)
    with store.batch():
        store.record(_result("a"), snapshot=_snapshot("page a"))
        store.record(_result("b"), snapshot=_snapshot("page b"))
        store.save_host_evidence("example.org", {"main/p[1]": (2.0, 1.0)})
        # Nothing is visible to another reader until the batch ends.
        assert other.execute("SELECT count(*) FROM checks").fetchone() == (0,)
    assert other.execute("SELECT count(*) FROM checks").fetchone() == (2,)
    assert other.execute("SELECT count(*) FROM volatility").fetchone() == (1,)
    assert store.state("b").snapshot_hash == digest("page b")
    other.close()
    store.close()


def test_a_failing_record_in_a_batch_loses_only_its_own_rows(tmp_path: Path) -> None:
    store = _store(tmp_path, "a", "b", "c")
    good = _snapshot("page a")
    bad = Change(
        source="b",
        url="u",
        detected_at=NOW,
        before="missing",  # a foreign key no snapshot satisfies: fails after the check row
        after=digest("page b"),
        diff=diff_blocks(["x"], ["y"]),
        title="T",
        summary="s",
    )
    with pytest.raises(StoreError, match="boom"), store.batch():
        store.record(_result("a"), snapshot=good)
        with pytest.raises(sqlite3.IntegrityError):
            store.record(
                CheckResult("b", "changed", NOW, 5, change=bad), snapshot=_snapshot("page b")
            )
        store.record(_result("c"), snapshot=_snapshot("page c"))
        raise StoreError("boom")  # an error leaving the batch keeps what completed before it
    assert [r[0] for r in store.conn.execute("SELECT source FROM checks ORDER BY id")] == ["a", "c"]
    assert store.snapshot(digest("page b")) is None
    assert store.state("b").snapshot_hash is None
    assert store.snapshot(good.hash) == good
    assert not store.conn.in_transaction
    # The store is usable after a batch, batched or not.
    store.record(_result("b"), snapshot=_snapshot("page b"))
    assert store.count("checks") == 3
    store.close()


def test_a_batch_inside_a_batch_is_one_batch(tmp_path: Path) -> None:
    store = _store(tmp_path, "a", "b")
    with store.batch():
        store.record(_result("a"))
        with store.batch():
            store.record(_result("b"))
        assert store.conn.in_transaction
    assert not store.conn.in_transaction and store.count("checks") == 2
    store.close()
