"""What every route shares: the template environment, one locked read connection, the page
frame, query filters and the checks on a posted form."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    Response,
)

from watcher import blockmarks
from watcher.categories import CATEGORIES
from watcher.clock import Clock
from watcher.config import Config
from watcher.presentation import category_label, compact_duration, day, safe_href
from watcher.presentation import when as timestamp
from watcher.store import REVIEW_STATES, Store, reads
from watcher.web import present
from watcher.web.auth import (
    Access,
    csrf_ok,
    session_of,
)

HERE = Path(__file__).resolve().parent
HEX = re.compile(r"^[0-9a-f]{8,128}$")
T = TypeVar("T")
REVIEW_WORDS = {
    "reviewed": "Reviewed",
    "needs_action": "Needs action",
    "not_relevant": "Not relevant",
    None: "Not reviewed",
}


def label(category: str | None) -> str:
    return category_label(category)


def when(text: str | None) -> str:
    return timestamp(text, empty="–")


def every(interval: timedelta) -> str:
    return compact_duration(interval.total_seconds())


def environment() -> Environment:
    """Jinja with autoescape on for every template, whatever its name."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters.update(
        label=label,
        when=when,
        day=day,
        percent=present.percent,
        every=every,
        summary=blockmarks.plain_summary,
        block=blockmarks.read,
    )
    env.globals.update(
        href=safe_href,
        review_words=REVIEW_WORDS,
        labels=CATEGORIES,
        review_states=REVIEW_STATES,
        qs=lambda params: urlencode({k: v for k, v in params.items() if v not in ("", None)}),
    )
    return env


def int_param(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value or default)))
    except ValueError:
        return default


class WebCore:
    """The state every route reads: config, one read connection to the database, the login
    rules and the clock."""

    def __init__(
        self,
        config: Config,
        store: Store,
        access: Access,
        clock: Clock,
        lock: threading.Lock | None = None,
        scheduled: bool = False,
    ) -> None:
        self.config = config
        # True when the daemon (`watcher run`) serves the app and so schedules checks; alone
        # (`watcher serve`) nothing is checked, so no page promises a next check.
        self.scheduled = scheduled
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
                # After a PostgreSQL restart the old connection is dead: a new one, between
                # requests (a no-op on SQLite and while the connection is alive).
                self.store.reconnect()
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
