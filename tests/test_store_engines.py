"""Every part of the Store, the same calls on SQLite and on PostgreSQL (tests/engines.py): checks,
snapshots, changes and outbox; claims; reads, filters and search; reviews; sessions; staleness;
stories; topics; publications; the archive; ops (health, counts, retention, figures)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from watcher.diff import diff_blocks
from watcher.errors import StoreError
from watcher.models import (
    Change,
    CheckResult,
    Deadline,
    Evidence,
    Item,
    Publication,
    Snapshot,
    Source,
)
from watcher.pipeline import digest
from watcher.rows import LoginFailures
from watcher.store import Store, archive, ops, reads
from watcher.store.engine import IntegrityError
from watcher.store.topics import topics_of, weekly_counts

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DFE = Source(name="dfe", url="https://www.gov.uk/x", every=timedelta(hours=6), tags=("policy",))
CHARITY = Source(
    name="charity", url="https://charity.example/news", every=timedelta(hours=6), tags=("sector",)
)
STORE_DIR = Path(__file__).resolve().parent.parent / "watcher" / "store"


def _snap(text: str, title: str = "T", links: tuple[tuple[str, str], ...] = ()) -> Snapshot:
    return Snapshot(hash=digest(title + text), title=title, text=text, links=links)


def _change(
    source: Source, before: Snapshot, after: Snapshot, at: datetime, **kw: object
) -> Change:
    diff = diff_blocks(before.text.split("\n"), after.text.split("\n"))
    return Change(
        source=source.name,
        url=source.url,
        detected_at=at,
        before=before.hash,
        after=after.hash,
        diff=diff,
        title=str(kw.pop("title", after.title)),
        summary=str(kw.pop("summary", "A change")),
        **kw,  # type: ignore[arg-type]
    )


def _changed(
    store: Store, source: Source, old: str, new: str, at: datetime, **kw: object
) -> tuple[int, Snapshot]:
    """A baseline then a change of `source`; the change's id and its new snapshot."""
    links = kw.pop("links", ())
    before, after = _snap(old), _snap(new, links=links)  # type: ignore[arg-type]
    store.record(CheckResult(source.name, "baseline", at - timedelta(hours=1), 5), snapshot=before)
    targets = kw.pop("targets", ["mail"])
    deadlines = kw.pop("deadlines", ())
    change_id = store.record(
        CheckResult(source.name, "changed", at, 5, change=_change(source, before, after, at, **kw)),
        snapshot=after,
        targets=targets,  # type: ignore[arg-type]
        deadlines=deadlines,  # type: ignore[arg-type]
    )
    assert change_id is not None
    return change_id, after


@pytest.fixture
def store(engine_store: Store) -> Store:
    engine_store.sync_sources([DFE, CHARITY], NOW - timedelta(days=1))
    return engine_store


def test_the_engine_and_its_claim_suffix(store: Store, database: str | None) -> None:
    assert store.engine == ("postgresql" if database else "sqlite")
    assert store.skip_locked == (" FOR UPDATE SKIP LOCKED" if database else "")


def test_a_change_with_outbox_deadlines_and_topics(store: Store) -> None:
    change_id, after = _changed(
        store,
        DFE,
        "Intro",
        "Intro\nThe consultation on kinship care closes soon",
        NOW,
        targets=["mail", "hook"],
        deadlines=[Deadline("2026-12-20", "20 December 2026", "It closes on 20 December 2026.")],
        topics=(("kinship", "The consultation on kinship care"), ("care", "closes soon")),
    )
    assert store.count("changes") == 1 and store.count("snapshots") == 2
    assert [(r.change_id, r.target) for r in store.outbox()] == [
        (change_id, "mail"),
        (change_id, "hook"),
    ]
    assert [d.due for d in store.deadlines()] == ["2026-12-20"]
    # Topics come back in the order they were found, not by name.
    assert topics_of(store, change_id) == (
        ("kinship", "The consultation on kinship care"),
        ("care", "closes soon"),
    )
    assert store.snapshot(after.hash) == Snapshot(after.hash, after.title, after.text)
    row = store.changes(source="dfe")[0]
    assert row.added == ("The consultation on kinship care closes soon",)
    assert row.topics[0][0] == "kinship"
    assert weekly_counts(store, ["kinship"], NOW)["kinship"][-1] == 1


