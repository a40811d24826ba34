"""The staff web app: timeline, change pages, sources, search, deadlines, review, feeds, API.

Routes by area: pages.py (HTML pages and forms), api.py (feeds, exports, API, probes); the
login routes and the route table are here, over what core.py shares.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from watcher.clock import Clock, utcnow
from watcher.config import Config, parse_listen
from watcher.errors import StoreError
from watcher.store import DatabaseError, Store
from watcher.web.api import API_DOC, Api
from watcher.web.auth import (
    SESSION_AGE,
    Access,
    Guard,
    Session,
    safe_next,
    session_of,
)
from watcher.web.calendar_pages import CalendarPages
from watcher.web.calkey import CalendarKey
from watcher.web.core import HERE, REVIEW_WORDS, WebCore, environment
from watcher.web.logins import Logins
from watcher.web.pages import Pages
from watcher.web.stories import StoryPages

log = logging.getLogger(__name__)
__all__ = ["API_DOC", "REVIEW_WORDS", "WebApp", "WebCore", "create_app", "environment"]


class WebApp(Pages, Api, CalendarPages, StoryPages):
    """The routes, over one read connection to the state database."""

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
            sid = await run_in_threadpool(logins.succeeded, address, name, age)
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

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.timeline),
            Route("/changes/{change_id:int}", self.change),
            Route("/changes/{change_id:int}/review", self.review, methods=["POST"]),
            Route("/changes/{change_id:int}/category", self.correct, methods=["POST"]),
            Route("/snapshots/{digest}.txt", self.snapshot),
            Route("/snapshots/{digest}", self.snapshot_page),
            Route("/sources", self.sources),
            Route("/sources/{name}", self.source),
            Route("/search", self.search),
            Route("/deadlines", self.deadlines),
            Route("/deadlines.ics", self.deadlines_ics),
            Route("/deadlines/month", self.deadline_month),
            Route("/deadlines/calendar-link", self.calendar_link, methods=["POST"]),
            Route("/publications", self.publications),
            Route("/stories", self.stories_list),
            Route("/stories/{story_id:int}", self.story),
            Route("/stories/{story_id:int}/split", self.story_split, methods=["POST"]),
            Route("/stories/{story_id:int}/merge", self.story_merge, methods=["POST"]),
            Route("/feed.atom", self.feed),
            Route("/export.csv", self.export_csv),
            Route("/export.json", self.export_json),
            Route("/api/", self.api_index),
            Route("/api/changes", self.api_changes),
            Route("/api/changes/{change_id:int}", self.api_change),
            Route("/api/v1/changes", self.api_v1_changes),
            Route("/api/v1/changes/{change_id:int}", self.api_v1_change),
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


async def unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached or written (a PostgreSQL restart, a full disk): a 503 that
    says so in one line, logged once, rather than a traceback page. The store's message names
    no secret, but it is still not shown: it is for the operator's log."""
    log.error(
        "web request failed on the database", extra={"path": request.url.path, "error": str(exc)}
    )
    return PlainTextResponse(
        "The change database cannot be reached just now; try again in a minute.", status_code=503
    )


def create_app(
    config: Config,
    *,
    listen: str | None = None,
    store_path: Path | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    clock: Clock = utcnow,
    scheduled: bool = False,
) -> Starlette:
    """The web app for `config`; a login is required when `listen` is not a loopback address.

    `extra_routes` come before the app's own, so a route given there (a fuller /healthz, a
    /metrics) replaces the app's; they are behind the same login rules (public: PUBLIC_PATHS).
    `scheduled`: the daemon serves the app and checks the sources, so pages show next checks.
    """
    address = parse_listen(listen or config.web.listen)
    host = address[0] if address else "127.0.0.1"
    store = (
        Store(store_path)
        if store_path
        else Store.open(config.settings.state_dir, config.settings.database_url)
    )
    lock = threading.Lock()
    access = Access.build(
        config.web,
        host,
        config.settings.state_dir,
        Logins(store, lock),
        CalendarKey(store, lock),
    )
    if access.hosts is None:
        log.warning(
            f"web app on {host} answers any Host name: set [web] public_url to the address "
            "staff use, so another name pointed at this one (DNS rebinding) is refused"
        )
    web = WebApp(config, store, access, clock, lock, scheduled)
    # Outermost: every answer gets its headers, and a foreign Host name is refused first.
    middleware = [Middleware(Guard, access=access)]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = Starlette(
        routes=[*extra_routes, *web.routes()],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers=dict.fromkeys((StoreError, *DatabaseError), unavailable),
    )
    app.state.web = web
    return app
