"""Reads: changes, sources, deadlines, corrections, and the web app's timeline, search and filters."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from watcher.classify.rules import LABELS
from watcher.rows import MATCH_CLOSE, MATCH_OPEN
from watcher.store.codec import iso
from watcher.store.connection import Connection
from watcher.store.schema import REVIEW_STATES

REVIEW_FILTERS = ("unreviewed", "reviewed_any", *REVIEW_STATES)
MAX_PER_PAGE = 200
EXPORT_LIMIT = 10_000
TIMELINE_COLUMNS = """
    c.id, c.source, c.url, c.detected_at, c.title, c.summary, c.category, c.review_state,
    c.corrected_by, json_extract(c.evidence, '$.categories[0].confidence') AS confidence,
    coalesce(nullif(json_extract(c.evidence, '$.categories[0].sentence'), ''),
             json_extract(c.evidence, '$.sentences[0]')) AS sentence
"""


class ReadStore(Connection):
    """The store's reads by source, id or date, for the CLI, delivery and exports."""

    def changes(
        self,
        source: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Changes, newest first, with added/removed/diff decoded."""
        where: list[str] = []
        args: list[Any] = []
        if source:
            where.append("source = ?")
            args.append(source)
        if since:
            where.append("detected_at >= ?")
            args.append(iso(since))
        if ids is not None:
            where.append(f"id IN ({', '.join('?' * len(ids))})")
            args.extend(ids)
        sql = "SELECT * FROM changes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY detected_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = []
        for row in self.db.query(sql, args):
            for key in ("added", "removed", "diff", "evidence"):
                row[key] = json.loads(row[key])
            rows.append(row)
        return rows

    def sources_status(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM sources ORDER BY name"))

    def checks(self, source: str | None = None) -> list[dict[str, Any]]:
        if source:
            return list(
                self.db.query("SELECT * FROM checks WHERE source = ? ORDER BY id", [source])
            )
        return list(self.db.query("SELECT * FROM checks ORDER BY id"))

    def count(self, table: str) -> int:
        return int(self.db[table].count)

    def deadlines(self, today: str | None = None) -> list[dict[str, Any]]:
        """Closing dates, soonest first; only those on or after `today` (ISO date) when given."""
        if today:
            return list(
                self.db.query("SELECT * FROM deadlines WHERE due >= ? ORDER BY due, id", [today])
            )
        return list(self.db.query("SELECT * FROM deadlines ORDER BY due, id"))

    def deadline(self, deadline_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM deadlines WHERE id = ?", [deadline_id]))
        return rows[0] if rows else None

    def corrections(self) -> list[dict[str, Any]]:
        """Every correction with the change's text, oldest first (the retraining set)."""
        return list(
            self.db.query(
                "SELECT k.id, k.change_id, k.previous, k.label, k.reviewer, k.note, k.created_at, "
                "c.title, c.url, c.added, c.removed FROM corrections k "
                "JOIN changes c ON c.id = k.change_id ORDER BY k.id"
            )
        )


@dataclass(frozen=True)
class Filters:
    """What a timeline, feed or export shows. Empty means no filter."""

    category: str = ""
    source: str = ""
    tag: str = ""
    since: date | None = None  # inclusive, UTC days
    until: date | None = None  # inclusive
    review: str = ""  # "", one of REVIEW_FILTERS

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        """From query parameters; raises ValueError naming the bad one."""
        category = params.get("category", "").strip()
        if category and category not in LABELS:
            raise ValueError(f"category must be one of {', '.join(LABELS)}")
        review = params.get("review", "").strip()
        if review and review not in REVIEW_FILTERS:
            raise ValueError(f"review must be one of {', '.join(REVIEW_FILTERS)}")
        days: dict[str, date | None] = {}
        for key in ("from", "to"):
            text = params.get(key, "").strip()
            try:
                days[key] = date.fromisoformat(text) if text else None
            except ValueError:
                raise ValueError(f"{key} must be a date like 2026-11-01") from None
        return cls(
            category=category,
            source=params.get("source", "").strip()[:200],
            tag=params.get("tag", "").strip()[:200],
            since=days["from"],
            until=days["to"],
            review=review,
        )

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for links that keep them."""
        out = {
            "category": self.category,
            "source": self.source,
            "tag": self.tag,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "review": self.review,
        }
        return {k: v for k, v in out.items() if v}

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.category:
            clauses.append("c.category = ?")
            args.append(self.category)
        if self.source:
            clauses.append("c.source = ?")
            args.append(self.source)
        if self.tag:
            clauses.append(
                "c.source IN (SELECT s.name FROM sources s, json_each(s.tags) t WHERE t.value = ?)"
            )
            args.append(self.tag)
        if self.since:
            clauses.append("c.detected_at >= ?")
            args.append(self.since.isoformat())
        if self.until:
            clauses.append("c.detected_at < ?")
            args.append((self.until + timedelta(days=1)).isoformat())
        if self.review == "unreviewed":
            clauses.append("c.review_state IS NULL")
        elif self.review == "reviewed_any":
            clauses.append("c.review_state IS NOT NULL")
        elif self.review:
            clauses.append("c.review_state = ?")
            args.append(self.review)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _rows(
    store: Connection, sql: str, args: list[Any] | tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    cursor = store.conn.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def timeline(store: Connection, filters: Filters, page: int = 1, per_page: int = 50) -> Page:
    """Changes newest first, one page of them, with the count of all that match."""
    where, args = filters.where()
    per_page = max(1, min(per_page, EXPORT_LIMIT))
    page = max(1, page)
    # Filters are fixed clauses with placeholders; no input reaches the SQL text.
    items = _rows(
        store,
        f"SELECT {TIMELINE_COLUMNS} FROM changes c{where} "  # noqa: S608
        "ORDER BY c.detected_at DESC, c.id DESC LIMIT ? OFFSET ?",
        [*args, per_page, (page - 1) * per_page],
    )
    total = store.conn.execute(f"SELECT count(*) FROM changes c{where}", args).fetchone()[0]  # noqa: S608
    return Page(items, page, per_page, int(total))


def full_changes(
    store: Connection, filters: Filters, limit: int = EXPORT_LIMIT
) -> list[dict[str, Any]]:
    """Changes with diff and evidence decoded, for exports and feeds."""
    where, args = filters.where()
    rows = _rows(
        store,
        f"SELECT c.*, {TIMELINE_COLUMNS} FROM changes c{where} "  # noqa: S608
        "ORDER BY c.detected_at DESC, c.id DESC LIMIT ?",
        [*args, limit],
    )
    for row in rows:
        for key in ("added", "removed", "diff", "evidence"):
            row[key] = json.loads(row[key])
    return rows


def change(store: ReadStore, change_id: int) -> dict[str, Any] | None:
    rows = store.changes(ids=[change_id])
    if not rows:
        return None
    row = rows[0]
    categories = row["evidence"].get("categories") or []
    row["confidence"] = categories[0]["confidence"] if categories else None
    row["reviews"] = _rows(
        store, "SELECT * FROM reviews WHERE change_id = ? ORDER BY id DESC", (change_id,)
    )
    row["corrections"] = _rows(
        store, "SELECT * FROM corrections WHERE change_id = ? ORDER BY id DESC", (change_id,)
    )
    row["deadlines"] = _rows(
        store, "SELECT * FROM deadlines WHERE change_id = ? ORDER BY due", (change_id,)
    )
    return row


def snapshot_text(store: Connection, digest: str) -> str | None:
    row = store.conn.execute("SELECT text FROM snapshots WHERE hash = ?", (digest,)).fetchone()
    return None if row is None else str(row[0])


def unreviewed(store: Connection) -> int:
    return int(
        store.conn.execute("SELECT count(*) FROM changes WHERE review_state IS NULL").fetchone()[0]
    )


def choices(store: Connection) -> dict[str, list[str]]:
    """Values the timeline's filter menus offer."""
    return {
        "sources": [r[0] for r in store.conn.execute("SELECT name FROM sources ORDER BY name")],
        "tags": [
            r[0]
            for r in store.conn.execute(
                "SELECT DISTINCT t.value FROM sources s, json_each(s.tags) t ORDER BY 1"
            )
        ],
    }


def sources(store: Connection) -> list[dict[str, Any]]:
    """Every source row with its number of changes."""
    counts = dict(store.conn.execute("SELECT source, count(*) FROM changes GROUP BY source"))
    rows = _rows(store, "SELECT * FROM sources ORDER BY name")
    for row in rows:
        row["tags"] = json.loads(row["tags"])
        row["changes"] = counts.get(row["name"], 0)
    return rows


def source(store: Connection, name: str) -> dict[str, Any] | None:
    rows = _rows(store, "SELECT * FROM sources WHERE name = ?", (name,))
    if not rows:
        return None
    rows[0]["tags"] = json.loads(rows[0]["tags"])
    return rows[0]


def fts_query(text: str) -> str:
    """A user's words as an FTS5 query: every word must appear; "consult*" matches by prefix.

    Each word is quoted, so FTS5 operators and punctuation in the input are only ever words.
    """
    terms = []
    for raw in text.split()[:20]:
        prefix = raw.endswith("*")
        for word in re.findall(r"\w+", raw):
            terms.append(f'"{word}"')
        if prefix and terms:
            terms[-1] += " *"
    return " ".join(terms)


@dataclass(frozen=True)
class SearchResult:
    changes: Page
    snapshots: list[dict[str, Any]]
    query: str


def search(store: Connection, text: str, page: int = 1, per_page: int = 20) -> SearchResult:
    """Changes and stored page versions matching every word, best first, with snippets."""
    query = fts_query(text)
    if not query:
        return SearchResult(Page([], 1, per_page, 0), [], "")
    page = max(1, page)
    marks = (MATCH_OPEN, MATCH_CLOSE, "…")
    items = _rows(
        store,
        "SELECT c.id, c.source, c.url, c.detected_at, c.title, c.category, c.review_state, "
        "snippet(changes_fts, -1, ?, ?, ?, 16) AS snippet "
        "FROM changes_fts JOIN changes c ON c.id = changes_fts.rowid "
        "WHERE changes_fts MATCH ? ORDER BY rank LIMIT ? OFFSET ?",
        [*marks, query, per_page, (page - 1) * per_page],
    )
    total = store.conn.execute(
        "SELECT count(*) FROM changes_fts WHERE changes_fts MATCH ?", (query,)
    ).fetchone()[0]
    snapshots = _rows(
        store,
        "SELECT f.hash, f.title, snippet(snapshots_fts, 2, ?, ?, ?, 16) AS snippet, "
        "coalesce((SELECT name FROM sources WHERE snapshot_hash = f.hash LIMIT 1), "
        "(SELECT source FROM changes WHERE after_hash = f.hash LIMIT 1)) AS source "
        "FROM snapshots_fts f WHERE snapshots_fts MATCH ? ORDER BY rank LIMIT 10",
        [*marks, query],
    )
    return SearchResult(Page(items, page, per_page, int(total)), snapshots, query)


def deadlines(store: Connection, today: date) -> list[dict[str, Any]]:
    rows = _rows(
        store,
        "SELECT d.*, c.title, c.url FROM deadlines d JOIN changes c ON c.id = d.change_id "
        "WHERE d.due >= ? ORDER BY d.due, d.id",
        (today.isoformat(),),
    )
    for row in rows:
        row["days_left"] = (date.fromisoformat(row["due"]) - today).days
    return rows
