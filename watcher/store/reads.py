"""Reads: changes, sources, deadlines, corrections, and the web app's timeline, search and filters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from watcher.classify.rules import LABELS
from watcher.rows import (
    MATCH_CLOSE,
    MATCH_OPEN,
    ChangeDetail,
    ChangeRow,
    CheckRow,
    CorrectionRow,
    DeadlineRow,
    ReviewRow,
    SearchHit,
    SnapshotHit,
    SourceRow,
    TimelineItem,
)
from watcher.store import pg_search, snapshots
from watcher.store.codec import iso, rows
from watcher.store.connection import Connection
from watcher.store.dialect import json_values, timeline_columns
from watcher.store.reviews import CORRECTED_AT
from watcher.store.schema import REVIEW_STATES
from watcher.store.topics import topics_by_change, topics_of

T = TypeVar("T")
R = TypeVar("R")
Tagged = TypeVar("Tagged", ChangeRow, TimelineItem)
REVIEW_FILTERS = ("unreviewed", "reviewed_any", *REVIEW_STATES)
MAX_PER_PAGE = 200
EXPORT_LIMIT = 10_000


class ReadStore(Connection):
    """The store's reads by source, id or date, for the CLI, delivery and exports."""

    def changes(
        self,
        source: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[ChangeRow]:
        """Changes, newest first."""
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
        sql = f"SELECT c.*, {CORRECTED_AT} FROM changes c"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY detected_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        found = rows(ChangeRow, self.conn.execute(sql, args))
        return _with_topics(self, found)

    def sources_status(self) -> list[SourceRow]:
        return rows(SourceRow, self.conn.execute("SELECT * FROM sources ORDER BY name"))

    def checks(self, source: str | None = None) -> list[CheckRow]:
        if source:
            cursor = self.conn.execute(
                "SELECT * FROM checks WHERE source = ? ORDER BY id", (source,)
            )
        else:
            cursor = self.conn.execute("SELECT * FROM checks ORDER BY id")
        return rows(CheckRow, cursor)

    def deadlines(self, today: str | None = None) -> list[DeadlineRow]:
        """Closing dates, soonest first; only those on or after `today` (ISO date) when given."""
        if today:
            cursor = self.conn.execute(
                "SELECT * FROM deadlines WHERE due >= ? ORDER BY due, id", (today,)
            )
        else:
            cursor = self.conn.execute("SELECT * FROM deadlines ORDER BY due, id")
        return rows(DeadlineRow, cursor)

    def deadline(self, deadline_id: int) -> DeadlineRow | None:
        found = rows(
            DeadlineRow, self.conn.execute("SELECT * FROM deadlines WHERE id = ?", (deadline_id,))
        )
        return found[0] if found else None

    def corrections(self) -> list[CorrectionRow]:
        """Every correction with the change's text, oldest first (the retraining set)."""
        return rows(
            CorrectionRow,
            self.conn.execute(
                "SELECT k.id, k.change_id, k.previous, k.label, k.reviewer, k.note, k.created_at, "
                "c.title, c.url, c.added, c.removed FROM corrections k "
                "JOIN changes c ON c.id = k.change_id ORDER BY k.id"
            ),
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
    topic: str = ""  # a [[topic]] name: changes tagged with it

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
            topic=params.get("topic", "").strip()[:64],
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
            "topic": self.topic,
        }
        return {k: v for k, v in out.items() if v}

    def where(self, engine: str = "sqlite") -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.category:
            clauses.append("c.category = ?")
            args.append(self.category)
        if self.source:
            clauses.append("c.source = ?")
            args.append(self.source)
        if self.tag:
            tags = json_values(engine, "s.tags", "t")
            clauses.append(f"c.source IN (SELECT s.name FROM sources s, {tags} WHERE t.value = ?)")  # noqa: S608
            args.append(self.tag)
        if self.since:
            clauses.append("c.detected_at >= ?")
            args.append(self.since.isoformat())
        if self.until:
            clauses.append("c.detected_at < ?")
            args.append((self.until + timedelta(days=1)).isoformat())
        if self.topic:
            clauses.append("c.id IN (SELECT t.change_id FROM change_topics t WHERE t.topic = ?)")
            args.append(self.topic)
        if self.review == "unreviewed":
            clauses.append("c.review_state IS NULL")
        elif self.review == "reviewed_any":
            clauses.append("c.review_state IS NOT NULL")
        elif self.review:
            clauses.append("c.review_state = ?")
            args.append(self.review)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
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


def timeline(
    store: Connection, filters: Filters, page: int = 1, per_page: int = 50
) -> Page[TimelineItem]:
    """Changes newest first, one page of them, with the count of all that match."""
    where, args = filters.where(store.engine)
    per_page = max(1, min(per_page, EXPORT_LIMIT))
    page = max(1, page)
    # Filters are fixed clauses with placeholders; no input reaches the SQL text.
    items = rows(
        TimelineItem,
        store.conn.execute(
            f"SELECT {timeline_columns(store.engine)} FROM changes c{where} "  # noqa: S608
            "ORDER BY c.detected_at DESC, c.id DESC LIMIT ? OFFSET ?",
            [*args, per_page, (page - 1) * per_page],
        ),
    )
    total = store.conn.execute(f"SELECT count(*) FROM changes c{where}", args).fetchone()[0]  # noqa: S608
    return Page(_with_topics(store, items), page, per_page, int(total))


def _with_topics(store: Connection, found: list[Tagged]) -> list[Tagged]:
    """Changes with the topics they were tagged with."""
    tagged = topics_by_change(store, [r.id for r in found])
    return [replace(r, topics=tagged[r.id]) if r.id in tagged else r for r in found]


def full_changes(store: Connection, filters: Filters, limit: int = EXPORT_LIMIT) -> list[ChangeRow]:
    """Changes with diff and evidence, for exports and feeds."""
    where, args = filters.where(store.engine)
    found = rows(
        ChangeRow,
        store.conn.execute(
            f"SELECT c.*, {CORRECTED_AT} FROM changes c{where} "  # noqa: S608
            "ORDER BY c.detected_at DESC, c.id DESC LIMIT ?",
            [*args, limit],
        ),
    )
    return _with_topics(store, found)


def change(store: ReadStore, change_id: int) -> ChangeDetail | None:
    """One change with its reviews and corrections (newest first) and its deadlines."""
    sql = f"SELECT c.*, {CORRECTED_AT} FROM changes c WHERE c.id = ?"  # noqa: S608
    found = rows(ChangeDetail, store.conn.execute(sql, (change_id,)))
    if not found:
        return None

    def history(cls: type[R], table: str, order: str) -> tuple[R, ...]:
        # Table and order come from the fixed calls below, never from input.
        sql = f"SELECT * FROM {table} WHERE change_id = ? ORDER BY {order}"  # noqa: S608
        return tuple(rows(cls, store.conn.execute(sql, (change_id,))))

    return replace(
        found[0],
        reviews=history(ReviewRow, "reviews", "id DESC"),
        corrections=history(CorrectionRow, "corrections", "id DESC"),
        deadlines=history(DeadlineRow, "deadlines", "due"),
        topics=topics_of(store, change_id),
    )


def snapshot_text(store: Connection, digest: str) -> str | None:
    return snapshots.text(store.conn, digest)


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
                f"SELECT DISTINCT t.value FROM sources s, {json_values(store.engine, 's.tags', 't')} "  # noqa: S608
                "ORDER BY 1"
            )
        ],
        "topics": [
            r[0] for r in store.conn.execute("SELECT DISTINCT topic FROM change_topics ORDER BY 1")
        ],
    }