def test_claims_are_taken_once_and_settled(store: Store) -> None:
    _changed(store, DFE, "a", "a\nb", NOW, targets=["mail", "hook"])
    first = store.claim_due(NOW, "host:1", NOW, NOW - timedelta(minutes=15))
    assert len(first) == 2
    assert store.claim_due(NOW, "host:2", NOW, NOW - timedelta(minutes=15)) == []
    assert store.claimants() == ["host:1"]
    # A claimant gone is free to be taken over.
    taken = store.claim_due(NOW, "host:2", NOW, NOW - timedelta(minutes=15), gone=["host:1"])
    assert [r.id for r in taken] == [r.id for r in first]
    store.mark_sent(first[0].id, NOW)
    store.mark_failed(first[1].id, "refused", NOW + timedelta(minutes=5), dead=True)
    assert {r.status for r in store.outbox()} == {"sent", "dead"}
    assert store.retry(first[1].id, NOW) is True
    assert [r.id for r in store.due_alerts(NOW)] == [first[1].id]


def test_reminders_are_queued_once_per_window(store: Store) -> None:
    due = (NOW + timedelta(days=6)).date().isoformat()
    _changed(store, DFE, "a", "a\nb", NOW - timedelta(days=10), deadlines=[Deadline(due, "x", "y")])
    assert store.queue_reminders(NOW, [7, 1], ["mail"]) == 1
    assert store.queue_reminders(NOW, [7, 1], ["mail"]) == 0
    assert [r.kind for r in store.outbox() if r.kind == "reminder"] == ["reminder"]


def test_timeline_filters_and_evidence_columns(store: Store) -> None:
    evidence = Evidence(
        sentences=("The fund opens.",), categories=(("funding", 0.75, "The fund opens in May."),)
    )
    first, _ = _changed(store, DFE, "a", "a\nThe fund opens", NOW, evidence=evidence)
    second, _ = _changed(
        store, CHARITY, "c", "c\nOur reaction", NOW + timedelta(hours=1), category="guidance"
    )
    page = reads.timeline(store, reads.Filters())
    assert [i.id for i in page.items] == [second, first] and page.total == 2
    item = page.items[1]
    assert item.confidence == pytest.approx(0.75)
    assert item.sentence == "The fund opens in May."
    tagged = reads.timeline(store, reads.Filters(tag="policy"))
    assert [i.id for i in tagged.items] == [first]
    assert [i.id for i in reads.timeline(store, reads.Filters(category="guidance")).items] == [
        second
    ]
    assert reads.choices(store)["tags"] == ["policy", "sector"]
    assert [c.id for c in reads.full_changes(store, reads.Filters(source="charity"))] == [second]
    assert reads.unreviewed(store) == 2
    assert {s.name: s.changes for s in reads.sources(store)} == {"charity": 1, "dfe": 1}


def test_search_finds_changes_and_page_text_with_marked_snippets(store: Store) -> None:
    change_id, after = _changed(
        store,
        DFE,
        "Introduction",
        "Introduction\nThe kinship allowance consultation is open to carers",
        NOW,
        title="Kinship care",
    )
    found = reads.search(store, "consult* carers")
    assert [h.id for h in found.changes.items] == [change_id] and found.changes.total == 1
    snippet = found.changes.items[0].snippet
    assert "\ue000consultation\ue001" in snippet and "\ue000carers\ue001" in snippet
    assert [p.hash for p in found.snapshots] == [after.hash]
    assert "\ue000carers\ue001" in found.snapshots[0].snippet
    assert found.snapshots[0].source == "dfe"
    # Operators and quotes in what people type are only ever words.
    assert reads.search(store, 'carers" OR "x').changes.total == 0
    assert reads.search(store, "nothing-like-it").changes.total == 0
    assert reads.search(store, "!!!").query == ""


