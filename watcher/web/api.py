"""Machine-read answers: the JSON API, Atom feed, CSV and JSON exports, /healthz and /metrics."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    Response,
)

from watcher import metrics
from watcher.presentation import deadline_json
from watcher.store import REVIEW_STATES, Store, archive, ops, reads
from watcher.structured import change_object
from watcher.web import feeds
from watcher.web.core import WebCore, int_param
from watcher.web.pages import next_check

API_DOC = {
    "about": "Read-only JSON API of the watcher change log. Lists are paginated.",
    "pagination": "page (from 1) and per_page (1 to 200, default 50); each list answer has "
    "items, page, per_page, total, pages, next and prev (URLs or null).",
    "routes": {
        "GET /api/changes": "changes, newest first; filters: category, source, tag, "
        "from and to (ISO dates, inclusive), review (unreviewed, reviewed_any, "
        + ", ".join(REVIEW_STATES)
        + ")",
        "GET /api/changes/{id}": "one change with diff, evidence, reviews and corrections",
        "GET /api/v1/changes": "changes as change-v1 objects (docs/schema/change-v1.json, the "
        "object JSON webhooks receive), newest first; the same filters as /api/changes",
        "GET /api/v1/changes/{id}": "one change as its change-v1 object",
        "GET /api/sources": "every source with its status",
        "GET /api/deadlines": "upcoming consultation closing dates",
        "GET /api/search?q=words": "changes matching every word (word* for a prefix), best first",
        "GET /feed.atom, /export.csv, /export.json": "the same filters as /api/changes; "
        "exports hold at most 10,000 changes",
    },
}


class Api(WebCore):
    """Feeds, exports, the API and the probes."""

    async def healthz(self, request: Request) -> Response:
        """What `watcher health` says: the daemon's heartbeat is fresh and the database takes
        writes. 503 with the reasons otherwise, for the orchestrator."""
        settings = self.config.settings
        max_age = settings.health_max_age or ops.default_max_age(settings.heartbeat_every)
        report = await self.db(ops.health, self.clock(), max_age, ops.PROBE_WAIT, False)
        if report.ok:
            return PlainTextResponse("ok")
        return PlainTextResponse("\n".join(report.reasons), status_code=503)

    async def metrics(self, request: Request) -> Response:
        body = await self.db(metrics.render)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def feed(self, request: Request) -> Response:
        filters = self.filters(request)
        rows = await self.db(reads.full_changes, filters, 50)
        query = urlencode(filters.params())
        base = self.base(request)
        deadlines = await self.db(archive.deadlines_of, [r.id for r in rows])
        marks = await self.db(Store.story_marks, [r.id for r in rows])
        described = ", ".join(f"{k} {v}" for k, v in filters.params().items())
        body = feeds.atom(
            rows,
            title="watcher changes" + (f" ({described})" if described else ""),
            feed_url=f"{base}/feed.atom" + (f"?{query}" if query else ""),
            base=base,
            now=self.clock(),
            structured={
                r.id: change_object(r, base, deadlines.get(r.id, []), marks.get(r.id)) for r in rows
            },
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    async def export_csv(self, request: Request) -> Response:
        rows = await self.db(reads.full_changes, self.filters(request))
        return Response(
            feeds.to_csv(rows, self.base(request)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="watcher-changes.csv"'},
        )

    async def export_json(self, request: Request) -> Response:
        rows = await self.db(reads.full_changes, self.filters(request))
        base = self.base(request)
        return JSONResponse(
            [feeds.change_detail(r, base) for r in rows],
            headers={"Content-Disposition": 'attachment; filename="watcher-changes.json"'},
        )

    async def api_index(self, request: Request) -> Response:
        return JSONResponse(API_DOC)

    def listing(self, request: Request, page: reads.Page[Any], items: list[Any]) -> Response:
        def link(n: int) -> str:
            params = dict(request.query_params)
            params.update(page=str(n), per_page=str(page.per_page))
            return f"{self.base(request)}{request.url.path}?{urlencode(params)}"

        return JSONResponse(
            {
                "items": items,
                "page": page.page,
                "per_page": page.per_page,
                "total": page.total,
                "pages": page.pages,
                "next": link(page.page + 1) if page.has_next else None,
                "prev": link(page.page - 1) if page.has_prev else None,
            }
        )

    async def api_changes(self, request: Request) -> Response:
        filters = self.filters(request)
        page_no = int_param(request.query_params.get("page"), 1, 1, 1_000_000)
        per_page = int_param(request.query_params.get("per_page"), 50, 1, reads.MAX_PER_PAGE)
        page = await self.db(reads.timeline, filters, page_no, per_page)
        base = self.base(request)
        return self.listing(request, page, [feeds.change_summary(r, base) for r in page.items])

    async def api_change(self, request: Request) -> Response:
        row = await self.db(reads.change, request.path_params["change_id"])
        if row is None:
            return JSONResponse({"error": "no such change"}, status_code=404)
        return JSONResponse(feeds.change_detail(row, self.base(request)))

    async def api_v1_changes(self, request: Request) -> Response:
        filters = self.filters(request)
        page_no = int_param(request.query_params.get("page"), 1, 1, 1_000_000)
        per_page = int_param(request.query_params.get("per_page"), 50, 1, reads.MAX_PER_PAGE)
        page = await self.db(reads.timeline, filters, page_no, per_page)
        ids = [r.id for r in page.items]
        rows = await self.db(archive.changes_by_id, ids)
        deadlines = await self.db(archive.deadlines_of, ids)
        marks = await self.db(Store.story_marks, ids)
        base = self.base(request)
        objects = [change_object(r, base, deadlines.get(r.id, []), marks.get(r.id)) for r in rows]
        return self.listing(request, page, objects)

    async def api_v1_change(self, request: Request) -> Response:
        row = await self.db(reads.change, request.path_params["change_id"])
        if row is None:
            return JSONResponse({"error": "no such change"}, status_code=404)
        marks = await self.db(Store.story_marks, [row.id])
        return JSONResponse(change_object(row, self.base(request), story=marks.get(row.id)))

    async def api_sources(self, request: Request) -> Response:
        rows = {r.name: r for r in await self.db(reads.sources)}
        items = []
        for s in self.config.sources:
            row = rows.get(s.name)
            items.append(
                {
                    "name": s.name,
                    "url": s.url,
                    "tags": list(s.tags),
                    "every_seconds": int(s.every.total_seconds()),
                    "last_outcome": row.last_outcome if row else None,
                    "last_check_at": row.last_check_at if row else None,
                    "last_change_at": row.last_change_at if row else None,
                    "next_check_at": next_check(row, s.every),
                    "error_streak": row.error_streak if row else 0,
                    "last_error": row.last_error if row else None,
                    "changes": row.changes if row else 0,
                }
            )
        return JSONResponse({"items": items, "total": len(items)})

    async def api_deadlines(self, request: Request) -> Response:
        rows = await self.db(reads.deadlines, self.clock().astimezone(UTC).date())
        return JSONResponse({"items": [deadline_json(d) for d in rows], "total": len(rows)})

    async def api_search(self, request: Request) -> Response:
        page_no = int_param(request.query_params.get("page"), 1, 1, 10_000)
        per_page = int_param(request.query_params.get("per_page"), 20, 1, reads.MAX_PER_PAGE)
        result = await self.db(
            reads.search, request.query_params.get("q", "")[:500], page_no, per_page
        )
        base = self.base(request)
        return self.listing(
            request, result.changes, [feeds.search_hit(r, base) for r in result.changes.items]
        )
