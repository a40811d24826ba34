"""Copying a whole state into another, empty store (`watcher migrate --to`), table by table.

The target may be a fresh SQLite state or any store built on `Connection` (the PostgreSQL engine
gives its connection the same `execute("… ? …")`, `transaction()`, `columns()` and `engine`).
Rows keep their ids, so links between tables (a change's check, an alert's change) stay true.
Columns are those the source and the target both have: a column only one engine holds (a
search vector, an index id) is filled by the target itself.

Snapshots are not copied as stored rows: each goes through `snapshots.insert` with its plain
text, the one path that fills the target's page search (a contentless FTS5 index on SQLite, a
tsvector on PostgreSQL) and compresses as the target does. Change search fills itself (a trigger
on SQLite). What is not copied, and why, is in `SKIPPED`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from watcher.errors import CopyError
from watcher.models import Snapshot
from watcher.store import snapshots
from watcher.store.codec import unpack_paths, unpack_text
from watcher.store.connection import Connection, DatabaseError
from watcher.store.engine import Cursor

BATCH = 500
# Meta keys that describe one running deployment, not the state: the copy's daemon writes its own.
DEPLOYMENT_META = ("heartbeat", "health_probe")


@dataclass(frozen=True)
class Table:
    """A table copied row for row: its key (unique, for the check's order) and the rows taken."""

    name: str
    key: tuple[str, ...]
    where: str = ""  # SQL from this module's constants only
    order: str = ""  # the order rows are written in, when it carries meaning (default: key)
    pg_order: str = ""  # the same order on a PostgreSQL source (which has no rowid)


# In dependency order: a row is written after every row it refers to (foreign keys are on).
TABLES = (
    Table("snapshots", ("hash",)),
    Table("sources", ("name",)),
    Table("checks", ("id",)),
    Table("changes", ("id",)),
    Table("deadlines", ("id",)),
    Table("outbox", ("id",)),
    Table("reviews", ("id",)),
    Table("corrections", ("id",)),
    Table("volatility", ("scope", "key")),
    Table(
        "meta",
        ("key",),
        where="key NOT IN (" + ", ".join(f"'{k}'" for k in DEPLOYMENT_META) + ")",
    ),
    Table("publications", ("id",)),
    Table("publication_sources", ("publication_id", "source")),
    Table("followed", ("name",)),
    # A change's topics are read back in the order they were written (by rowid on SQLite).
    Table("change_topics", ("change_id", "topic"), order="rowid", pg_order="seq"),
    Table("stories", ("id",)),
    Table("story_links", ("id",)),
    Table("story_keys", ("change_id",)),
)
# Not copied, and why (`watcher migrate --to` prints these).
_WORKERS = "runtime coordination of one deployment's workers"
# Columns one engine keeps for itself, filled by the target as rows are written, so never copied
# and not missing from a SQLite target: PostgreSQL's tsvector `search`, and `seq`, the insertion
# order SQLite reads from rowid.
ENGINE_COLUMNS = frozenset({"search", "seq"})
_OWN_INDEX = "the target's own search index, filled as rows are written"
SKIPPED = {
    # Session ids are bearer tokens: a copy would be one more place to steal them from, and the
    # new deployment may use another address or login. People log in again.
    "web_sessions": "web logins of the old deployment: people log in again",
    "login_failures": "lockout counters of the old deployment's clients",
    "workers": _WORKERS,
    "site_claims": _WORKERS,
    "host_holds": _WORKERS,
    "job_claims": _WORKERS,
    "_sqlite_migrations": "the target records its own schema version",
    "schema_migrations": "the target records its own schema version",
    "changes_fts": _OWN_INDEX,
    "snapshots_fts": _OWN_INDEX,
}
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides after a copy: row counts and SHA-256 over the rows."""

    name: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)


@dataclass(frozen=True)
class CopyReport:
    """What `copy_state` wrote (rows per table, in order) and the check of each table."""

    copied: tuple[tuple[str, int], ...]
    checks: tuple[TableCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def differing(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]


def copy_state(
    source: Connection, target: Connection, progress: Progress | None = None
) -> CopyReport:
    """Copy every data table of `source` into `target` (migrated, empty), then check both sides.

    One transaction per table on the target; the source is read in one read transaction, so the
    copy and its check see the same state. Raises CopyError when the target holds data.
    """
    from watcher.store.copy_verify import verify_copy

    refuse_unless_empty(target)
    refuse_missing_columns(source, target)
    copied: list[tuple[str, int]] = []
    with _reading(source):
        for table in TABLES:
            if not source.columns(table.name):
                continue  # a table this schema version has not got yet
            try:
                if table.name == "snapshots":
                    rows = _copy_snapshots(source, target, progress)
                else:
                    rows = _copy_rows(source, target, table, progress)
            except DatabaseError as exc:
                # The table's transaction is rolled back; the tables before it stay written.
                done = ", ".join(name for name, _ in copied) or "none"
                raise CopyError(
                    f"copying {table.name}: the target refused a row ({exc}); tables copied "
                    f"before it: {done}; delete the target's data before copying again"
                ) from None
            copied.append((table.name, rows))
        _advance_identities(target)
        checks = verify_copy(source, target)
    return CopyReport(tuple(copied), tuple(checks))


def refuse_unless_empty(target: Connection) -> None:
    """Raise CopyError naming what the target holds, when it holds any copied table's rows."""
    held = {t.name: _count(target, t) for t in TABLES if target.columns(t.name)}
    if held.get("checks"):
        raise CopyError(
            f"the target already holds {held['checks']} checks; copy into an empty database"
        )
    for name, rows in held.items():
        if rows:
            raise CopyError(
                f"the target already holds {rows} rows in {name}; copy into an empty database"
            )


def refuse_missing_columns(source: Connection, target: Connection) -> None:
    """Raise CopyError when the target lacks a table or column the source has: the copy would
    drop its data silently. (Snapshots are written through the store, which knows its engine.)"""
    for table in TABLES:
        ours = source.columns(table.name)
        if table.name == "snapshots" or not ours:
            continue
        theirs = target.columns(table.name)
        missing = [c for c in ours if c not in theirs and c not in ENGINE_COLUMNS]
        if not theirs or missing:
            what = f"column {', '.join(missing)}" if theirs else "table"
            raise CopyError(
                f"the target has no {table.name} {what}, which the source has; its schema is "
                "older than this watcher's: copy into a new database made by this watcher"
            )


def _count(store: Connection, table: Table) -> int:
    where = f" WHERE {table.where}" if table.where else ""
    return int(store.conn.execute(f'SELECT count(*) FROM "{table.name}"{where}').fetchone()[0])  # noqa: S608


def shared_columns(source: Connection, target: Connection, table: str) -> list[str]:
    """The columns both sides have, in the source's order."""
    theirs = set(target.columns(table))
    return [c for c in source.columns(table) if c in theirs and c not in ENGINE_COLUMNS]


@contextmanager
def _reading(source: Connection) -> Iterator[None]:
    # One state throughout, whatever the daemon or the web app write meanwhile: a read
    # transaction in WAL mode, a repeatable-read snapshot on PostgreSQL.
    if source.engine == "postgresql":
        source.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    else:
        source.conn.execute("BEGIN")
    try:
        yield
    finally:
        source.conn.execute("COMMIT")


def rows_of(source: Connection, table: Table, columns: list[str], order: str = "") -> Cursor:
    """A cursor over the table's rows (the columns given), in `order` if given."""
    names = ", ".join(f'"{c}"' for c in columns)
    where = f" WHERE {table.where}" if table.where else ""
    by = f" ORDER BY {order}" if order else ""
    return source.conn.execute(f'SELECT {names} FROM "{table.name}"{where}{by}')  # noqa: S608


def _copy_rows(
    source: Connection, target: Connection, table: Table, progress: Progress | None
) -> int:
    columns = shared_columns(source, target, table.name)
    own = table.order if source.engine == "sqlite" else table.pg_order
    order = own or ", ".join(table.key)
    cursor = rows_of(source, table, columns, order)
    insert = (
        f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '  # noqa: S608
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    done = 0
    with target.transaction() as c:
        while batch := cursor.fetchmany(BATCH):
            c.executemany(insert, batch)
            done += len(batch)
            if progress:
                progress(table.name, done)
    return done


def _copy_snapshots(source: Connection, target: Connection, progress: Progress | None) -> int:
    cursor = source.conn.execute(
        "SELECT hash, title, text, ztext, paths, zpaths, created_at FROM snapshots ORDER BY hash"
    )
    done = 0
    with target.transaction() as c:
        while batch := cursor.fetchmany(BATCH):
            for digest, title, plain, ztext, paths, zpaths, created_at in batch:
                page = Snapshot(
                    digest, title, unpack_text(ztext, plain), unpack_paths(zpaths, paths)
                )
                snapshots.insert(c, page, created_at)
            done += len(batch)
            if progress:
                progress("snapshots", done)
    return done


def _advance_identities(target: Connection) -> None:
    # PostgreSQL's identity sequences do not move when rows come with their ids: set each past
    # the largest copied id, or the next insert would collide. SQLite takes max(rowid) + 1.
    if target.engine != "postgresql":
        return
    with target.transaction() as c:
        for table in TABLES:
            if table.key == ("id",):
                c.execute(
                    f"SELECT setval(pg_get_serial_sequence(?, 'id'), max(id)) FROM \"{table.name}\"",  # noqa: S608
                    (table.name,),
                )


def state_tables(store: Connection) -> list[str]:
    """The tables of a SQLite state, without the FTS5 indexes' own storage tables."""
    names = [
        str(r[0])
        for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    indexes = {n for n in names if n.endswith("_fts")}
    return [n for n in names if not any(n.startswith(f"{i}_") for i in indexes)]
