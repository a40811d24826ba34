"""The SQLite state: schema, migrations, every SQL statement, and the one-transaction write of a check."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from watcher.diff import diff_to_dict
from watcher.errors import StoreError
from watcher.models import (
    CheckResult,
    Deadline,
    Delivery,
    Evidence,
    Snapshot,
    Source,
    SourceState,
    Validators,
)
from watcher.statelock import read_only_error, unwritable

DB_NAME = "watcher.db"
# What a damaged file raises from any query; callers outside this module catch it by this name.
DatabaseError = sqlite3.DatabaseError
migrations = Migrations("watcher")


def evidence_to_dict(evidence: Evidence | None) -> dict[str, Any]:
    """Evidence as stored and exported: sentences, and facts with their spans in them."""
    if evidence is None:
        return {}
    return {
        "categories": [
            {"label": label, "confidence": confidence, "sentence": sentence}
            for label, confidence, sentence in evidence.categories
        ],
        "decided_by": evidence.decided_by,
        "sentences": list(evidence.sentences),
        "facts": [
            {
                "kind": f.kind,
                "text": f.text,
                "value": f.value,
                "sentence": i,
                "start": f.start,
                "end": f.end,
            }
            for f, i in zip(evidence.facts, evidence.of, strict=True)
        ],
    }


def iso(dt: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 text, which sorts as time does."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _run(db: Database, script: str) -> None:
    """Each statement on its own: executescript() would commit the migration's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_initial(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            added_at TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            body_hash TEXT,
            snapshot_hash TEXT REFERENCES snapshots(hash),
            last_check_at TEXT,
            last_success_at TEXT,
            last_change_at TEXT,
            last_outcome TEXT,
            last_error TEXT,
            error_streak INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE snapshots (
            hash TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            status INTEGER,
            bytes INTEGER NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            error_reason TEXT,
            error TEXT
        );
        CREATE INDEX checks_source_time ON checks(source, started_at);
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            before_hash TEXT NOT NULL REFERENCES snapshots(hash),
            after_hash TEXT NOT NULL REFERENCES snapshots(hash),
            check_id INTEGER NOT NULL REFERENCES checks(id),
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            category TEXT,
            added TEXT NOT NULL,
            removed TEXT NOT NULL,
            diff TEXT NOT NULL
        );
        CREATE INDEX changes_time ON changes(detected_at);
        CREATE INDEX changes_source_time ON changes(source, detected_at);
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            target TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT,
            UNIQUE (change_id, target)
        );
        CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    )


@migrations()
def m002_volatility(db: Database) -> None:
    _run(
        db,
        """
        ALTER TABLE snapshots ADD COLUMN paths TEXT;
        ALTER TABLE sources ADD COLUMN comparisons INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE changes ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE checks ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE volatility (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            seen REAL NOT NULL,
            churned REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (scope, key)
        );
        """,
    )


@migrations()
def m003_evidence_and_deadlines(db: Database) -> None:
    _run(
        db,
        """
        ALTER TABLE changes ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE deadlines (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            source TEXT NOT NULL,
            due TEXT NOT NULL,
            text TEXT NOT NULL,
            sentence TEXT NOT NULL,
            created_at TEXT NOT NULL,
            reminded TEXT NOT NULL DEFAULT '[]',
            UNIQUE (source, due)
        );
        CREATE INDEX deadlines_due ON deadlines(due);
        CREATE TABLE outbox_v3 (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            target TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'change',
            deadline_id INTEGER REFERENCES deadlines(id),
            days INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT,
            UNIQUE (change_id, target, kind, days)
        );
        INSERT INTO outbox_v3 (id, change_id, target, status, attempts, created_at, next_attempt_at,
            sent_at, last_error)
            SELECT id, change_id, target, status, attempts, created_at, next_attempt_at, sent_at,
            last_error FROM outbox;
        DROP TABLE outbox;
        ALTER TABLE outbox_v3 RENAME TO outbox;
        CREATE INDEX outbox_due ON outbox(status, next_attempt_at)
        """,
    )


