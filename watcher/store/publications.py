"""Publications: one row per document however many sources name it, the sources that named it,
and the publications a listing follows as sources of their own."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import timedelta

from watcher.models import Change, CheckResult, Publication, Source
from watcher.rows import PublicationRow
from watcher.store import snapshots
from watcher.store.changes import insert_change
from watcher.store.codec import iso, rows
from watcher.store.connection import Connection
from watcher.store.dialect import json_list, json_values
from watcher.store.engine import Db
from watcher.store.stories import publication_linked
from watcher.urls import canonical_url

SOURCES = (
    "(SELECT {group}(source) FROM publication_sources s WHERE s.publication_id = p.id) AS sources"
)
NEWEST = "p.first_seen_at DESC, p.id DESC LIMIT ?"


class PublicationStore(Connection):
    """Reads of what listing-style sources have reported; writes happen in `CheckStore.record`."""

    def reported(self, source: str) -> dict[str, str]:
        """The canonical URLs `source` has reported, each with the date it last gave it."""
        return dict(
            self.conn.execute(
                "SELECT p.url, s.updated FROM publication_sources s "
                "JOIN publications p ON p.id = s.publication_id WHERE s.source = ?",
                (source,),
            ).fetchall()
        )

    def publication_known(self, url: str) -> bool:
        """Whether any source has reported this publication."""
        found = self.conn.execute(
            "SELECT 1 FROM publications WHERE url = ?", (canonical_url(url),)
        ).fetchone()
        return found is not None

    def publications(
        self, category: str = "", organisation: str = "", limit: int = 200
    ) -> list[PublicationRow]:
        """Publications newest first, with the sources that reported each."""
        where, args = ["true"], []
        if category:
            where.append("p.category = ?")
            args.append(category)
        if organisation:
            each = json_values(self.engine, "p.organisations", "o")
            where.append(f"EXISTS (SELECT 1 FROM {each} WHERE o.value = ?)")  # noqa: S608
            args.append(organisation)
        clauses = " AND ".join(where)  # fixed strings with placeholders; no input in the SQL
        sources = SOURCES.format(group=json_list(self.engine))
        sql = f"SELECT p.*, {sources} FROM publications p WHERE {clauses} ORDER BY {NEWEST}"  # noqa: S608
        return rows(PublicationRow, self.conn.execute(sql, [*args, limit]))

    def followed(self, every: timedelta) -> list[Source]:
        """The sources `follow = true` added, checked every `every` like their listing."""
        return [
            Source(name=name, url=url, every=every, kind=kind, tags=("followed", parent))
            for name, url, kind, parent in self.conn.execute(
                "SELECT name, url, kind, parent FROM followed ORDER BY added_at, name"
            )
        ]

    def _publications(
        self,
        c: Db,
        result: CheckResult,
        check_id: int | None,
        publications: Sequence[Publication],
        follow_max: int,
    ) -> list[int]:
        """Record what a listing's check found, inside its transaction; the ids of new changes."""
        at = iso(result.started_at)
        made: list[int] = []
        for pub in publications:
            url = canonical_url(pub.item.url)
            row = c.execute("SELECT id FROM publications WHERE url = ?", (url,)).fetchone()
            change = pub.change
            if row is not None and pub.event == "new":
                change = None  # another source named it first: one publication, one alert
            change_id = None
            if change is not None and pub.snapshot is not None:
                change_id = self._publication_change(c, change, pub, check_id, at)
                made.append(change_id)
            if row is None:
                publication_id: int | None = c.execute(
                    "INSERT INTO publications (url, link, title, first_seen_at, change_id, category, "
                    "organisations, document_type) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                    (
                        url,
                        pub.item.url,
                        pub.item.title,
                        at,
                        change_id,
                        pub.category,
                        json.dumps(list(pub.item.organisations)),
                        pub.item.document_type,
                    ),
                ).fetchone()[0]
                if change_id is not None and publication_id is not None:
                    publication_linked(c, change_id, publication_id)
            else:
                publication_id = row[0]
            c.execute(
                "INSERT INTO publication_sources (publication_id, source, updated, seen_at) "
                "VALUES (?,?,?,?) ON CONFLICT (publication_id, source) "
                "DO UPDATE SET updated = excluded.updated",
                (publication_id, result.source, pub.item.updated, at),
            )
            if pub.follow is not None and change_id is not None and publication_id is not None:
                self._follow(c, pub.follow, result.source, publication_id, at, follow_max)
        return made

    def _publication_change(
        self, c: Db, change: Change, pub: Publication, check_id: int | None, at: str
    ) -> int:
        assert pub.snapshot is not None
        snap = pub.snapshot
        snapshots.insert(c, snap, at)
        kind = "publication" if pub.event == "new" else "update"
        return insert_change(
            c, change, check_id, at, pub.deliveries, pub.deadlines, kind=kind, snapshot=snap
        )

    def _follow(
        self,
        c: Db,
        source: Source,
        parent: str,
        publication_id: int,
        at: str,
        follow_max: int,
    ) -> None:
        """Add a followed source, under the cap, with a name no other source has."""
        (count,) = c.execute("SELECT count(*) FROM followed").fetchone()
        if count >= follow_max:
            return
        base = re.sub(r"[^a-z0-9-]+", "-", source.name.lower()).strip("-")[:56] or "followed"
        name, n = base, 1
        while c.execute(
            "SELECT 1 FROM followed WHERE name = ? UNION SELECT 1 FROM sources WHERE name = ?",
            (name, name),
        ).fetchone():
            n += 1
            name = f"{base}-{n}"
        c.execute(
            "INSERT INTO followed (name, url, kind, parent, publication_id, added_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (name, source.url, source.kind, parent, publication_id, at),
        )
