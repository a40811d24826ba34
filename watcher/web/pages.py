"""The staff pages: timeline, a change, snapshots, sources, search and deadlines, and the review
and category forms on a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from watcher import citation
from watcher.categories import CATEGORIES as LABELS
from watcher.explain import read_notes
from watcher.rows import SourceRow
from watcher.store import REVIEW_STATES, Store, archive, reads
from watcher.store import topics as tagged
from watcher.web import charts, present
from watcher.web.auth import (
    CSP_TEXT,
    session_of,
)
from watcher.web.core import HEX, WebCore, int_param


class Pages(WebCore):
    """HTML pages and their forms."""

    async def timeline(self, request: Request) -> Response:
        filters = self.filters(request)
        page_no = int_param(request.query_params.get("page"), 1, 1, 1_000_000)
        result = await self.db(reads.timeline, filters, page_no, 50)
        choices = await self.db(reads.choices)
        followed = [t.name for t in self.config.topics]
        stored = [t for t in choices.get("topics", []) if t not in followed]
        home = not filters.params() and page_no == 1
        return await self.page(
            request,
            "timeline.html",
            filters=filters,
            params=filters.params(),
            result=result,
            choices=choices,
            topics=followed + stored,
            review_filters=reads.REVIEW_FILTERS,
            picture=await self.picture(followed) if home else None,
        )

    async def picture(self, followed: list[str]) -> dict[str, Any]:
        """The home page's picture: each topic's changes per week, the closing dates ahead, and
        the stories that moved in the last 7 days."""
        now = self.clock()
        counts = await self.db(tagged.weekly_counts, followed, now)
        starts = tagged.week_starts(now)
        upcoming = await self.db(reads.deadlines, now.astimezone(UTC).date())
        return {
            "charts": charts.charts(counts, starts),
            "weeks": len(starts),
            "deadlines": upcoming[:5],
            "more_deadlines": max(0, len(upcoming) - 5),
            "stories": await self.db(Store.stories_moved, now - timedelta(days=7), 5),
        }

    async def change(self, request: Request) -> Response:
        row = await self.db(reads.change, request.path_params["change_id"])
        if row is None:
            raise HTTPException(404, "no such change")
        diff = row.diff
        view = "side" if request.query_params.get("view") == "side" else "inline"
        stored = await self.db(reads.snapshot_text, row.after_hash)
        cited = citation.cite(row, stored, self.base(request))
        return await self.page(
            request,
            "change.html",
            change=row,
            view=view,
            inline=present.inline_rows(diff),
            side=present.side_rows(diff),
            evidence=present.evidence_view(row.evidence),
            categories=[
                {"label": label, "confidence": confidence, "sentence": sentence}
                for label, confidence, sentence in row.evidence.categories
            ],
            facts=row.evidence.facts,
            topics=row.topics,
            reviewer=session_of(request.scope).user,
            saved=request.query_params.get("saved", ""),
            citation=cited,
            cite_text=citation.as_text(cited),
            cite_markdown=citation.as_markdown(cited),
            cite_bibtex=citation.as_bibtex(cited),
            story=await self.db(Store.story_of, row.id),
        )

    async def snapshot_page(self, request: Request) -> Response:
        """A stored page version's permalink: the text as retrieved, its SHA-256 (recomputed
        here, so a damaged copy says so), and where and when it was retrieved."""
        digest = request.path_params["digest"]
        record = await self.db(archive.snapshot_record, digest) if HEX.match(digest) else None
        if record is None:
            raise HTTPException(404, "no such snapshot")
        return await self.page(
            request,
            "snapshot.html",
            record=record,
            verified=citation.digest(record.text) == record.hash,
            permalink=f"{self.base(request)}/snapshots/{record.hash}",
        )

    async def snapshot(self, request: Request) -> Response:
        digest = request.path_params["digest"]
        text = await self.db(reads.snapshot_text, digest) if HEX.match(digest) else None
        if text is None:
            raise HTTPException(404, "no such snapshot")
        return PlainTextResponse(text, headers={"Content-Security-Policy": CSP_TEXT})

    async def sources(self, request: Request) -> Response:
        rows = {r.name: r for r in await self.db(reads.sources)}
        items: list[dict[str, Any]] = []
        for s in self.config.sources:
            row = rows.get(s.name)
            items.append(
                {
                    "source": s,
                    "row": row or {},
                    "status": present.source_status(row),
                    "next_check": next_check(row, s.every),
                }
            )
        return await self.page(request, "sources.html", items=items, scheduled=self.scheduled)

    async def source(self, request: Request) -> Response:
        name = request.path_params["name"]
        known = {s.name: s for s in self.config.sources}
        row = await self.db(reads.source, name)
        if row is None and name not in known:
            raise HTTPException(404, "no such source")
        configured = known.get(name)
        notes = await self.db(_explain_stored, row, configured.host if configured else "")
        page_no = int_param(request.query_params.get("page"), 1, 1, 1_000_000)
        filters = reads.Filters(source=name)
        history = await self.db(reads.timeline, filters, page_no, 50)
        return await self.page(
            request,
            "source.html",
            name=name,
            configured=configured,
            row=row or {},
            found=present.source_status(row),
            scheduled=self.scheduled,
            notes=notes,
            history=history,
            params=filters.params(),
            next_check=next_check(row, configured.every) if configured else None,
        )

    async def search(self, request: Request) -> Response:
        text = request.query_params.get("q", "")[:500]
        page_no = int_param(request.query_params.get("page"), 1, 1, 10_000)
        result = await self.db(reads.search, text, page_no, 20)
        return await self.page(
            request,
            "search.html",
            q=text,
            result=result,
            snippet=present.snippet_pieces,
        )

    async def deadlines(self, request: Request) -> Response:
        rows = await self.db(reads.deadlines, self.clock().astimezone(UTC).date())
        keys = self.access.calendar
        made = await run_in_threadpool(keys.made_at) if keys else None
        return await self.page(request, "deadlines.html", deadlines=rows, calendar_made=made)

    async def publications(self, request: Request) -> Response:
        params = request.query_params
        category = params.get("category", "").strip()[:64]
        organisation = params.get("organisation", "").strip()[:200]
        if category and category not in LABELS:
            raise HTTPException(400, f"category must be one of {', '.join(LABELS)}")
        rows = await self.db(Store.publications, category, organisation, 200)
        everyone = await self.db(Store.publications, "", "", 2000)
        organisations = sorted({o for r in everyone for o in r.organisations})
        return await self.page(
            request,
            "publications.html",
            publications=rows,
            category=category,
            organisation=organisation,
            organisations=organisations,
            labels=LABELS,
        )

    async def review(self, request: Request) -> Response:
        data = await self.form(request)
        change_id = request.path_params["change_id"]
        state = data.get("state", "")
        if state not in REVIEW_STATES:
            raise HTTPException(400, f"state must be one of {', '.join(REVIEW_STATES)}")
        name = self.reviewer(request, data)
        try:
            await self.db(
                Store.review, change_id, state, name, data.get("note", "")[:2000], self.clock()
            )
        except KeyError:
            raise HTTPException(404, "no such change") from None
        return RedirectResponse(f"/changes/{change_id}?saved=review#review", status_code=303)

    async def correct(self, request: Request) -> Response:
        data = await self.form(request)
        change_id = request.path_params["change_id"]
        category = data.get("category", "")
        allowed = self.config.settings.categories  # the configured set, as `watcher correct`
        if category not in allowed:
            raise HTTPException(400, f"category must be one of {', '.join(allowed)}")
        name = self.reviewer(request, data)
        try:
            done = await self.db(
                Store.correct, change_id, category, name, data.get("note", "")[:2000], self.clock()
            )
        except KeyError:
            raise HTTPException(404, "no such change") from None
        saved = "category" if done else "unchanged"
        return RedirectResponse(
            f"/changes/{change_id}?saved={saved}#classification", status_code=303
        )


def next_check(row: SourceRow | None, every: timedelta) -> str | None:
    """Due at the last check plus the interval; the scheduler's jitter may move it a little."""
    last = row.last_check_at if row else None
    if not last:
        return None
    return (datetime.fromisoformat(last) + every).astimezone(UTC).isoformat(timespec="seconds")


def _explain_stored(store: Store, row: SourceRow | None, host: str) -> list[Any]:
    """What `watcher explain` says of the stored version (no fetch): each block read, and the
    rules and learned volatility that keep parts of it from making a change."""
    if not row or not row.snapshot_hash:
        return []
    snapshot = store.snapshot(row.snapshot_hash)
    if snapshot is None:
        return []
    memory = store.learned(row.name)
    notes, _ = read_notes(snapshot, memory, store.host_evidence(host) if host else {})
    return list(notes)
