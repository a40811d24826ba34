"""The state, in SQLite or PostgreSQL: the one owner of every SQL statement.

`Store` is built from one part per concern (checks, alerts, reads, reviews, sessions), each a
module of its own over one connection; `ops` holds health, backup, retention and metric figures.
Rows come back as the dataclasses in `watcher.rows`.
"""

from __future__ import annotations

from watcher.evidence_json import evidence_to_dict
from watcher.store.alerts import AlertStore
from watcher.store.checks import CheckStore
from watcher.store.codec import iso, parse_iso
from watcher.store.connection import DatabaseError
from watcher.store.reads import ReadStore
from watcher.store.reviews import ReviewStore
from watcher.store.schema import DB_NAME, REVIEW_STATES, migrations
from watcher.store.sessions import SessionStore
from watcher.store.staleness import StalenessStore
from watcher.store.stories import StoryStore
from watcher.store.workers import WorkerStore


class Store(
    CheckStore,
    AlertStore,
    ReadStore,
    ReviewStore,
    SessionStore,
    StalenessStore,
    StoryStore,
    WorkerStore,
):
    """One SQLite file in WAL mode (`Store.open(state_dir)`), or one PostgreSQL database
    (`Store.connect(url)`, or `Store.open(state_dir, url)`)."""


__all__ = [
    "DB_NAME",
    "REVIEW_STATES",
    "DatabaseError",
    "Store",
    "evidence_to_dict",
    "iso",
    "migrations",
    "parse_iso",
]