def test_reviews_and_corrections_are_history(store: Store) -> None:
    change_id, _ = _changed(store, DFE, "a", "a\nb", NOW)
    first = store.review(change_id, "reviewed", "ana", "", NOW)
    second = store.review(change_id, "needs_action", "bo", "call them", NOW)
    assert second.id > first.id
    kept = store.correct(change_id, "funding", "ana", "it is money", NOW)
    assert kept.id >= 1 and kept.previous is None
    detail = reads.change(store, change_id)
    assert detail is not None
    assert detail.review_state == "needs_action" and detail.category == "funding"
    assert [r.state for r in detail.reviews] == ["needs_action", "reviewed"]
    assert [c.label for c in store.corrections()] == ["funding"]
    with pytest.raises(KeyError):
        store.review(999, "reviewed", "ana", "", NOW)


def test_sessions_and_login_throttling(store: Store) -> None:
    store.session_start("s1", "ana", NOW, NOW + timedelta(hours=8))
    assert store.session_live("s1", NOW) and not store.session_live("s1", NOW + timedelta(hours=9))
    store.session_end("s1")
    assert not store.session_live("s1", NOW)

    def locked_after_two(row: LoginFailures, now: datetime) -> tuple[int, datetime, bool]:
        return row.failures + 1, now + timedelta(seconds=1), row.failures + 1 >= 2

    store.login_failed(["1.2.3.4", "*"], NOW, locked_after_two)
    store.login_failed(["1.2.3.4"], NOW, locked_after_two)
    rows = {r.client: r for r in store.login_failures()}
    assert rows["1.2.3.4"].failures == 2 and rows["1.2.3.4"].locked
    assert rows["*"].failures == 1 and not rows["*"].locked
    wait = store.login_attempt(["1.2.3.4"], NOW, lambda row, now: (None, row.locked, None))
    assert wait == datetime.max.replace(tzinfo=UTC)
    assert store.login_attempt(["5.6.7.8"], NOW, lambda row, now: (None, False, now)) is None
    assert store.login_clear("1.2.3.4") == 1


def test_staleness_is_alerted_once_and_cleared(store: Store) -> None:
    quiet = Source(name="dfe", url=DFE.url, every=DFE.every, expect_change_within=timedelta(days=7))
    store.record(CheckResult("dfe", "baseline", NOW - timedelta(days=30), 5), snapshot=_snap("a"))
    store.record(CheckResult("dfe", "unchanged", NOW - timedelta(hours=1), 5))
    moved = store.queue_staleness(NOW, [quiet], {"dfe": ["mail"]})
    assert moved == [("dfe", "stale")]
    assert store.queue_staleness(NOW, [quiet], {"dfe": ["mail"]}) == []
    assert [r.kind for r in store.outbox()] == ["stale"]


def test_stories_link_split_and_merge(store: Store) -> None:
    doc = ("https://www.gov.uk/government/publications/stable-homes", "Stable Homes")
    first, _ = _changed(
        store, DFE, "a", "a\nWe publish Stable Homes today", NOW - timedelta(days=2), links=(doc,)
    )
    second, _ = _changed(
        store, CHARITY, "c", "c\nOur view of Stable Homes", NOW - timedelta(days=1), links=(doc,)
    )
    listed = store.stories()
    assert len(listed) == 1 and listed[0].size == 2
    assert listed[0].sources == ("charity", "dfe")
    story = store.story_of(second)
    assert story is not None and story.id == listed[0].id
    marks = store.story_marks([first, second])
    assert (marks[first].position, marks[second].position) == (1, 2)
    moved = store.stories_moved(NOW - timedelta(days=7))
    assert [(s.id, s.moved) for s in moved] == [(story.id, 2)]
    assert store.stories_moved(NOW + timedelta(days=1)) == []
    detail = store.story(story.id)
    assert detail is not None and [e.change_id for e in detail.entries] == [first, second]
    assert store.split_change(second, NOW) == story.id
    assert store.stories() == []  # one change left is no story


