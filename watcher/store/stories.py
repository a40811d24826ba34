"""Stories: changes and publications across sources linked into one event, each link with its
reason. Linked when a change is written (inside its transaction, so its alert can name the story);
what decides is watcher/stories.py. Staff split a change out or merge two stories by hand.

Tables (m012_stories): `stories`, `story_links` (one row per change in a story, with the signal,
the reason in words, the change it was tied to, and who linked it when staff did), `story_keys`
(what each change links and names, read by the linker when a later change is written).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher import stories as linker
from watcher.models import Change, Snapshot
from watcher.store.codec import iso
from watcher.store.connection import Connection
from watcher.store.engine import Db
from watcher.urls import GOVUK_HOSTS, canonical_url

CANDIDATES = 300  # the newest changes inside the window a new change is compared with


@dataclass(frozen=True)
class StoryRow:
    """A story in a list: how many changes it holds, from which sources, when it last moved."""

    id: int
    title: str
    created_at: str
    updated_at: str
    size: int = 0
    sources: tuple[str, ...] = ()
    moved: int = 0  # with `stories_moved`: changes linked since the time asked about


@dataclass(frozen=True)
class StoryEntry:
    """One change (or publication) on a story's timeline, with why it is there."""

    change_id: int | None
    publication_id: int | None
    source: str
    url: str
    title: str
    detected_at: str
    kind: str
    category: str | None
    summary: str
    signal: str
    reason: str
    partner_id: int | None
    linked_by: str | None


@dataclass(frozen=True)
class StoryDetail:
    id: int
    title: str
    created_at: str
    updated_at: str
    entries: tuple[StoryEntry, ...]


def _names(change: Change, snapshot: Snapshot | None, kind: str, added: str) -> set[str]:
    """The documents a change names: in what it added, published with it, and a publication's
    (or a GOV.UK page's) own title."""
    names = linker.document_names(added)
    if snapshot is not None:
        names.update(d for d in snapshot.documents if d)
    host = change.url.split("/")[2].lower() if change.url.count("/") >= 2 else ""
    if change.title and (kind in ("publication", "update") or host in GOVUK_HOSTS):
        names.add(change.title)
    return names


def link_change(
    c: Db,
    change_id: int,
    change: Change,
    snapshot: Snapshot | None,
    at: str,
    kind: str = "edit",
) -> int | None:
    """Keep what the new change links and names, and link it into the story of the change it is
    most strongly tied to (starting one when that change is in none); the story's id, if any."""
    added = "\n".join(change.diff.added)
    links = linker.links_of(change.url, snapshot.links if snapshot else (), added)
    names = _names(change, snapshot, kind, added)
    sketch = linker.sketch(added)
    page = canonical_url(change.url)
    topics = sorted({topic for topic, _ in change.topics})
    keys = {
        "page": page,
        "links": links,
        "names": sorted(names),
        "text": sorted(sketch),
        "topics": topics,
    }
    c.execute(
        "INSERT INTO story_keys (change_id, at, keys) VALUES (?,?,?) ON CONFLICT (change_id) "
        "DO UPDATE SET at = excluded.at, keys = excluded.keys",
        (change_id, iso(change.detected_at), json.dumps(keys)),
    )
    new = linker.Item(
        change_id,
        change.detected_at,
        change.source,
        change.url,
        change.title,
        added,
        frozenset(links),
        frozenset(names),
        anchors=tuple(links.items()),
        sketch=sketch,
        page=page,
        topics=frozenset(topics),
    )
    since = iso(change.detected_at - linker.WINDOW)
    decision = linker.decide(new, _recent(c, since, change_id))
    if decision is None:
        return None
    partner, tie = decision.partner, decision.tie
    story_id = partner.story
    if story_id is None:
        story_id = c.execute(
            "INSERT INTO stories (title, named, created_at, updated_at) VALUES (?,?,?,?) RETURNING id",
            (linker.story_title(partner.title, tie), int(bool(tie.name)), at, at),
        ).fetchone()[0]
        _insert_link(c, story_id, partner.id, tie, change_id, at)
    elif tie.name:  # a story first called after a page takes the name of its document
        c.execute(
            "UPDATE stories SET title = ?, named = 1 WHERE id = ? AND named = 0",
            (tie.name, story_id),
        )
    _insert_link(c, story_id, change_id, tie, partner.id, at)
    c.execute("UPDATE stories SET updated_at = ? WHERE id = ?", (at, story_id))
    return int(story_id)


