"""The connection: opening the file (WAL, migrations), one write transaction, and meta values."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlite_utils import Database

from watcher.errors import StoreError
from watcher.statelock import read_only_error, unwritable
from watcher.store.schema import DB_NAME, migrations

# What a damaged file raises from any query; callers outside the store catch it by this name.
DatabaseError = sqlite3.DatabaseError


class Connection:
    """One SQLite file in WAL mode, migrated on open; the base every part of the store builds on."""

    # What claiming SQL needs to know of the engine: PostgreSQL locks the rows a claim selects
    # and skips those another claimer holds; SQLite's BEGIN IMMEDIATE serialises writers instead.
    engine = "sqlite"
    skip_locked = ""

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
        self._batched = 0  # savepoints handed out by the open batch (0: no batch open)
        self._in_batch = False
        self._migrate()

    @classmethod
    def open(cls, state_dir: Path) -> Self:
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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in the block commits together or not at all.

        Inside `batch()` it is a savepoint of the batch's transaction instead: a failing block
        is rolled back alone, and the blocks before it stay for the batch to commit.
        """
        if self._in_batch:
            with self._savepoint():
                yield self.conn
            return
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
            raise self._unwritten(exc) from None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Successive `transaction()` blocks (a pass's `record` calls) join one transaction,
        committed when the batch ends: one fsync and one lock for a pass instead of one per check.

        Each block stays all-or-nothing (a savepoint), so one check's failure loses only that
        check's rows; when an error leaves the batch, the blocks that completed before it are
        still committed, then the error goes on. A batch inside a batch is the same batch.
        """
        if self._in_batch:
            yield
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._unwritten(exc) from None
        self._in_batch = True
        try:
            yield
        finally:
            self._in_batch = False
            try:
                # SQLite itself rolls back the whole transaction after some errors (disk full).
                if self.conn.in_transaction:
                    self.conn.commit()
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise self._unwritten(exc) from None

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._batched += 1
        name = f"record_{self._batched}"
        try:
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")
        except sqlite3.OperationalError as exc:
            raise self._unwritten(exc) from None

    def _unwritten(self, exc: sqlite3.OperationalError) -> StoreError:
        # Disk full, I/O error, read-only file, lock held too long: nothing of this
        # transaction is kept, and what was stored before is untouched.
        return StoreError(
            f"{self.path}: could not write ({exc}); free disk space, check permissions, "
            "or stop the other process using it; nothing was lost"
        )

    def count(self, table: str) -> int:
        return int(self.db[table].count)

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None
