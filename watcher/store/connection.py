"""The connection: opening the database (a SQLite file in WAL mode, or a PostgreSQL URL),
migrations, one write transaction, and meta values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlite_utils import Database

from watcher.errors import StoreError
from watcher.statelock import read_only_error, unwritable
from watcher.store import engine as engines
from watcher.store.engine import POSTGRESQL, SQLITE, Db, PgConnection, WriteError
from watcher.store.schema import DB_NAME, migrations

# What a damaged or unreachable database raises from any query, on either engine; callers
# outside the store catch it by this name.
DatabaseError = engines.DatabaseError


class Connection:
    """One database, migrated on open; the base every part of the store builds on.

    SQLite: one file in WAL mode (`Store.open(state_dir)`). PostgreSQL: one psycopg connection
    per Store (`Store.connect(url)`). Not a pool: a Store is one connection used by one thread
    at a time (the daemon and the web app each open their own), and its transactions span
    several calls (`batch()`), which a pool would have to pin to one connection anyway.
    """

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        self._batched = 0  # savepoints handed out by the open batch (0: no batch open)
        self._in_batch = False
        self.conn: Db
        if url is not None:
            self.engine = POSTGRESQL
            self.path = Path(engines.describe(url))  # for messages: host:port/db, no password
            self.conn = self._open_postgres(url)
            self._migrate_postgres()
            return
        assert path is not None
        self.engine = SQLITE
        self.path = path
        self.conn = self.sqlite = self._open_sqlite(path)
        self.db = Database(self.sqlite)  # sqlite-utils over the same connection (migrations)
        self._migrate()

    @property
    def skip_locked(self) -> str:
        """The suffix a claiming SELECT takes: PostgreSQL skips rows another worker holds;
        SQLite needs none, its BEGIN IMMEDIATE already lets one writer in at a time."""
        return " FOR UPDATE SKIP LOCKED" if self.engine == POSTGRESQL else ""

    @staticmethod
    def _open_sqlite(path: Path) -> sqlite3.Connection:
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
        return conn

    @staticmethod
    def _open_postgres(url: str) -> PgConnection:
        try:
            conn = PgConnection(url)
        except ImportError:
            raise StoreError(
                "a PostgreSQL database needs psycopg: pip install 'psycopg[binary]' psycopg-pool"
            ) from None
        except engines.PgError as exc:
            raise StoreError(str(exc)) from None
        # The wait for a row lock is bounded, like SQLite's busy_timeout.
        conn.execute("SET lock_timeout = '10s'")
        return conn

    @classmethod
    def open(cls, state_dir: Path, database: str | None = None) -> Self:
        """The state in `state_dir` (SQLite), or the PostgreSQL database at `database`."""
        if database:
            return cls.connect(database)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{state_dir}: cannot create the state directory ({exc.strerror}); "
                "set --state or WATCHER_STATE to a writable directory"
            ) from None
        return cls(state_dir / DB_NAME)

    @classmethod
    def connect(cls, url: str) -> Self:
        """A PostgreSQL database by URL (postgresql://user:password@host:port/dbname)."""
        if not engines.is_postgres_url(url):
            raise StoreError("a database URL must start with postgresql://")
        return cls(url=url)

    def close(self) -> None:
        self.conn.close()

    def reconnect(self) -> bool:
        """After the connection to PostgreSQL was lost (the server restarted, the network
        dropped), open a new one; True when it did. Only between transactions (never inside a
        batch), so no write is split across two connections. False when nothing was lost, and
        always on SQLite; StoreError when the server is still unreachable."""
        if not isinstance(self.conn, PgConnection) or self._in_batch or not self.conn.lost:
            return False
        try:
            self.conn.reopen()
            self.conn.execute("SET lock_timeout = '10s'")
        except engines.PgError as exc:
            raise StoreError(str(exc)) from None
        return True

    def _migrate(self) -> None:
        known = {m.name for m in migrations._migrations}
        db = self._sqlite_utils()
        try:
            applied = {m.name for m in migrations.applied(db)}
            unknown = applied - known
            if unknown:
                raise StoreError(
                    f"{self.path}: written by a newer watcher (migrations {', '.join(sorted(unknown))}); "
                    "upgrade watcher or point --state at another directory"
                )
            migrations.apply(db)
        except sqlite3.OperationalError as exc:
            problem = unwritable(self.path.parent)
            if problem:
                raise read_only_error(self.path.parent, problem) from None
            raise StoreError(
                f"{self.path}: cannot write the state database ({exc}); check free space and permissions"
            ) from None

    def _sqlite_utils(self) -> Database:
        return self.db

    def _migrate_postgres(self) -> None:
        from watcher.store.pg_migrate import migrate

        try:
            migrate(self.conn, str(self.path))
        except engines.PgError as exc:
            raise StoreError(
                f"{self.path}: cannot migrate the database ({exc}); check that the user may "
                "create tables in it"
            ) from None

    @property
    def schema_version(self) -> int:
        if self.engine == POSTGRESQL:
            return int(self.conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0])
        return len(migrations.applied(self._sqlite_utils()))

    @property
    def _begin(self) -> str:
        # BEGIN IMMEDIATE takes SQLite's write lock up front; a deferred BEGIN that upgrades
        # later can fail with SQLITE_BUSY without waiting. PostgreSQL locks rows as it writes.
        return "BEGIN IMMEDIATE" if self.engine == SQLITE else "BEGIN"

    @contextmanager
    def transaction(self) -> Iterator[Db]:
        """One write transaction: everything in the block commits together or not at all.

        Inside `batch()` it is a savepoint of the batch's transaction instead: a failing block
        is rolled back alone, and the blocks before it stay for the batch to commit.
        """
        if self._in_batch:
            with self._savepoint():
                yield self.conn
            return
        try:
            self.conn.execute(self._begin)
            try:
                yield self.conn
                self.conn.commit()
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.rollback()
                raise
        except WriteError as exc:
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
            self.conn.execute(self._begin)
        except WriteError as exc:
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
            except WriteError as exc:
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
                # PostgreSQL refuses every statement after an error until this ROLLBACK TO.
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")
        except WriteError as exc:
            raise self._unwritten(exc) from None

    def _unwritten(self, exc: Exception) -> StoreError:
        # Disk full, I/O error, read-only file, lock held too long, server gone: nothing of
        # this transaction is kept, and what was stored before is untouched.
        if self.engine == POSTGRESQL:
            return StoreError(
                f"{self.path}: could not write ({exc}); check that PostgreSQL is running and "
                "WATCHER_DATABASE_URL; nothing was lost"
            )
        return StoreError(
            f"{self.path}: could not write ({exc}); free disk space, check permissions, "
            "or stop the other process using it; nothing was lost"
        )

    def columns(self, table: str) -> list[str]:
        """The table's column names in their order; empty when there is no such table."""
        if self.engine == "postgresql":
            found = self.conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            ).fetchall()
        else:
            found = self.conn.execute(
                "SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,)
            ).fetchall()
        return [str(r[0]) for r in found]

    def count(self, table: str) -> int:
        # The table name comes from the store's own calls, never from input.
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

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

    def any_of(self, column: str) -> str:
        """`column` is one of a Python list passed as the next parameter (see `listed`)."""
        if self.engine == POSTGRESQL:
            return f"{column} = ANY(?)"
        return f"{column} IN (SELECT value FROM json_each(?))"  # noqa: S608

    def listed(self, values: Iterable[object]) -> object:
        """The parameter for `any_of`: a list (an array) on PostgreSQL, JSON text on SQLite."""
        items = list(values)
        return items if self.engine == POSTGRESQL else json.dumps(items)
