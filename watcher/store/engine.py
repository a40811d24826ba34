"""The two database engines behind one connection shape.

Every part of the store calls `conn.execute("... ? ...", params)` as on `sqlite3.Connection`.
On PostgreSQL `PgConnection` gives the same few methods over one psycopg 3 connection,
rewriting `?` placeholders to psycopg's `%s` (no statement in the store has a `?` or `%` inside
a quoted literal: tests/test_store_engines.py keeps it so). psycopg is imported only here and
only when a PostgreSQL URL is opened, so a SQLite user never loads it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
URL_SCHEMES = ("postgresql://", "postgres://")


class Cursor(Protocol):
    """What the store reads from a statement's result on either engine."""

    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = 1, /) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """The subset of `sqlite3.Connection` the store uses; `PgConnection` provides it too."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...
    @property
    def in_transaction(self) -> bool: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class PgError(Exception):
    """A PostgreSQL error, as one class callers catch beside `sqlite3.DatabaseError`."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class PgOperationalError(PgError):
    """The server went away, refused, or a lock wait timed out: nothing of the transaction kept."""


class PgIntegrityError(PgError):
    """A constraint refused the row (unique, foreign key, not null, check)."""


# What a damaged or unreachable database raises from any query, on either engine.
DatabaseError: tuple[type[Exception], ...] = (sqlite3.DatabaseError, PgError)
# What a failed write raises: nothing of its transaction is kept.
WriteError: tuple[type[Exception], ...] = (sqlite3.OperationalError, PgOperationalError)
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, PgIntegrityError)


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(URL_SCHEMES)


def describe(url: str) -> str:
    """host:port/dbname of a URL: what error messages may show (never the user or password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/')}"


def engine_of(c: Db) -> str:
    """The engine behind a connection handed to a helper function."""
    return SQLITE if isinstance(c, sqlite3.Connection) else POSTGRESQL


def _wrap(exc: Exception, where: str) -> PgError:
    import psycopg

    # psycopg's messages may carry the server's detail lines; the first line is the error.
    message = f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, psycopg.IntegrityError):
        return PgIntegrityError(message, sqlstate)
    if isinstance(exc, psycopg.OperationalError):
        return PgOperationalError(f"{message} ({where})", sqlstate)
    return PgError(message, sqlstate)


class PgCursor:
    """A psycopg cursor's results with sqlite3.Cursor's names."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall()) if self._cursor.description else []

    def fetchmany(self, size: int = 1, /) -> list[Any]:
        return list(self._cursor.fetchmany(size)) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """One psycopg connection in autocommit mode at the driver level, so that transactions are
    exactly the store's own explicit BEGIN ... COMMIT, as with sqlite3's isolation_level=None."""

    def __init__(self, url: str, connect_timeout: int = 10) -> None:
        self.where = describe(url)
        self._url, self._timeout = url, connect_timeout
        self._raw = self._connect()

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self._url, autocommit=True, connect_timeout=self._timeout)
        except psycopg.Error as exc:
            raise PgOperationalError(
                f"cannot reach the database at {self.where} ({_reason(exc)}); check "
                "WATCHER_DATABASE_URL and that PostgreSQL is running"
            ) from None

    @property
    def lost(self) -> bool:
        """The connection broke (the server restarted or went away, the network dropped): every
        statement on it fails until `reopen`."""
        return bool(self._raw.closed or self._raw.broken)

    def reopen(self) -> None:
        """A new connection in place of a lost one; PgOperationalError if still unreachable.
        The caller does it between transactions only: a transaction cut off by the loss was
        rolled back by the server, and its writes must not go on, one by one, on another."""
        self._raw.close()
        self._raw = self._connect()

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        import psycopg

        try:
            return PgCursor(self._raw.execute(_placeholders(sql), parameters or None))
        except psycopg.Error as exc:
            raise _wrap(exc, self.where) from exc

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> PgCursor:
        import psycopg

        rows = list(parameters)
        cursor = self._raw.cursor()
        try:
            if rows:
                cursor.executemany(_placeholders(sql), rows)
            return PgCursor(cursor)
        except psycopg.Error as exc:
            raise _wrap(exc, self.where) from exc

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        status = self._raw.info.transaction_status
        return status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.execute("ROLLBACK")

    def close(self) -> None:
        self._raw.close()


def _placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


def _reason(exc: Exception) -> str:
    """The first line of a connection error, without the URL psycopg may quote."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": ", 1)[-1] if text.startswith("connection") else text
