"""Reads for citations and the change-v1 object: a stored page version with where and when it
was retrieved (its permalink), and changes and their closing dates by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watcher.rows import ChangeRow, DeadlineRow
from watcher.store import snapshots
from watcher.store.codec import rows
from watcher.store.connection import Connection
from watcher.store.reviews import CORRECTED_AT


def deadlines_of(store: Connection, change_ids: Sequence[int]) -> dict[int, list[DeadlineRow]]:
    """The stored closing dates of each of these changes, soonest first."""
    out: dict[int, list[DeadlineRow]] = {}
    ids = list(dict.fromkeys(change_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = rows(
            DeadlineRow,
            store.conn.execute(
                f"SELECT * FROM deadlines WHERE change_id IN ({', '.join('?' * len(chunk))}) "  # noqa: S608
                "ORDER BY due, id",
                chunk,
            ),
        )
        for d in found:
            out.setdefault(d.change_id, []).append(d)
    return out


def changes_by_id(store: Connection, change_ids: Sequence[int]) -> list[ChangeRow]:
    """Full change rows in the order of `change_ids` (ids not found are left out)."""
    if not change_ids:
        return []
    found = {
        r.id: r
        for r in rows(
            ChangeRow,
            store.conn.execute(
                f"SELECT c.*, {CORRECTED_AT} FROM changes c "  # noqa: S608
                f"WHERE c.id IN ({', '.join('?' * len(change_ids))})",
                list(change_ids),
            ),
        )
    }
    return [found[i] for i in change_ids if i in found]


@dataclass(frozen=True)
class Retrieval:
    """One time a stored text was read from a page: by a check that found a change, or as the
    first version of a source."""

    source: str
    url: str
    at: str
    change_id: int | None = None


@dataclass(frozen=True)
class SnapshotRecord:
    """A stored page version with where and when it was retrieved, for its permalink."""

    hash: str
    title: str
    text: str
    created_at: str  # first stored
    retrievals: tuple[Retrieval, ...] = ()


def snapshot_record(store: Connection, digest: str, limit: int = 50) -> SnapshotRecord | None:
    """The stored text at `digest`, and every change (and current source state) that names it
    as the version it retrieved, earliest first."""
    found = store.conn.execute(
        "SELECT hash, title, created_at FROM snapshots WHERE hash = ?", (digest,)
    ).fetchone()
    if found is None:
        return None
    text = snapshots.text(store.conn, digest) or ""
    seen = [
        Retrieval(source, url, at, change_id)
        for change_id, source, url, at in store.conn.execute(
            "SELECT id, source, url, detected_at FROM changes WHERE after_hash = ? "
            "ORDER BY detected_at, id LIMIT ?",
            (digest, limit),
        )
    ]
    named = {r.source for r in seen}
    first = [
        Retrieval(name, url, found[2])
        for name, url in store.conn.execute(
            "SELECT name, url FROM sources WHERE snapshot_hash = ? ORDER BY name LIMIT ?",
            (digest, limit),
        )
        if name not in named
    ]
    if not seen and not first:
        # A version replaced since: the change that left it names it as its "before".
        first = [
            Retrieval(source, url, found[2])
            for source, url in store.conn.execute(
                "SELECT DISTINCT source, url FROM changes WHERE before_hash = ? LIMIT ?",
                (digest, limit),
            )
        ]
    return SnapshotRecord(found[0], found[1], text, found[2], (*first, *seen))
