"""The database's shape: every migration, in order. sqlite-utils records which ran."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from watcher.store import snapshots

DB_NAME = "watcher.db"
migrations = Migrations("watcher")


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


@migrations()
def m009_publications(db: Database) -> None:
    # A publication is one document however many sources name it (a search, a feed, a listing):
    # one row by its canonical URL (`link` keeps the address as first named, for people), and a row per source that reported it, with the date that
    # source gave it (a later date on the same URL is an update). A change says whether it is an
    # edit of a watched page or a publication's arrival or update. Followed publications are
    # sources added by a listing with `follow = true`.
    _run(
        db,
        """
        ALTER TABLE changes ADD COLUMN kind TEXT NOT NULL DEFAULT 'edit';
        ALTER TABLE sources ADD COLUMN kind TEXT;
        CREATE TABLE publications (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            link TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            first_seen_at TEXT NOT NULL,
            change_id INTEGER REFERENCES changes(id),
            category TEXT,
            organisations TEXT NOT NULL DEFAULT '[]',
            document_type TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE publication_sources (
            publication_id INTEGER NOT NULL REFERENCES publications(id),
            source TEXT NOT NULL,
            updated TEXT NOT NULL DEFAULT '',
            seen_at TEXT NOT NULL,
            PRIMARY KEY (publication_id, source)
        );
        CREATE INDEX publication_sources_source ON publication_sources(source);
        CREATE INDEX changes_kind_time ON changes(kind, detected_at);
        CREATE TABLE followed (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            parent TEXT NOT NULL,
            publication_id INTEGER REFERENCES publications(id),
            added_at TEXT NOT NULL
        )
        """,
    )


@migrations()
def m010_compressed_snapshots(db: Database) -> None:
    """Snapshot text and element paths compressed (`ztext`, `zpaths`, decoded in codec;
    `text` left empty, `paths` NULL), and the page search index contentless and without
    positions (detail=none): it held a second full copy of every page's text; positions
    served snippets (cut from the decoded text now) and bm25 ranking (page hits now come
    newest first)."""
    _run(
        db,
        """
        DROP TRIGGER IF EXISTS snapshots_fts_insert;
        DROP TRIGGER IF EXISTS snapshots_fts_delete;
        DROP TABLE IF EXISTS snapshots_fts;
        ALTER TABLE snapshots ADD COLUMN ztext BLOB;
        ALTER TABLE snapshots ADD COLUMN zpaths BLOB;
        ALTER TABLE snapshots ADD COLUMN fts_id INTEGER;
        CREATE UNIQUE INDEX snapshots_fts_id ON snapshots(fts_id);
        CREATE VIRTUAL TABLE snapshots_fts USING fts5(
            title, text, content = '', detail = none,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
    )
    snapshots.compress_stored(db.conn)


@migrations()
def m012_stories(db: Database) -> None:  # tables of watcher/store/stories.py
    _run(
        db,
        """
        CREATE TABLE stories (id INTEGER PRIMARY KEY, title TEXT NOT NULL, named INTEGER NOT
            NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE story_links (id INTEGER PRIMARY KEY,
            story_id INTEGER NOT NULL REFERENCES stories(id), change_id INTEGER REFERENCES
            changes(id), publication_id INTEGER REFERENCES publications(id), signal TEXT NOT NULL
            DEFAULT '', reason TEXT NOT NULL, partner_id INTEGER, linked_at TEXT NOT NULL,
            linked_by TEXT);
        CREATE UNIQUE INDEX story_links_change ON story_links(change_id);
        CREATE INDEX story_links_story ON story_links(story_id, linked_at);
        CREATE TABLE story_keys (change_id INTEGER PRIMARY KEY REFERENCES changes(id),
            at TEXT NOT NULL, keys TEXT NOT NULL DEFAULT '{}');
        CREATE INDEX story_keys_at ON story_keys(at)
        """,
    )
