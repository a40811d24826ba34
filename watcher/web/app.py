"""The staff web app: timeline, change pages, sources, search, deadlines, review, feeds, API."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from watcher import metrics
from watcher.classify.rules import LABELS
from watcher.config import Config, parse_listen
from watcher.diff import diff_from_dict
from watcher.explain import read_notes
from watcher.pipeline import Clock, utcnow
from watcher.scheduler import HEALTH_MAX_AGE
from watcher.store import REVIEW_STATES, Store, ops, reads
from watcher.web import feeds, present
from watcher.web.auth import (
    SESSION_AGE,
    Access,
    Guard,
    Session,
    csrf_ok,
    safe_next,
    session_of,
)
from watcher.web.logins import Logins

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
HEX = re.compile(r"^[0-9a-f]{8,128}$")
T = TypeVar("T")
REVIEW_WORDS = {
    "reviewed": "Reviewed",
    "needs_action": "Needs action",
    "not_relevant": "Not relevant",
    None: "Not reviewed",
}
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
        "GET /api/sources": "every source with its status",
        "GET /api/deadlines": "upcoming consultation closing dates",
        "GET /api/search?q=words": "changes matching every word (word* for a prefix), best first",
        "GET /feed.atom, /export.csv, /export.json": "the same filters as /api/changes; "
        "exports hold at most 10,000 changes",
    },
}


def label(category: str | None) -> str:
    return (category or "change").replace("_", " ").capitalize()


def when(text: str | None) -> str:
    if not text:
        return "–"
    moment = datetime.fromisoformat(text).astimezone(UTC)
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def every(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def environment() -> Environment:
    """Jinja with autoescape on for every template, whatever its name."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(label=label, when=when, percent=present.percent, every=every)
    env.globals.update(
        href=present.safe_href,
        review_words=REVIEW_WORDS,
        labels=LABELS,
        review_states=REVIEW_STATES,
        qs=lambda params: urlencode({k: v for k, v in params.items() if v not in ("", None)}),
    )
    return env


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value or default)))
    except ValueError:
        return default


