"""Migrations from m011 on: what a policy team follows (topics, stories, staleness, citations).
Registered on the same `migrations` as schema.py's, after them and in order."""

from __future__ import annotations

from sqlite_utils import Database

from watcher.store.schema import _run, migrations


@migrations()
def m011_topics(db: Database) -> None:
    # The [[topic]] tables a change is about, each with the sentence that matched: written with
    # the change; the home page counts them per week, the timeline filters by them.
    _run(
        db,
        """
        CREATE TABLE change_topics (
            change_id INTEGER NOT NULL,
            topic TEXT NOT NULL,
            sentence TEXT NOT NULL,
            PRIMARY KEY (change_id, topic)
        );
        CREATE INDEX change_topics_topic ON change_topics(topic, change_id)
        """,
    )


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


@migrations()
def m013_staleness(db: Database) -> None:
    # `stale_since`: the change (or baseline) a staleness alert counted from, NULL when not stale;
    # `baseline_at`: counted from when a source never changed (its checks are pruned).
    _run(
        db,
        """
        ALTER TABLE sources ADD COLUMN baseline_at TEXT;
        ALTER TABLE sources ADD COLUMN stale_since TEXT;
        ALTER TABLE sources ADD COLUMN stale_at TEXT;
        UPDATE sources SET baseline_at = coalesce(
            (SELECT max(started_at) FROM checks
                WHERE checks.source = sources.name AND outcome = 'baseline'),
            (SELECT min(started_at) FROM checks
                WHERE checks.source = sources.name AND outcome != 'error'),
            last_success_at)
        """,
    )


# Later migrations live in schema_workers.py; imported last so they register after m013.
from watcher.store import schema_workers  # noqa: E402, F401
