"""Full-text search on PostgreSQL: the `search` tsvector columns of changes and snapshots
(schema_pg), queried with the words `reads.fts_query` already parsed, never raw user text.

SQLite answers the same calls with FTS5 (reads.search, snapshots.search). The query is
`'word' & 'word':*` for `to_tsquery`: each word is `\\w+` (no quote or operator can be in it)
and folded like the indexed text (`watcher_fold`: lower case, accents off when the server has
`unaccent`). Changes rank by `ts_rank_cd` with a `ts_headline` snippet marked like FTS5's
snippet(); page hits come newest first with a snippet cut in Python, as on SQLite.
"""

from __future__ import annotations

import re

from watcher.rows import MATCH_CLOSE, MATCH_OPEN, SearchHit, SnapshotHit
from watcher.store import snapshots
from watcher.store.codec import rows, unpack_text
from watcher.store.engine import Db

SNIPPET_WORDS = 16
# The change text a snippet is cut from: the title, the summary and what was added.
_CHANGE_TEXT = (
    "concat_ws(E'\\n', c.title, c.summary, (SELECT string_agg(v, E'\\n') "
    "FROM jsonb_array_elements_text(c.added::jsonb) AS a(v)))"
)


def tsquery(fts: str) -> str:
    """An FTS5 query from `reads.fts_query` (`"word" "word" *`) as `to_tsquery` text."""
    terms = re.findall(r'"(\w+)"(\s*\*)?', fts)
    return " & ".join(f"'{word}'" + (":*" if star else "") for word, star in terms)


def changes(conn: Db, fts: str, page: int, per_page: int) -> tuple[list[SearchHit], int]:
    """One page of changes matching every word, best first, and how many match in all."""
    query = tsquery(fts)
    options = f"StartSel={MATCH_OPEN}, StopSel={MATCH_CLOSE}, MaxWords={SNIPPET_WORDS}, MinWords=5"
    found = rows(
        SearchHit,
        conn.execute(
            "SELECT c.id, c.source, c.url, c.detected_at, c.title, c.category, c.review_state, "  # noqa: S608
            f"ts_headline('simple', {_CHANGE_TEXT}, q, ?) AS snippet "
            "FROM changes c, to_tsquery('simple', watcher_fold(?)) q WHERE c.search @@ q "
            "ORDER BY ts_rank_cd(c.search, q) DESC, c.id DESC LIMIT ? OFFSET ?",
            (options, query, per_page, (page - 1) * per_page),
        ),
    )
    total = conn.execute(
        "SELECT count(*) FROM changes WHERE search @@ to_tsquery('simple', watcher_fold(?))",
        (query,),
    ).fetchone()[0]
    return found, int(total)


def snapshots_matching(conn: Db, fts: str) -> list[SnapshotHit]:
    """Stored page versions holding every word, newest first."""
    found = conn.execute(
        "SELECT s.hash, s.title, s.text, s.ztext, s.created_at, "
        "(SELECT name FROM sources WHERE snapshot_hash = s.hash LIMIT 1), "
        "coalesce((SELECT source FROM changes WHERE after_hash = s.hash LIMIT 1), "
        "(SELECT source FROM changes WHERE before_hash = s.hash LIMIT 1)) "
        "FROM snapshots s WHERE s.search @@ to_tsquery('simple', watcher_fold(?)) "
        "ORDER BY s.created_at DESC, s.hash LIMIT ?",
        (tsquery(fts), snapshots.HITS),
    ).fetchall()
    return [
        SnapshotHit(
            digest,
            title,
            snapshots.snippet(unpack_text(ztext, plain), fts),
            current or older,
            created_at or "",
            current is not None,
        )
        for digest, title, plain, ztext, created_at, current, older in found
    ]