def test_publications_are_one_row_however_many_sources_name_them(store: Store) -> None:
    item = Item(
        url="https://www.gov.uk/government/consultations/kinship",
        title="Kinship consultation",
        organisations=("Department for Education",),
    )
    snap = _snap("Kinship consultation text", title="Kinship consultation")
    listing = _snap("listing")
    store.record(CheckResult("dfe", "baseline", NOW - timedelta(hours=1), 5), snapshot=listing)
    change = Change(
        source="dfe",
        url=item.url,
        detected_at=NOW,
        before=listing.hash,
        after=snap.hash,
        diff=diff_blocks([], ["Kinship consultation text"]),
        title=item.title,
        summary="New publication",
    )
    made = store.record(
        CheckResult("dfe", "changed", NOW, 5),
        publications=[Publication(item, "new", change, snap)],
    )
    assert made is not None
    store.record(
        CheckResult("charity", "unchanged", NOW, 5), publications=[Publication(item, "seen")]
    )
    rows = store.publications(organisation="Department for Education")
    assert len(rows) == 1 and set(rows[0].sources) == {"dfe", "charity"}
    assert store.publications(organisation="Nobody") == []
    assert store.publication_known(item.url)
    assert store.reported("charity") == {item.url: ""}


def test_archive_reads_by_id_and_hash(store: Store) -> None:
    change_id, after = _changed(
        store, DFE, "a", "a\nb", NOW, deadlines=[Deadline("2026-12-01", "1 Dec", "By 1 Dec.")]
    )
    assert [c.id for c in archive.changes_by_id(store, [change_id])] == [change_id]
    assert [d.due for d in archive.deadlines_of(store, [change_id])[change_id]] == ["2026-12-01"]
    record = archive.snapshot_record(store, after.hash)
    assert record is not None and record.title == after.title


def test_ops_health_counts_retention_and_figures(store: Store) -> None:
    store.set_meta(ops.HEARTBEAT_KEY, NOW.isoformat())
    report = ops.health(store, NOW, timedelta(minutes=5))
    assert report.ok and report.writable
    assert store.meta(ops.PROBE_KEY) is not None
    stale = ops.health(store, NOW + timedelta(hours=1), timedelta(minutes=5), keep_probe=False)
    assert not stale.ok and "heartbeat" in stale.reasons[0]
    ops.integrity(store)
    old = NOW - timedelta(days=100)
    store.record(CheckResult("dfe", "baseline", old, 40), snapshot=_snap("old"))
    store.record(CheckResult("dfe", "unchanged", old, 3000), snapshot=_snap("older"))
    store.record(CheckResult("dfe", "unchanged", NOW, 20), snapshot=_snap("new"))
    pruned = ops.retention(store, NOW, timedelta(days=30), timedelta(days=30))
    assert (pruned.checks, pruned.snapshots) == (2, 2)
    assert store.count("checks") == 1 and store.count("snapshots") == 1
    assert reads.search(store, "older").snapshots == []
    figures = ops.figures(store)
    # Pruned checks still count, with their histogram buckets.
    assert figures.checks["unchanged"].count == 2
    assert figures.checks["unchanged"].buckets[0] == 1  # 20 ms under the 50 ms bound
    assert figures.checks["baseline"].buckets[0] == 1


def test_a_failed_block_in_a_batch_loses_only_its_own_rows(store: Store) -> None:
    bad = Change(
        source="dfe",
        url="u",
        detected_at=NOW,
        before="missing",
        after=_snap("x").hash,
        diff=diff_blocks([], ["x"]),
        title="T",
        summary="s",
    )
    with store.batch():
        store.record(CheckResult("dfe", "baseline", NOW, 5), snapshot=_snap("one"))
        with pytest.raises(IntegrityError):
            store.record(CheckResult("dfe", "changed", NOW, 5, change=bad), snapshot=_snap("x"))
        store.record(CheckResult("charity", "baseline", NOW, 5), snapshot=_snap("two"))
    assert store.count("checks") == 2 and store.count("changes") == 0
    assert not store.conn.in_transaction


