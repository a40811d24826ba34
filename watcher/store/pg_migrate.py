"""Applying `schema_pg.PG_MIGRATIONS` to a PostgreSQL database, one worker at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from watcher.errors import StoreError
from watcher.store.engine import Db
from watcher.store.schema_pg import (
    ADVISORY_KEY,
    MIGRATIONS_TABLE,
    PG_MIGRATIONS,
    known_names,
    names_of,
)


def applied(conn: Db) -> set[str]:
    """The migration names recorded in the database (none before the first migration)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return set()
    return {str(r[0]) for r in conn.execute("SELECT name FROM schema_migrations").fetchall()}


def migrate(conn: Db, where: str) -> None:
    """Apply what is pending, each entry in its own transaction. Two workers starting at once
    serialise on an advisory lock held until their transaction ends; the second then finds the
    work done."""
    unknown = applied(conn) - known_names()
    if unknown:
        raise StoreError(
            f"{where}: written by a newer watcher (migrations {', '.join(sorted(unknown))}); "
            "upgrade watcher or point WATCHER_DATABASE_URL at another database"
        )
    for entry, sql in PG_MIGRATIONS:
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (ADVISORY_KEY,))
            conn.execute(MIGRATIONS_TABLE)
            if entry in applied(conn):
                conn.commit()
                continue
            conn.execute(sql)
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            conn.executemany(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                [(name, now) for name in names_of(entry)],
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
