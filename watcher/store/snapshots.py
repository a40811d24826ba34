"""Stored page versions: written compressed and keyed by hash, indexed for search, read back whole.

Since m010 the text and element paths live zlib-compressed in `ztext` and `zpaths` (`text` is
left empty), and `snapshots_fts` is a contentless FTS5 index without positions (detail=none)
keyed by `fts_id`: which words each version holds, not the text a second time. Snippets for
search hits are therefore cut here from the decoded text, not by FTS5's snippet(), and hits come
newest first (such an index has no term counts for bm25 to rank by).
A contentless index forgets a row only when told its original words, so deleting a snapshot goes
through `delete` below.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence

from watcher.models import Snapshot
from watcher.rows import MATCH_CLOSE, MATCH_OPEN, SnapshotHit
from watcher.store.codec import pack_paths, pack_text, unpack_paths, unpack_text
from watcher.store.engine import POSTGRESQL, Db, engine_of

SNIPPET_WORDS = 16
HITS = 10


def insert(c: Db, snapshot: Snapshot, at: str) -> None:
    """Store a page version once (content-addressed: a known hash is already stored)."""
    if c.execute("SELECT 1 FROM snapshots WHERE hash = ?", (snapshot.hash,)).fetchone():
        return
    if engine_of(c) == POSTGRESQL:
        # The words go into the row's own tsvector, from the plain text: the stored text is
        # compressed. ON CONFLICT: another worker may store the same version at the same time.
        c.execute(
            "INSERT INTO snapshots (hash, title, text, ztext, zpaths, created_at, search) "
            "VALUES (?, ?, '', ?, ?, ?, to_tsvector('simple', watcher_fold(?))) "
            "ON CONFLICT DO NOTHING",
            (
                snapshot.hash,
                snapshot.title,
                pack_text(snapshot.text),
                pack_paths(snapshot.paths),
                at,
                f"{snapshot.title}\n{snapshot.text}",
            ),
        )
        return
    assert isinstance(c, sqlite3.Connection)  # FTS5's rowid comes as lastrowid, not RETURNING
    fts_id = c.execute(
        "INSERT INTO snapshots_fts (title, text) VALUES (?, ?)", (snapshot.title, snapshot.text)
    ).lastrowid
    c.execute(
        "INSERT INTO snapshots (hash, title, text, ztext, zpaths, fts_id, created_at) "
        "VALUES (?, ?, '', ?, ?, ?, ?)",
        (
            snapshot.hash,
            snapshot.title,
            pack_text(snapshot.text),
            pack_paths(snapshot.paths),
            fts_id,
            at,
        ),
    )


def compress_stored(c: Db) -> None:
    """Compress and index the snapshots stored before m010, a few hundred rows at a time so a
    large state is never held in memory at once. Migration m010 runs this: what it writes may
    change only with a new migration."""
    # The index is keyed by its own id, not the snapshot's rowid: VACUUM may renumber the rowids
    # of a table keyed by text.
    last, fts_id = -1, 0
    while True:
        rows = c.execute(
            "SELECT rowid, hash, title, text, paths FROM snapshots WHERE rowid > ? "
            "ORDER BY rowid LIMIT 500",
            (last,),
        ).fetchall()
        if not rows:
            return
        for rowid, digest, title, plain, paths in rows:
            fts_id += 1
            c.execute(
                "INSERT INTO snapshots_fts (rowid, title, text) VALUES (?, ?, ?)",
                (fts_id, title, plain),
            )
            c.execute(
                "UPDATE snapshots SET ztext = ?, text = '', zpaths = ?, paths = NULL, fts_id = ? "
                "WHERE hash = ?",
                (pack_text(plain), pack_paths(json.loads(paths or "[]")), fts_id, digest),
            )
            last = rowid


def read(c: Db, digest: str) -> Snapshot | None:
    row = c.execute(
        "SELECT hash, title, text, ztext, paths, zpaths FROM snapshots WHERE hash = ?",
        (digest,),
    ).fetchone()
    if row is None:
        return None
    return Snapshot(
        hash=row[0],
        title=row[1],
        text=unpack_text(row[3], row[2]),
        paths=unpack_paths(row[5], row[4]),
    )


def text(c: Db, digest: str) -> str | None:
    row = c.execute("SELECT text, ztext FROM snapshots WHERE hash = ?", (digest,)).fetchone()
    return None if row is None else unpack_text(row[1], row[0])


def delete(c: Db, where: str, args: Sequence[object]) -> int:
    """Delete the snapshots matching `where` and their words from the search index."""
    found = c.execute(
        f"SELECT hash, title, text, ztext, fts_id FROM snapshots WHERE {where}",  # noqa: S608
        tuple(args),
    ).fetchall()
    for _, title, plain, ztext, fts_id in found:
        if fts_id is not None and engine_of(c) != POSTGRESQL:
            c.execute(
                "INSERT INTO snapshots_fts (snapshots_fts, rowid, title, text) "
                "VALUES ('delete', ?, ?, ?)",
                (fts_id, title, unpack_text(ztext, plain)),
            )
    c.executemany("DELETE FROM snapshots WHERE hash = ?", [(r[0],) for r in found])
    return len(found)


def search(c: Db, query: str) -> list[SnapshotHit]:
    """Stored page versions matching an FTS5 query (from `reads.fts_query`), newest first, each
    with the source it was read from, when it was first stored, and whether it is that source's
    current version (an older version is kept as the "before" of a change)."""
    found = c.execute(
        "SELECT s.hash, s.title, s.text, s.ztext, s.created_at, "
        "(SELECT name FROM sources WHERE snapshot_hash = s.hash LIMIT 1), "
        "coalesce((SELECT source FROM changes WHERE after_hash = s.hash LIMIT 1), "
        "(SELECT source FROM changes WHERE before_hash = s.hash LIMIT 1)) "
        "FROM snapshots_fts f JOIN snapshots s ON s.fts_id = f.rowid "
        "WHERE snapshots_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?",
        (query, HITS),
    ).fetchall()
    return [
        SnapshotHit(
            digest,
            title,
            snippet(unpack_text(ztext, plain), query),
            current or older,
            created_at or "",
            current is not None,
        )
        for digest, title, plain, ztext, created_at, current, older in found
    ]


def snippet(text: str, query: str, words: int = SNIPPET_WORDS) -> str:
    """About `words` words around the first word the query names, matches marked as FTS5's
    snippet() marks them, with "…" where text was cut."""
    terms = [
        (t.lower(), prefix == "*") for t, prefix in re.findall(r'"([^"]+)"(?:\s*(\*))?', query)
    ]

    def matches(word: str) -> bool:
        w = word.lower()
        return any(w.startswith(t) if prefix else w == t for t, prefix in terms)

    tokens = re.findall(r"\w+|\W+", text)
    positions = [i for i, t in enumerate(tokens) if t[0].isalnum() or t[0] == "_"]
    first = next((n for n, i in enumerate(positions) if matches(tokens[i])), 0)
    start = max(0, min(first - words // 4, len(positions) - words))
    shown = positions[start : start + words]
    if not shown:
        return ""
    out = []
    for i in range(shown[0], shown[-1] + 1):
        token = tokens[i]
        out.append(f"{MATCH_OPEN}{token}{MATCH_CLOSE}" if matches(token) else token)
    lead = "…" if start > 0 else ""
    tail = "…" if start + words < len(positions) else ""
    return lead + "".join(out) + tail