@migrations()
def m004_corrections(db: Database) -> None:
    _run(
        db,
        """
        ALTER TABLE changes ADD COLUMN corrected_by TEXT;
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            previous TEXT,
            label TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX corrections_change ON corrections(change_id)
        """,
    )


REVIEW_STATES = ("reviewed", "needs_action", "not_relevant")
# Change text as the search index sees it: JSON lists of blocks and sentences become lines.
_CHANGE_FTS_ROW = """
    SELECT {id}, {t}.title, {t}.summary,
        (SELECT group_concat(value, char(10)) FROM json_each({t}.added)),
        (SELECT group_concat(value, char(10)) FROM json_each({t}.removed)),
        (SELECT group_concat(value, char(10)) FROM json_each({t}.evidence, '$.sentences'))
"""


@migrations()
def m005_reviews_and_search(db: Database) -> None:
    """Review marks (history, and the latest on the change for fast filtering), full-text search
    over change text and snapshots kept in sync by triggers, and indexes for the web timeline."""
    change_row = _CHANGE_FTS_ROW.format(id="new.id", t="new")
    _run(
        db,
        # Built from this module's constants only.
        f"""
        ALTER TABLE changes ADD COLUMN review_state TEXT;
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            state TEXT NOT NULL CHECK (state IN {REVIEW_STATES!r}),
            note TEXT NOT NULL DEFAULT '',
            reviewer TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX reviews_change ON reviews(change_id, id);
        CREATE INDEX changes_category_time ON changes(category, detected_at);
        CREATE INDEX changes_review_time ON changes(review_state, detected_at);
        CREATE INDEX changes_after ON changes(after_hash);
        CREATE VIRTUAL TABLE changes_fts USING fts5(
            title, summary, added, removed, evidence, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE snapshots_fts USING fts5(
            hash UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO changes_fts (rowid, title, summary, added, removed, evidence)
            {_CHANGE_FTS_ROW.format(id="c.id", t="c")} FROM changes c;
        INSERT INTO snapshots_fts (hash, title, text) SELECT hash, title, text FROM snapshots
        """,  # noqa: S608
    )
    # Trigger bodies hold semicolons, so each is one statement of its own (not split by _run).
    for trigger in (
        "CREATE TRIGGER changes_fts_insert AFTER INSERT ON changes BEGIN "
        f"INSERT INTO changes_fts (rowid, title, summary, added, removed, evidence) {change_row}; END",
        "CREATE TRIGGER changes_fts_delete AFTER DELETE ON changes BEGIN "
        "DELETE FROM changes_fts WHERE rowid = old.id; END",
        "CREATE TRIGGER snapshots_fts_insert AFTER INSERT ON snapshots BEGIN "
        "INSERT INTO snapshots_fts (hash, title, text) VALUES (new.hash, new.title, new.text); END",
        # By hash, not rowid: VACUUM may renumber the rowids of a table keyed by text.
        "CREATE TRIGGER snapshots_fts_delete AFTER DELETE ON snapshots BEGIN "
        "DELETE FROM snapshots_fts WHERE hash = old.hash; END",
    ):
        db.execute(trigger)


@migrations()
def m006_alert_routing(db: Database) -> None:
    # change_id becomes optional (a source-health alert has no change); mode says whether a row
    # goes out alone or in a digest; payload carries what a health alert reports.
    _run(
        db,
        """
        ALTER TABLE sources ADD COLUMN health TEXT NOT NULL DEFAULT 'ok';
        CREATE TABLE outbox_v6 (
            id INTEGER PRIMARY KEY,
            change_id INTEGER REFERENCES changes(id),
            source TEXT,
            target TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'change',
            mode TEXT NOT NULL DEFAULT 'immediate',
            deadline_id INTEGER REFERENCES deadlines(id),
            days INTEGER,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT,
            UNIQUE (change_id, target, kind, days)
        );
        INSERT INTO outbox_v6 (id, change_id, source, target, kind, deadline_id, days, status,
            attempts, created_at, next_attempt_at, sent_at, last_error)
            SELECT o.id, o.change_id, c.source, o.target, o.kind, o.deadline_id, o.days, o.status,
            o.attempts, o.created_at, o.next_attempt_at, o.sent_at, o.last_error
            FROM outbox o LEFT JOIN changes c ON c.id = o.change_id;
        DROP TABLE outbox;
        ALTER TABLE outbox_v6 RENAME TO outbox;
        CREATE INDEX outbox_due ON outbox(status, next_attempt_at)
        """,
    )


