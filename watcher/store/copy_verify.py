"""Checking a copied state: per table, the row count and a SHA-256 over the rows on both sides.

Each side is read back on its own and hashed the same way, so a difference in any value shows.
Values are canonical before hashing (bytes as hex, floats by repr, None as null, JSON columns as
the text stored); rows are ordered by their key in Python, not by the database, because two
engines sort text by different collations. Snapshots are hashed by their decoded text and paths,
so how an engine compresses or indexes them does not matter.
"""

from __future__ import annotations

import hashlib
import json

from watcher.store.codec import unpack_paths, unpack_text
from watcher.store.connection import Connection
from watcher.store.copy import TABLES, Table, TableCheck, rows_of, shared_columns

Row = tuple[object, ...]


def verify_copy(source: Connection, target: Connection) -> list[TableCheck]:
    """Both sides of every copied table: counts and hashes, in copy order."""
    checks = []
    for table in TABLES:
        if not source.columns(table.name) or not target.columns(table.name):
            continue
        columns = shared_columns(source, target, table.name)
        rows, digest = table_digest(source, table, columns)
        their_rows, their_digest = table_digest(target, table, columns)
        checks.append(TableCheck(table.name, rows, their_rows, digest, their_digest))
    return checks


def table_digest(store: Connection, table: Table, columns: list[str]) -> tuple[int, str]:
    """The number of rows and the SHA-256 (hex) over each row's SHA-256, in key order."""
    # Each row's own digest is kept, not its text: a large table is never held in memory.
    keyed: list[tuple[tuple[object, ...], bytes]] = []
    if table.name == "snapshots":
        for digest, title, plain, z, paths, zpaths, created_at in store.conn.execute(
            "SELECT hash, title, text, ztext, paths, zpaths, created_at FROM snapshots"
        ):
            page = (digest, title, unpack_text(z, plain), list(unpack_paths(zpaths, paths)))
            keyed.append(((str(digest),), _row_sha((*page, created_at))))
    else:
        at = [columns.index(k) for k in table.key]
        for row in rows_of(store, table, columns):
            keyed.append((tuple(row[i] for i in at), _row_sha(tuple(row))))
    keyed.sort(key=lambda item: item[0])
    sha = hashlib.sha256()
    for _, row_sha in keyed:
        sha.update(row_sha)
    return len(keyed), sha.hexdigest()


def _row_sha(row: Row) -> bytes:
    line = json.dumps([_value(v) for v in row], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(line.encode("utf-8")).digest()


def _value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"hex": bytes(value).hex()}
    return value