class WebApp:
    """The routes, over one read connection to the state database."""

    def __init__(
        self,
        config: Config,
        store: Store,
        access: Access,
        clock: Clock,
        lock: threading.Lock | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.access = access
        self.clock = clock
        self.env = environment()
        # One connection, used by one thread at a time; queries run off the event loop so the
        # scheduler sharing it under `watcher run` is never held up by a search.
        self.lock = lock or threading.Lock()

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        def locked() -> T:
            with self.lock:
                return fn(self.store, *args)

        return await run_in_threadpool(locked)

    def base(self, request: Request) -> str:
        return self.config.web.public_url or str(request.base_url).rstrip("/")

    async def page(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        session = session_of(request.scope)
        context.update(
            request=request,
            path=request.url.path,
            csrf=session.csrf,
            user=session.user,
            login_required=self.access.required,
            unreviewed=await self.db(reads.unreviewed),
            correctable=self.config.settings.categories,
        )
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status)

    def filters(self, request: Request) -> reads.Filters:
        try:
            return reads.Filters.parse(request.query_params)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    # Pages

    async def timeline(self, request: Request) -> Response:
        filters = self.filters(request)
        page_no = _int(request.query_params.get("page"), 1, 1, 1_000_000)
        result = await self.db(reads.timeline, filters, page_no, 50)
        return await self.page(
            request,
            "timeline.html",
            filters=filters,
            params=filters.params(),
            result=result,
            choices=await self.db(reads.choices),
            review_filters=reads.REVIEW_FILTERS,
        )

    async def change(self, request: Request) -> Response:
        row = await self.db(reads.change, request.path_params["change_id"])
        if row is None:
            raise HTTPException(404, "no such change")
        diff = diff_from_dict(row["diff"])
        view = "side" if request.query_params.get("view") == "side" else "inline"
        return await self.page(
            request,
            "change.html",
            change=row,
            view=view,
            inline=present.inline_rows(diff),
            side=present.side_rows(diff),
            evidence=present.evidence_view(row["evidence"]),
            categories=row["evidence"].get("categories") or [],
            facts=row["evidence"].get("facts") or [],
            reviewer=session_of(request.scope).user,
            saved=request.query_params.get("saved", ""),
        )

    async def snapshot(self, request: Request) -> Response:
        digest = request.path_params["digest"]
        text = await self.db(reads.snapshot_text, digest) if HEX.match(digest) else None
        if text is None:
            raise HTTPException(404, "no such snapshot")
        return PlainTextResponse(
            text, headers={"Content-Security-Policy": "default-src 'none'; sandbox"}
        )

    async def sources(self, request: Request) -> Response:
        rows = {r["name"]: r for r in await self.db(reads.sources)}
        items = []
        for s in self.config.sources:
            row = rows.get(s.name, {})
            items.append({"source": s, "row": row, "next_check": _next_check(row, s.every)})
        return await self.page(request, "sources.html", items=items)

    async def source(self, request: Request) -> Response:
        name = request.path_params["name"]
        known = {s.name: s for s in self.config.sources}
        row = await self.db(reads.source, name)
        if row is None and name not in known:
            raise HTTPException(404, "no such source")
        configured = known.get(name)
        notes = await self.db(_explain_stored, row, configured.host if configured else "")
        page_no = _int(request.query_params.get("page"), 1, 1, 1_000_000)
        filters = reads.Filters(source=name)
        history = await self.db(reads.timeline, filters, page_no, 50)
        return await self.page(
            request,
            "source.html",
            name=name,
            configured=configured,
            row=row or {},
            notes=notes,
            history=history,
            params=filters.params(),
            next_check=_next_check(row or {}, configured.every) if configured else None,
        )

    async def search(self, request: Request) -> Response:
        text = request.query_params.get("q", "")[:500]
        page_no = _int(request.query_params.get("page"), 1, 1, 10_000)
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
        return await self.page(request, "deadlines.html", deadlines=rows)

    # Writes: POST only, each checking the session's CSRF token.

    async def form(self, request: Request) -> dict[str, str]:
        form = await request.form(max_files=0, max_fields=20)
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_ok(request.scope, data.get("csrf", "")):
            raise HTTPException(
                403, "the form has expired or came from another site; reload and try again"
            )
        return data

    def reviewer(self, request: Request, data: dict[str, str]) -> str:
        session = session_of(request.scope)
        name = (session.user or data.get("reviewer", "")).strip()[:100]
        if not name:
            raise HTTPException(400, "give your name as the reviewer")
        if not session.user:  # remembered for the next form
            request.scope["watcher.session"] = replace(session, user=name, fresh=True)
        return name

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
            await self.db(
                Store.correct, change_id, category, name, data.get("note", "")[:2000], self.clock()
            )
        except KeyError:
            raise HTTPException(404, "no such change") from None
        return RedirectResponse(
            f"/changes/{change_id}?saved=category#classification", status_code=303
        )

    async def login_form(self, request: Request) -> Response:
        return await self.page(
            request, "login.html", next=safe_next(request.query_params.get("next")), failed=False
        )

    async def login(self, request: Request) -> Response:
        data = await self.form(request)
        name = data.get("name", "").strip()[:100]
        target = safe_next(data.get("next"))
        logins = self.access.logins
        assert logins is not None
        address = request.client.host if request.client else None
        now = self.clock()
        # Counted before the password is looked at: parallel guesses wait their turn.
        refusal = await run_in_threadpool(logins.may_try, address, now)
        if refusal is not None:
            response = await self.page(
                request,
                "login.html",
                status=429,
                next=target,
                failed=False,
                locked=refusal.locked,
                retry_after=refusal.retry_after,
            )
            if not refusal.locked:
                response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        if name and self.access.password_ok(data.get("password", "")):
            age = timedelta(seconds=SESSION_AGE)
            sid = await run_in_threadpool(logins.succeeded, address, name, now, age)
            request.scope["watcher.session"] = Session.new(name, authenticated=True, sid=sid)
            return RedirectResponse(target, status_code=303)
        await run_in_threadpool(logins.failed, address, now)
        return await self.page(request, "login.html", status=401, next=target, failed=True)

    async def logout(self, request: Request) -> Response:
        await self.form(request)
        sid = session_of(request.scope).sid
        if sid and self.access.logins is not None:
            await run_in_threadpool(self.access.logins.end, sid)  # the old cookie is dead too
        request.scope["watcher.session"] = Session.new()
        return RedirectResponse("/login" if self.access.required else "/", status_code=303)

    async def healthz(self, request: Request) -> Response:
        """What `watcher health` says: the daemon's heartbeat is fresh and the database takes
        writes. 503 with the reasons otherwise, for the orchestrator."""
        max_age = self.config.settings.health_max_age or HEALTH_MAX_AGE
        report = await self.db(ops.health, self.clock(), max_age, ops.PROBE_WAIT, False)
        if report.ok:
            return PlainTextResponse("ok")
        return PlainTextResponse("\n".join(report.reasons), status_code=503)

    async def metrics(self, request: Request) -> Response:
        body = await self.db(metrics.render)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    # Feeds, exports and the API

    async def feed(self, request: Request) -> Response:
        filters = self.filters(request)
        rows = await self.db(reads.full_changes, filters, 50)
        query = urlencode(filters.params())
        base = self.base(request)
        described = ", ".join(f"{k} {v}" for k, v in filters.params().items())
        body = feeds.atom(
            rows,
            title="watcher changes" + (f" ({described})" if described else ""),
            feed_url=f"{base}/feed.atom" + (f"?{query}" if query else ""),
            base=base,
            now=self.clock(),
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

    def listing(self, request: Request, page: reads.Page, items: list[Any]) -> Response:
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
        page_no = _int(request.query_params.get("page"), 1, 1, 1_000_000)
        per_page = _int(request.query_params.get("per_page"), 50, 1, reads.MAX_PER_PAGE)
        page = await self.db(reads.timeline, filters, page_no, per_page)
        base = self.base(request)
        return self.listing(request, page, [feeds.change_summary(r, base) for r in page.items])

    async def api_change(self, request: Request) -> Response:
        row = await self.db(reads.change, request.path_params["change_id"])
        if row is None:
            return JSONResponse({"error": "no such change"}, status_code=404)
        return JSONResponse(feeds.change_detail(row, self.base(request)))

    async def api_sources(self, request: Request) -> Response:
        rows = {r["name"]: r for r in await self.db(reads.sources)}
        items = []
        for s in self.config.sources:
            row = rows.get(s.name, {})
            items.append(
                {
                    "name": s.name,
                    "url": s.url,
                    "tags": list(s.tags),
                    "every_seconds": int(s.every.total_seconds()),
                    "last_outcome": row.get("last_outcome"),
                    "last_check_at": row.get("last_check_at"),
                    "last_change_at": row.get("last_change_at"),
                    "next_check_at": _next_check(row, s.every),
                    "error_streak": row.get("error_streak", 0),
                    "last_error": row.get("last_error"),
                    "changes": row.get("changes", 0),
                }
            )
        return JSONResponse({"items": items, "total": len(items)})

    async def api_deadlines(self, request: Request) -> Response:
        rows = await self.db(reads.deadlines, self.clock().astimezone(UTC).date())
        return JSONResponse({"items": rows, "total": len(rows)})

    async def api_search(self, request: Request) -> Response:
        page_no = _int(request.query_params.get("page"), 1, 1, 10_000)
        per_page = _int(request.query_params.get("per_page"), 20, 1, reads.MAX_PER_PAGE)
        result = await self.db(
            reads.search, request.query_params.get("q", "")[:500], page_no, per_page
        )
        base = self.base(request)
        return self.listing(
            request, result.changes, [feeds.search_hit(r, base) for r in result.changes.items]
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.timeline),
            Route("/changes/{change_id:int}", self.change),
            Route("/changes/{change_id:int}/review", self.review, methods=["POST"]),
            Route("/changes/{change_id:int}/category", self.correct, methods=["POST"]),
            Route("/snapshots/{digest}.txt", self.snapshot),
            Route("/sources", self.sources),
            Route("/sources/{name}", self.source),
            Route("/search", self.search),
            Route("/deadlines", self.deadlines),
            Route("/feed.atom", self.feed),
            Route("/export.csv", self.export_csv),
            Route("/export.json", self.export_json),
            Route("/api/", self.api_index),
            Route("/api/changes", self.api_changes),
            Route("/api/changes/{change_id:int}", self.api_change),
            Route("/api/sources", self.api_sources),
            Route("/api/deadlines", self.api_deadlines),
            Route("/api/search", self.api_search),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/healthz", self.healthz),
            Route("/metrics", self.metrics),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]


def _next_check(row: dict[str, Any], every: timedelta) -> str | None:
    """Due at the last check plus the interval; the scheduler's jitter may move it a little."""
    last = row.get("last_check_at")
    if not isinstance(last, str):
        return None
    return (datetime.fromisoformat(last) + every).astimezone(UTC).isoformat(timespec="seconds")


def _explain_stored(store: Store, row: dict[str, Any] | None, host: str) -> list[Any]:
    """What `watcher explain` says of the stored version (no fetch): each block read, and the
    rules and learned volatility that keep parts of it from making a change."""
    if not row or not row.get("snapshot_hash"):
        return []
    snapshot = store.snapshot(row["snapshot_hash"])
    if snapshot is None:
        return []
    memory = store.learned(row["name"])
    notes, _ = read_notes(snapshot, memory, store.host_evidence(host) if host else {})
    return list(notes)


def create_app(
    config: Config,
    *,
    listen: str | None = None,
    store_path: Path | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    clock: Clock = utcnow,
) -> Starlette:
    """The web app for `config`; a login is required when `listen` is not a loopback address.

    `extra_routes` come before the app's own, so a route given there (a fuller /healthz, a
    /metrics) replaces the app's; they are behind the same login rules (public: PUBLIC_PATHS).
    """
    address = parse_listen(listen or config.web.listen)
    host = address[0] if address else "127.0.0.1"
    store = Store(store_path) if store_path else Store.open(config.settings.state_dir)
    lock = threading.Lock()
    access = Access.build(config.web, host, config.settings.state_dir, Logins(store, lock))
    if access.hosts is None:
        log.warning(
            f"web app on {host} answers any Host name: set [web] public_url to the address "
            "staff use, so another name pointed at this one (DNS rebinding) is refused"
        )
    web = WebApp(config, store, access, clock, lock)
    # Outermost: every answer gets its headers, and a foreign Host name is refused first.
    middleware = [Middleware(Guard, access=access)]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = Starlette(routes=[*extra_routes, *web.routes()], middleware=middleware, lifespan=lifespan)
    app.state.web = web
    return app