@migrations()
def m007_outbox_claims(db: Database) -> None:
    # A sender claims each row before sending it, so two processes on one state (a stale lock, a
    # manual retry beside the daemon) can never both send the same alert.
    _run(
        db,
        """
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_at TEXT
        """,
    )


@migrations()
def m008_web_logins(db: Database) -> None:
    # Sessions live server-side, so logging out ends one for good; failed logins are counted
    # per client address (and "*" for all of them) so guessing slows down and then stops.
    _run(
        db,
        """
        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE login_failures (
            client TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            last_at TEXT,
            next_at TEXT,
            locked INTEGER NOT NULL DEFAULT 0
        )
        """,
    )


@dataclass(frozen=True)
class LoginFailures:
    """What is known about one client's (or, as "*", everyone's) failed logins."""

    client: str
    failures: int = 0
    last_at: datetime | None = None
    next_at: datetime | None = None
    locked: bool = False


@dataclass(frozen=True)
class OutboxRow:
    id: int
    change_id: int | None
    target: str
    attempts: int
    kind: str = "change"
    deadline_id: int | None = None
    days: int | None = None
    mode: str = "immediate"
    source: str | None = None
    payload: str = "{}"


@dataclass(frozen=True)
class Health:
    """What a check's rows need to decide on a source-health alert."""

    targets: Sequence[str] = ()
    failing_after: int = 3


GONE = (404, 410)  # the page is gone: alert at once, not after N tries
AT_ONCE = ("moved",)  # error reasons that mean the same