def test_backup_on_postgresql_names_pg_dump(store: Store, tmp_path: Path) -> None:
    if store.engine == "sqlite":
        assert ops.backup(store, tmp_path / "copy.db").bytes > 0
        return
    with pytest.raises(StoreError, match="pg_dump"):
        ops.backup(store, tmp_path / "copy.db")


def test_no_statement_has_a_placeholder_or_percent_inside_a_literal() -> None:
    # The PostgreSQL connection rewrites every ? to %s: a ? or % inside a quoted SQL literal
    # would be rewritten too (or read by psycopg as a placeholder).
    literal = re.compile(r"'[^'\n]*'")
    for path in sorted(STORE_DIR.glob("*.py")):
        for text in re.findall(r'"((?:[^"\\\n]|\\.)*)"', path.read_text(encoding="utf-8")):
            if not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", text):
                continue
            text = re.sub(r"\{[^}]*\}", "", text)  # an f-string's Python parts are not SQL
            for quoted in literal.findall(text):
                assert "?" not in quoted and "%" not in quoted, f"{path.name}: {text}"


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    from tests.postgres import free_port

    url = f"postgresql://watcher:s3cret-pass@127.0.0.1:{free_port()}/watcher"
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path, url)
    message = str(caught.value)
    assert "s3cret-pass" not in message and "\n" not in message
    assert re.search(r"cannot reach the database at 127\.0\.0\.1:\d+/watcher", message)
    assert "WATCHER_DATABASE_URL" in message


def test_dates_in_the_calendar(store: Store) -> None:
    _changed(store, DFE, "a", "a\nb", NOW, deadlines=[Deadline("2026-12-03", "3 Dec", "By 3 Dec.")])
    month = reads.deadlines_between(store, date(2026, 12, 1), date(2026, 12, 31))
    assert [d.due for d in month] == ["2026-12-03"]
    assert reads.deadlines(store, date(2026, 11, 30))[0].days_left == 3


def test_a_sqlite_user_never_loads_psycopg(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from watcher.store import Store, reads; "
        f"s = Store.open(Path({str(tmp_path)!r})); reads.search(s, 'word'); s.close(); "
        "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_search_folds_case_and_accents_on_both_engines(store: Store) -> None:
    change_id, _ = _changed(store, DFE, "a", "a\nThe Café Fund for Élèves opens", NOW)
    for words in ("cafe eleves", "CAFÉ", "élè*"):
        assert [h.id for h in reads.search(store, words).changes.items] == [change_id], words


def test_two_workers_migrating_a_new_database_at_once(postgres_db: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def open_and_count(_: int) -> int:
        store = Store.connect(postgres_db)
        try:
            return store.schema_version
        finally:
            store.close()

    with ThreadPoolExecutor(3) as pool:
        versions = list(pool.map(open_and_count, range(3)))
    assert versions == [14, 14, 14]
    store = Store.connect(postgres_db)
    try:
        names = store.conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
    finally:
        store.close()
    assert [n[0] for n in names][:2] == ["m001_initial", "m002_volatility"] and len(names) == 14


def test_training_reads_corrections_from_postgresql(
    tmp_path: Path,
    postgres_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.test_model import _corpus
    from watcher.classify import train

    store = Store.connect(postgres_db)
    try:
        store.sync_sources([DFE], NOW)
        change_id, _ = _changed(store, DFE, "a", "a\nThe zorblax grant for families opens", NOW)
        store.correct(change_id, "funding", "ana", "", NOW)
    finally:
        store.close()
    monkeypatch.setenv("TRAIN_DB", postgres_db)
    out = tmp_path / "model.json"
    args = [
        "--corpus",
        str(_corpus(tmp_path)),
        "--state",
        str(tmp_path / "none"),
        "--out",
        str(out),
    ]
    assert train.main([*args, "--database-env", "TRAIN_DB"]) == 0
    assert "1 corrections" in capsys.readouterr().out
    assert not (tmp_path / "none" / "watcher.db").exists()


def test_both_engines_know_the_same_migrations() -> None:
    # A migration added on one side only would make schema_version differ between engines.
    from watcher.store import migrations
    from watcher.store.schema_pg import known_names

    assert known_names() == {m.name for m in migrations._migrations}