def _insert_link(
    c: Db, story_id: int, change_id: int, tie: linker.Tie, partner: int, at: str
) -> None:
    c.execute(
        "INSERT INTO story_links (story_id, change_id, publication_id, signal, reason, "
        "partner_id, linked_at) VALUES (?, ?, (SELECT id FROM publications WHERE change_id = ?), "
        "?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (story_id, change_id, change_id, tie.signal, tie.reason, partner, at),
    )


def _recent(c: Db, since: str, exclude: int) -> list[linker.Item]:
    rows = c.execute(
        "SELECT ch.id, ch.detected_at, ch.source, ch.url, ch.title, k.keys, l.story_id "
        "FROM story_keys k JOIN changes ch ON ch.id = k.change_id "
        "LEFT JOIN story_links l ON l.change_id = ch.id WHERE k.at >= ? AND ch.id != ? "
        "ORDER BY k.at DESC LIMIT ?",
        (since, exclude, CANDIDATES),
    ).fetchall()
    out = []
    for cid, detected, source, url, title, raw, story in rows:
        keys = json.loads(raw or "{}")
        links = dict(keys.get("links") or {})
        out.append(
            linker.Item(
                cid,
                datetime.fromisoformat(detected),
                source,
                url,
                title,
                links=frozenset(links),
                names=frozenset(keys.get("names") or ()),
                story=story,
                anchors=tuple(links.items()),
                sketch=frozenset(keys.get("text") or ()),
                page=str(keys.get("page") or ""),
                topics=frozenset(keys.get("topics") or ()),
            )
        )
    return out


def publication_linked(c: Db, change_id: int, publication_id: int) -> None:
    """A publication's row is written after its change: its story link names it too."""
    c.execute(
        "UPDATE story_links SET publication_id = ? WHERE change_id = ?",
        (publication_id, change_id),
    )


LIST = (
    "SELECT s.id, s.title, s.created_at, s.updated_at, count(l.id) AS size, "
    "{group}(DISTINCT ch.source) AS sources {moved} FROM stories s "
    "JOIN story_links l ON l.story_id = s.id LEFT JOIN changes ch ON ch.id = l.change_id "
    "{where} GROUP BY s.id {having} ORDER BY s.updated_at DESC, s.id DESC LIMIT ?"
)