class Store:
    """One SQLite file in WAL mode. Open with `Store.open(state_dir)`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            conn = sqlite3.connect(
                path, timeout=10.0, check_same_thread=False, isolation_level=None
            )
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            # A read-only directory is not a damaged file: SQLite's WAL needs to write beside it
            # even to read, and restoring a backup would not help.
            problem = unwritable(path.parent)
            if problem:
                raise read_only_error(path.parent, problem) from None
            raise StoreError(
                f"{path}: cannot open the state database ({exc}); restore it from a backup "
                "or point --state at another directory"
            ) from None
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreError(
                f"{path}: SQLite refused WAL mode (got {mode!r}); keep the state directory on a "
                "local disk, not a network filesystem"
            )
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        self.conn = conn
        self.db = Database(conn)
        self._migrate()

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{state_dir}: cannot create the state directory ({exc.strerror}); "
                "set --state or WATCHER_STATE to a writable directory"
            ) from None
        return cls(state_dir / DB_NAME)

    def close(self) -> None:
        self.conn.close()

    def _migrate(self) -> None:
        known = {m.name for m in migrations._migrations}
        try:
            applied = {m.name for m in migrations.applied(self.db)}
            unknown = applied - known
            if unknown:
                raise StoreError(
                    f"{self.path}: written by a newer watcher (migrations {', '.join(sorted(unknown))}); "
                    "upgrade watcher or point --state at another directory"
                )
            migrations.apply(self.db)
        except sqlite3.OperationalError as exc:
            problem = unwritable(self.path.parent)
            if problem:
                raise read_only_error(self.path.parent, problem) from None
            raise StoreError(
                f"{self.path}: cannot write the state database ({exc}); check free space and permissions"
            ) from None

    @property
    def schema_version(self) -> int:
        return len(migrations.applied(self.db))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front; a deferred BEGIN that upgrades later can
        # fail with SQLITE_BUSY without waiting, which db.atomic() would give us.
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.commit()
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise
        except sqlite3.OperationalError as exc:
            # Disk full, I/O error, read-only file, lock held too long: nothing of this
            # transaction is kept, and what was stored before is untouched.
            raise StoreError(
                f"{self.path}: could not write ({exc}); free disk space, check permissions, "
                "or stop the other process using it; nothing was lost"
            ) from None

    def sync_sources(self, sources: Sequence[Source], now: datetime) -> None:
        """Make sure each configured source has a row; existing state is kept."""
        with self._write() as c:
            for s in sources:
                c.execute(
                    "INSERT INTO sources (name, url, tags, added_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET url = excluded.url, tags = excluded.tags",
                    (s.name, s.url, json.dumps(list(s.tags)), iso(now)),
                )

    def state(self, name: str) -> SourceState:
        row = self.conn.execute(
            "SELECT etag, last_modified, body_hash, snapshot_hash, last_check_at, error_streak "
            "FROM sources WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return SourceState()
        return SourceState(
            validators=Validators(etag=row[0], last_modified=row[1]),
            body_hash=row[2],
            snapshot_hash=row[3],
            last_check_at=parse_iso(row[4]),
            error_streak=row[5],
        )

    def snapshot(self, digest: str) -> Snapshot | None:
        row = self.conn.execute(
            "SELECT hash, title, text, paths FROM snapshots WHERE hash = ?", (digest,)
        ).fetchone()
        if row is None:
            return None
        return Snapshot(
            hash=row[0], title=row[1], text=row[2], paths=tuple(json.loads(row[3] or "[]"))
        )

    def learned(self, name: str) -> tuple[int, dict[str, float]]:
        """A source's comparison count and its slots' replacement counts."""
        row = self.conn.execute(
            "SELECT comparisons FROM sources WHERE name = ?", (name,)
        ).fetchone()
        slots = dict(
            self.conn.execute(
                "SELECT key, seen FROM volatility WHERE scope = ?", (f"source:{name}",)
            ).fetchall()
        )
        return (row[0] if row else 0), slots

    def host_evidence(self, host: str) -> dict[str, tuple[float, float]]:
        """A site's template evidence: element path -> (pages seen, pages that turned it over)."""
        rows = self.conn.execute(
            "SELECT key, seen, churned FROM volatility WHERE scope = ?", (f"host:{host}",)
        ).fetchall()
        return {key: (seen, churned) for key, seen, churned in rows}

    def save_host_evidence(
        self,
        host: str,
        evidence: Mapping[str, tuple[float, float]],
        forget: Sequence[str] = (),
    ) -> None:
        with self._write() as c:
            c.executemany(
                "DELETE FROM volatility WHERE scope = ? AND key = ?",
                [(f"host:{host}", k) for k in forget],
            )
            c.executemany(
                "INSERT INTO volatility (scope, key, seen, churned) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(scope, key) DO UPDATE SET seen = excluded.seen, churned = excluded.churned",
                [(f"host:{host}", k, seen, churned) for k, (seen, churned) in evidence.items()],
            )

    def record(
        self,
        result: CheckResult,
        *,
        snapshot: Snapshot | None = None,
        validators: Validators | None = None,
        body_hash: str | None = None,
        targets: Sequence[str | Delivery] = (),
        slots: Mapping[str, float] | None = None,
        forget: Sequence[str] = (),
        comparisons: int | None = None,
        suppressed: int = 0,
        deadlines: Sequence[Deadline] = (),
        health: Health | None = None,
    ) -> int | None:
        """Write one check's rows (check, snapshot, change, outbox, source state) in one transaction.

        Returns the id of the change, if the check found one.
        """
        at = iso(result.started_at)
        with self._write() as c:
            if health is not None:
                self._health_alerts(c, result, health, at)
            check_id = c.execute(
                "INSERT INTO checks (source, started_at, duration_ms, status, bytes, outcome, "
                "error_reason, error, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.source,
                    at,
                    result.duration_ms,
                    result.status,
                    result.bytes,
                    result.outcome,
                    result.error_reason,
                    result.error,
                    suppressed,
                ),
            ).lastrowid
            if result.outcome == "error":
                c.execute(
                    "UPDATE sources SET last_check_at = ?, last_outcome = 'error', last_error = ?, "
                    "error_streak = error_streak + 1 WHERE name = ?",
                    (at, result.error, result.source),
                )
                return None
            if snapshot is not None:
                c.execute(
                    "INSERT OR IGNORE INTO snapshots (hash, title, text, created_at, paths) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        snapshot.hash,
                        snapshot.title,
                        snapshot.text,
                        at,
                        json.dumps(list(snapshot.paths)),
                    ),
                )
            change_id = None
            if result.change is not None:
                ch = result.change
                change_id = c.execute(
                    "INSERT INTO changes (source, url, detected_at, before_hash, after_hash, check_id, "
                    "title, summary, category, added, removed, diff, suppressed, evidence) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        ch.source,
                        ch.url,
                        iso(ch.detected_at),
                        ch.before,
                        ch.after,
                        check_id,
                        ch.title,
                        ch.summary,
                        ch.category,
                        json.dumps(list(ch.diff.added)),
                        json.dumps(list(ch.diff.removed)),
                        json.dumps(diff_to_dict(ch.diff)),
                        suppressed,
                        json.dumps(evidence_to_dict(ch.evidence)),
                    ),
                ).lastrowid
                deliveries = [
                    t if isinstance(t, Delivery) else Delivery(t, "immediate", result.started_at)
                    for t in targets
                ]
                c.executemany(
                    "INSERT INTO outbox (change_id, source, target, mode, created_at, next_attempt_at) "
                    "VALUES (?,?,?,?,?,?)",
                    [(change_id, ch.source, d.target, d.mode, at, iso(d.due)) for d in deliveries],
                )
                # A closing date already known for this source keeps its first finding.
                c.executemany(
                    "INSERT OR IGNORE INTO deadlines (change_id, source, due, text, sentence, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    [(change_id, ch.source, d.due, d.text, d.sentence, at) for d in deadlines],
                )
            sets = [
                "last_check_at = ?",
                "last_success_at = ?",
                "last_outcome = ?",
                "last_error = NULL",
                "error_streak = 0",
            ]
            args: list[Any] = [at, at, result.outcome]
            if validators is not None:
                sets += ["etag = ?", "last_modified = ?"]
                args += [validators.etag, validators.last_modified]
            if body_hash is not None:
                sets.append("body_hash = ?")
                args.append(body_hash)
            if snapshot is not None:
                sets.append("snapshot_hash = ?")
                args.append(snapshot.hash)
            if change_id is not None:
                sets.append("last_change_at = ?")
                args.append(at)
            if comparisons is not None:
                sets.append("comparisons = ?")
                args.append(comparisons)
            if slots:
                c.executemany(
                    "INSERT INTO volatility (scope, key, seen) VALUES (?, ?, ?) "
                    "ON CONFLICT(scope, key) DO UPDATE SET seen = excluded.seen",
                    [(f"source:{result.source}", k, v) for k, v in slots.items()],
                )
            if forget:
                c.executemany(
                    "DELETE FROM volatility WHERE scope = ? AND key = ?",
                    [(f"source:{result.source}", k) for k in forget],
                )
            c.execute(
                # Column names come from the fixed list above, never from input.
                f"UPDATE sources SET {', '.join(sets)} WHERE name = ?",  # noqa: S608
                (*args, result.source),
            )
            return change_id

    def _health_alerts(
        self, c: sqlite3.Connection, result: CheckResult, health: Health, at: str
    ) -> None:
        """One alert when a source starts failing (N errors in a row, at once when the page is
        gone or moved), one when it recovers; never one per failed check."""
        row = c.execute(
            "SELECT health, error_streak FROM sources WHERE name = ?", (result.source,)
        ).fetchone()
        if row is None:
            return
        state, streak = row
        failing = result.outcome == "error" and (
            result.status in GONE
            or result.error_reason in AT_ONCE
            or streak + 1 >= health.failing_after
        )
        reason = (result.error or result.error_reason or "failed") if failing else ""
        new_state = "failing" if failing else ("ok" if result.outcome != "error" else state)
        if new_state == state:
            return
        c.execute("UPDATE sources SET health = ? WHERE name = ?", (new_state, result.source))
        payload = json.dumps(
            {
                "state": "failing" if failing else "recovered",
                "reason": reason,
                "status": result.status,
            }
        )
        c.executemany(
            "INSERT INTO outbox (change_id, source, target, kind, payload, created_at, "
            "next_attempt_at) VALUES (NULL,?,?,'health',?,?,?)",
            [(result.source, t, payload, at, at) for t in health.targets],
        )

    def changes(
        self,
        source: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Changes, newest first, with added/removed/diff decoded."""
        where: list[str] = []
        args: list[Any] = []
        if source:
            where.append("source = ?")
            args.append(source)
        if since:
            where.append("detected_at >= ?")
            args.append(iso(since))
        if ids is not None:
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args.extend(ids)
        sql = "SELECT * FROM changes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY detected_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = []
        for row in self.db.query(sql, args):
            for key in ("added", "removed", "diff", "evidence"):
                row[key] = json.loads(row[key])
            rows.append(row)
        return rows

    def sources_status(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM sources ORDER BY name"))

    def checks(self, source: str | None = None) -> list[dict[str, Any]]:
        if source:
            return list(
                self.db.query("SELECT * FROM checks WHERE source = ? ORDER BY id", [source])
            )
        return list(self.db.query("SELECT * FROM checks ORDER BY id"))

    def count(self, table: str) -> int:
        return int(self.db[table].count)

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        rows = self.conn.execute(
            "SELECT id, change_id, target, attempts, kind, deadline_id, days, mode, source, payload "
            "FROM outbox "
            "WHERE status = 'pending' "
            "AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (iso(now), limit),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    # --- web sessions and login throttling ------------------------------------------------------

    def session_start(self, sid: str, user: str, now: datetime, expires: datetime) -> None:
        with self._write() as c:
            c.execute("DELETE FROM web_sessions WHERE expires_at < ?", (iso(now),))
            c.execute(
                "INSERT INTO web_sessions (id, user, created_at, expires_at) VALUES (?,?,?,?)",
                (sid, user, iso(now), iso(expires)),
            )

    def session_live(self, sid: str, now: datetime) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM web_sessions WHERE id = ? AND expires_at > ?", (sid, iso(now))
        ).fetchone()
        return row is not None

    def session_end(self, sid: str) -> None:
        with self._write() as c:
            c.execute("DELETE FROM web_sessions WHERE id = ?", (sid,))

    def sessions_end_all(self) -> int:
        with self._write() as c:
            return int(c.execute("DELETE FROM web_sessions").rowcount)

    def login_failures(self, client: str | None = None) -> list[LoginFailures]:
        sql = "SELECT client, failures, last_at, next_at, locked FROM login_failures"
        rows = self.conn.execute(
            sql + (" WHERE client = ?" if client else " ORDER BY client"),
            (client,) if client else (),
        ).fetchall()
        return [
            LoginFailures(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), bool(r[4])) for r in rows
        ]

    def login_attempt(
        self,
        clients: Sequence[str],
        now: datetime,
        judge: Callable[[LoginFailures, datetime], tuple[datetime | None, bool, datetime | None]],
    ) -> datetime | None:
        """In one transaction: None when every client in `clients` may try a password now (each
        is then held until `judge`'s hold time, so parallel tries wait), else when to come back
        (datetime.max when locked). `judge(row, now)` returns (come back at, locked, hold until)."""
        with self._write() as c:
            rows = {
                r[0]: LoginFailures(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), bool(r[4]))
                for r in c.execute(
                    "SELECT client, failures, last_at, next_at, locked FROM login_failures "
                    "WHERE client IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(clients)),),
                ).fetchall()
            }
            holds = []
            for client in clients:
                wait, locked, hold = judge(rows.get(client, LoginFailures(client)), now)
                if locked:
                    return datetime.max.replace(tzinfo=UTC)
                if wait is not None:
                    return wait
                holds.append((client, iso(hold) if hold else None))
            c.executemany(
                "INSERT INTO login_failures (client, next_at) VALUES (?, ?) "
                "ON CONFLICT (client) DO UPDATE SET next_at = excluded.next_at",
                holds,
            )
        return None

    def login_failed(
        self,
        clients: Sequence[str],
        now: datetime,
        judge: Callable[[LoginFailures, datetime], tuple[int, datetime, bool]],
    ) -> None:
        """Count a failed password for each client; `judge(previous row, now)` gives the new
        count, the next allowed time and whether the client is now locked out."""
        with self._write() as c:
            for client in clients:
                row = c.execute(
                    "SELECT failures, last_at, next_at, locked FROM login_failures "
                    "WHERE client = ?",
                    (client,),
                ).fetchone()
                previous = (
                    LoginFailures(
                        client, row[0], parse_iso(row[1]), parse_iso(row[2]), bool(row[3])
                    )
                    if row
                    else LoginFailures(client)
                )
                failures, next_at, locked = judge(previous, now)
                c.execute(
                    "INSERT INTO login_failures (client, failures, last_at, next_at, locked) "
                    "VALUES (?,?,?,?,?) ON CONFLICT (client) DO UPDATE SET "
                    "failures = excluded.failures, last_at = excluded.last_at, "
                    "next_at = excluded.next_at, locked = MAX(locked, excluded.locked)",
                    (client, failures, iso(now), iso(next_at), int(locked)),
                )

    def login_succeeded(self, client: str) -> None:
        with self._write() as c:
            c.execute("DELETE FROM login_failures WHERE client = ?", (client,))

    def login_clear(self, client: str | None = None) -> int:
        """Forget failed logins (and lift lockouts): of one client, or all."""
        with self._write() as c:
            if client:
                return int(
                    c.execute("DELETE FROM login_failures WHERE client = ?", (client,)).rowcount
                )
            return int(c.execute("DELETE FROM login_failures").rowcount)

    def claimants(self) -> list[str]:
        """Who holds claims on unsent alerts (normally nobody between deliveries)."""
        rows = self.conn.execute(
            "SELECT DISTINCT claimed_by FROM outbox "
            "WHERE status = 'pending' AND claimed_by IS NOT NULL"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def claim_due(
        self,
        due_by: datetime,
        owner: str,
        now: datetime,
        stale_before: datetime,
        gone: Sequence[str] = (),
        limit: int = 100,
    ) -> list[OutboxRow]:
        """Claim, in one transaction, the pending rows due by `due_by` that no other sender holds
        (a claim older than `stale_before`, or by an owner in `gone`, is free again)."""
        with self._write() as c:
            rows = c.execute(
                "SELECT id, change_id, target, attempts, kind, deadline_id, days, mode, source, "
                "payload FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                "AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ? "
                "OR claimed_by IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT ?",
                (iso(due_by), owner, iso(stale_before), json.dumps(list(gone)), limit),
            ).fetchall()
            c.executemany(
                "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ?",
                [(owner, iso(now), r[0]) for r in rows],
            )
        return [OutboxRow(*r) for r in rows]

    def deadlines(self, today: str | None = None) -> list[dict[str, Any]]:
        """Closing dates, soonest first; only those on or after `today` (ISO date) when given."""
        if today:
            return list(
                self.db.query("SELECT * FROM deadlines WHERE due >= ? ORDER BY due, id", [today])
            )
        return list(self.db.query("SELECT * FROM deadlines ORDER BY due, id"))

    def queue_reminders(self, now: datetime, days: Sequence[int], targets: Sequence[str]) -> int:
        """Queue one reminder per target for each deadline entering a reminder window; returns
        how many deadlines got one. Each window (7 days, 1 day...) is used once per deadline."""
        today = now.astimezone(UTC).date()
        queued = 0
        with self._write() as c:
            rows = c.execute(
                "SELECT id, change_id, due, reminded, created_at FROM deadlines WHERE due >= ?",
                (today.isoformat(),),
            ).fetchall()
            for deadline_id, change_id, due, reminded_json, created_at in rows:
                due_day = datetime.fromisoformat(due).date()
                left = (due_day - today).days
                # A window the deadline was found inside of was covered by the change's own alert.
                found_left = (
                    due_day - datetime.fromisoformat(created_at).astimezone(UTC).date()
                ).days
                done = set(json.loads(reminded_json)) | {d for d in days if found_left <= d}
                windows = [d for d in days if left <= d and d not in done]
                if windows:
                    window = min(windows)  # several windows open at once: one reminder, the nearest
                    at = iso(now)
                    c.executemany(
                        "INSERT OR IGNORE INTO outbox (change_id, target, kind, deadline_id, days, "
                        "created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?)",
                        [(change_id, t, "reminder", deadline_id, window, at, at) for t in targets],
                    )
                    queued += 1
                c.execute(
                    "UPDATE deadlines SET reminded = ? WHERE id = ?",
                    (json.dumps(sorted(done | set(windows))), deadline_id),
                )
        return queued

    def deadline(self, deadline_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM deadlines WHERE id = ?", [deadline_id]))
        return rows[0] if rows else None

    def outbox(self, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Alert rows, oldest first (newest first when a limit is given)."""
        sql = "SELECT * FROM outbox"
        args: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY id" + (f" DESC LIMIT {int(limit)}" if limit else "")
        return list(self.db.query(sql, args))

    def retry(self, outbox_id: int, now: datetime) -> bool:
        """Send a dead (or waiting) alert again on the next delivery, with a fresh set of tries."""
        with self._write() as c:
            done = c.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND status != 'sent'",
                (iso(now), outbox_id),
            ).rowcount
        return bool(done)

    def mark_sent(self, outbox_ids: int | Sequence[int], now: datetime) -> None:
        """Rows sent together (a digest, a storm summary) are marked in one transaction."""
        ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
        with self._write() as c:
            c.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
                [(iso(now), i) for i in ids],
            )

    def mark_failed(
        self, outbox_ids: int | Sequence[int], error: str, next_attempt: datetime, dead: bool
    ) -> None:
        ids = [outbox_ids] if isinstance(outbox_ids, int) else list(outbox_ids)
        with self._write() as c:
            c.executemany(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, claimed_by = NULL, claimed_at = NULL WHERE id = ?",
                [("dead" if dead else "pending", error, iso(next_attempt), i) for i in ids],
            )

    def correct(
        self, change_id: int, label: str, reviewer: str, note: str, now: datetime
    ) -> dict[str, Any]:
        """A staff correction of a change's category: kept as history (for retraining) and made
        the change's category from now on. Raises KeyError when there is no such change."""
        with self._write() as c:
            row = c.execute("SELECT category FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                raise KeyError(change_id)
            c.execute(
                "INSERT INTO corrections (change_id, previous, label, reviewer, note, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (change_id, row[0], label, reviewer, note, iso(now)),
            )
            c.execute(
                "UPDATE changes SET category = ?, corrected_by = ? WHERE id = ?",
                (label, reviewer, change_id),
            )
        return {"change_id": change_id, "previous": row[0], "label": label}

    def review(
        self, change_id: int, state: str, reviewer: str, note: str, now: datetime
    ) -> dict[str, Any]:
        """A staff review mark on a change, kept as history; the latest is the change's state.
        Raises KeyError when there is no such change, ValueError for an unknown state."""
        if state not in REVIEW_STATES:
            raise ValueError(state)
        with self._write() as c:
            if c.execute("SELECT 1 FROM changes WHERE id = ?", (change_id,)).fetchone() is None:
                raise KeyError(change_id)
            c.execute(
                "INSERT INTO reviews (change_id, state, note, reviewer, at) VALUES (?,?,?,?,?)",
                (change_id, state, note, reviewer, iso(now)),
            )
            c.execute("UPDATE changes SET review_state = ? WHERE id = ?", (state, change_id))
        return {"change_id": change_id, "state": state}

    def corrections(self) -> list[dict[str, Any]]:
        """Every correction with the change's text, oldest first (the retraining set)."""
        return list(
            self.db.query(
                "SELECT k.id, k.change_id, k.previous, k.label, k.reviewer, k.note, k.created_at, "
                "c.title, c.url, c.added, c.removed FROM corrections k "
                "JOIN changes c ON c.id = k.change_id ORDER BY k.id"
            )
        )

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as c:
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None