def sources(store: Connection) -> list[SourceRow]:
    """Every source row with its number of changes."""
    return rows(
        SourceRow,
        store.conn.execute(
            "SELECT s.*, (SELECT count(*) FROM changes c WHERE c.source = s.name) AS changes "
            "FROM sources s ORDER BY s.name"
        ),
    )


def source(store: Connection, name: str) -> SourceRow | None:
    found = rows(SourceRow, store.conn.execute("SELECT * FROM sources WHERE name = ?", (name,)))
    return found[0] if found else None


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
    changes: Page[SearchHit]
    snapshots: list[SnapshotHit]
    query: str


def search(store: Connection, text: str, page: int = 1, per_page: int = 20) -> SearchResult:
    """Changes and stored page versions matching every word, best first, with snippets."""
    query = fts_query(text)
    if not query:
        return SearchResult(Page([], 1, per_page, 0), [], "")
    page = max(1, page)
    if store.engine == "postgresql":
        found, total = pg_search.changes(store.conn, query, page, per_page)
        pages = pg_search.snapshots_matching(store.conn, query)
        return SearchResult(Page(found, page, per_page, total), pages, query)
    marks = (MATCH_OPEN, MATCH_CLOSE, "…")
    items = rows(
        SearchHit,
        store.conn.execute(
            "SELECT c.id, c.source, c.url, c.detected_at, c.title, c.category, c.review_state, "
            "snippet(changes_fts, -1, ?, ?, ?, 16) AS snippet "
            "FROM changes_fts JOIN changes c ON c.id = changes_fts.rowid "
            "WHERE changes_fts MATCH ? ORDER BY rank LIMIT ? OFFSET ?",
            [*marks, query, per_page, (page - 1) * per_page],
        ),
    )
    total = store.conn.execute(
        "SELECT count(*) FROM changes_fts WHERE changes_fts MATCH ?", (query,)
    ).fetchone()[0]
    pages = snapshots.search(store.conn, query)
    return SearchResult(Page(items, page, per_page, int(total)), pages, query)


def deadlines(store: Connection, today: date) -> list[DeadlineRow]:
    """Closing dates from today on, soonest first, with their change's title and days left."""
    found = rows(
        DeadlineRow,
        store.conn.execute(
            "SELECT d.*, c.title, c.url FROM deadlines d JOIN changes c ON c.id = d.change_id "
            "WHERE d.due >= ? ORDER BY d.due, d.id",
            (today.isoformat(),),
        ),
    )
    return [replace(d, days_left=(date.fromisoformat(d.due) - today).days) for d in found]


def deadlines_between(store: Connection, first: date, last: date) -> list[DeadlineRow]:
    """Closing dates from `first` to `last` (both included), past ones too: a month's calendar."""
    return rows(
        DeadlineRow,
        store.conn.execute(
            "SELECT d.*, c.title, c.url FROM deadlines d JOIN changes c ON c.id = d.change_id "
            "WHERE d.due >= ? AND d.due <= ? ORDER BY d.due, d.source, d.id",
            (first.isoformat(), last.isoformat()),
        ),
    )