class StoryStore(Connection):
    """Reads of stories, and the staff's splits and merges."""

    def _stories_sql(self, moved: str, where: str, having: str) -> str:
        group = "json_agg" if self.engine == "postgresql" else "json_group_array"
        return LIST.format(group=group, moved=moved, where=where, having=having)

    def _list(self, sql: str, args: Sequence[object]) -> list[StoryRow]:
        out = []
        for row in self.conn.execute(sql, args).fetchall():
            sid, title, created, updated, size, sources, *moved = row
            # SQLite's json_group_array gives text; psycopg decodes PostgreSQL's json_agg.
            found = json.loads(sources) if isinstance(sources, str) else (sources or [])
            named = tuple(sorted(s for s in found if s))
            out.append(StoryRow(sid, title, created, updated, size, named, *moved))
        return out

    def stories(self, limit: int = 200) -> list[StoryRow]:
        """Stories, the one that moved last first."""
        sql = self._stories_sql(moved="", where="", having="")
        return self._list(sql, (limit,))

    def stories_moved(self, since: datetime, limit: int = 20) -> list[StoryRow]:
        """Stories a change joined since `since` (for a "moved this week" panel), with how many."""
        # A sum of CASE, not of a comparison (PostgreSQL sums no booleans), repeated in HAVING
        # (PostgreSQL's HAVING sees no output names).
        moved = "sum(CASE WHEN l.linked_at >= ? THEN 1 ELSE 0 END)"
        sql = self._stories_sql(moved=f", {moved} AS moved", where="", having=f"HAVING {moved} > 0")
        return self._list(sql, (iso(since), iso(since), limit))

    def story(self, story_id: int) -> StoryDetail | None:
        """A story with its timeline, oldest first."""
        head = self.conn.execute(
            "SELECT id, title, created_at, updated_at FROM stories WHERE id = ?", (story_id,)
        ).fetchone()
        if head is None:
            return None
        rows = self.conn.execute(
            "SELECT l.change_id, l.publication_id, coalesce(ch.source, ''), "
            "coalesce(ch.url, p.link, ''), coalesce(ch.title, p.title, ''), "
            "coalesce(ch.detected_at, p.first_seen_at, l.linked_at), coalesce(ch.kind, ''), "
            "ch.category, coalesce(ch.summary, ''), l.signal, l.reason, l.partner_id, l.linked_by "
            "FROM story_links l LEFT JOIN changes ch ON ch.id = l.change_id "
            "LEFT JOIN publications p ON p.id = l.publication_id WHERE l.story_id = ? "
            "ORDER BY 6, l.id",
            (story_id,),
        ).fetchall()
        sid, title, created, updated = head
        return StoryDetail(sid, title, created, updated, tuple(StoryEntry(*r) for r in rows))

    def story_of(self, change_id: int) -> StoryRow | None:
        """The story a change is in."""
        row = self.conn.execute(
            "SELECT story_id FROM story_links WHERE change_id = ?", (change_id,)
        ).fetchone()
        if row is None:
            return None
        sql = self._stories_sql(moved="", where="WHERE s.id = ?", having="")
        found = self._list(sql, (row[0], 1))
        return found[0] if found else None

    def story_marks(self, change_ids: Sequence[int]) -> dict[int, linker.StoryMark]:
        """For each change in a story: the story, and the change's place in it (by time)."""
        if not change_ids:
            return {}
        marks = {}
        rows = self.conn.execute(
            "SELECT l.change_id, s.id, s.title, row_number() OVER (PARTITION BY s.id "  # noqa: S608
            "ORDER BY ch.detected_at, ch.id), count(*) OVER (PARTITION BY s.id) "
            "FROM story_links l JOIN stories s ON s.id = l.story_id "
            "JOIN changes ch ON ch.id = l.change_id WHERE s.id IN (SELECT story_id FROM "
            f"story_links WHERE {self.any_of('change_id')})",
            (self.listed(change_ids),),
        ).fetchall()
        for change_id, sid, title, position, size in rows:
            if change_id in change_ids:
                marks[change_id] = linker.StoryMark(sid, title, position, size)
        return marks

    def split_change(self, change_id: int, now: datetime) -> int:
        """Take a change out of its story (a story left with one change is no story: it goes);
        the story's id. KeyError when the change is in none."""
        with self.transaction() as c:
            row = c.execute(
                "SELECT story_id FROM story_links WHERE change_id = ?", (change_id,)
            ).fetchone()
            if row is None:
                raise KeyError(change_id)
            c.execute("DELETE FROM story_links WHERE change_id = ?", (change_id,))
            c.execute("UPDATE story_links SET partner_id = NULL WHERE partner_id = ?", (change_id,))
            left = c.execute(
                "SELECT count(*) FROM story_links WHERE story_id = ?", (row[0],)
            ).fetchone()[0]
            if left > 1:
                c.execute("UPDATE stories SET updated_at = ? WHERE id = ?", (iso(now), row[0]))
            else:
                c.execute("DELETE FROM story_links WHERE story_id = ?", (row[0],))
                c.execute("DELETE FROM stories WHERE id = ?", (row[0],))
            return int(row[0])

    def merge_stories(self, into: int, other: int, by: str, now: datetime) -> None:
        """Move every change of `other` into `into`; `other` goes. KeyError when either is
        missing, ValueError when they are the same story."""
        if into == other:
            raise ValueError("a story cannot be merged into itself")
        with self.transaction() as c:
            found = c.execute(
                "SELECT count(*) FROM stories WHERE id IN (?, ?)", (into, other)
            ).fetchone()[0]
            if found != 2:
                raise KeyError(other)
            (title,) = c.execute("SELECT title FROM stories WHERE id = ?", (other,)).fetchone()
            c.execute(
                "UPDATE story_links SET story_id = ?, signal = 'staff', linked_by = ?, "
                "reason = reason || ?, linked_at = ? WHERE story_id = ?",
                (into, by, f"; merged in from story ‘{title}’ by {by}", iso(now), other),
            )
            c.execute("DELETE FROM stories WHERE id = ?", (other,))
            c.execute("UPDATE stories SET updated_at = ? WHERE id = ?", (iso(now), into))
