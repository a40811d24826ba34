"""The deadline calendar: a month grid of closing dates, the iCalendar feed a team subscribes
to, and the form that makes the feed's secret link."""

from __future__ import annotations

import calendar as cal
import re
from dataclasses import dataclass, field
from datetime import UTC, date

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from watcher.rows import DeadlineRow
from watcher.store import reads
from watcher.web import ical
from watcher.web.calkey import feed_url
from watcher.web.core import WebCore

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 1970, 2999
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    deadlines: list[DeadlineRow] = field(default_factory=list)


def parse_month(text: str | None, today: date) -> date:
    """`2026-11` -> 1 Nov 2026; this month when none is given. ValueError when malformed."""
    if not text:
        return today.replace(day=1)
    m = MONTH_RE.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise ValueError(f"month must be written like 2026-11, from {FIRST_YEAR} to {LAST_YEAR}")
    return date(int(m.group(1)), int(m.group(2)), 1)


def shift(month: date, by: int) -> date | None:
    """The first of the month `by` months away; None beyond the years shown."""
    index = month.year * 12 + month.month - 1 + by
    year, m = divmod(index, 12)
    return date(year, m + 1, 1) if FIRST_YEAR <= year <= LAST_YEAR else None


def month_grid(month: date, deadlines: list[DeadlineRow], today: date) -> list[list[Day]]:
    """Weeks (Monday first) of the month, each day with its deadlines."""
    by_day: dict[str, list[DeadlineRow]] = {}
    for d in deadlines:
        by_day.setdefault(d.due, []).append(d)
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    return [
        [Day(d, d.month == month.month, d == today, by_day.get(d.isoformat(), [])) for d in week]
        for week in weeks
    ]


class CalendarPages(WebCore):
    """/deadlines/month, /deadlines.ics and the calendar link form."""

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    async def deadline_month(self, request: Request) -> Response:
        today = self.today()
        try:
            month = parse_month(request.query_params.get("month"), today)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        last = date(month.year, month.month, cal.monthrange(month.year, month.month)[1])
        found = await self.db(reads.deadlines_between, month, last)
        return await self.page(
            request,
            "deadline-month.html",
            month=month,
            weeks=month_grid(month, found, today),
            weekdays=WEEKDAYS,
            prev=shift(month, -1),
            next=shift(month, 1),
            this_month=today.replace(day=1),
            count=len(found),
        )

    async def deadlines_ics(self, request: Request) -> Response:
        found = await self.db(reads.deadlines, self.today())
        return Response(
            ical.calendar(found, self.base(request)),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'inline; filename="deadlines.ics"'},
        )

    async def calendar_link(self, request: Request) -> Response:
        """A new secret link for calendar clients, shown this once; the old one stops working."""
        await self.form(request)
        keys = self.access.calendar
        if keys is None:
            raise HTTPException(404, "no calendar link here")
        # CalendarKey takes the connection's lock itself: not through self.db, which holds it.
        key = await run_in_threadpool(keys.new, self.clock())
        rows = await self.db(reads.deadlines, self.today())
        return await self.page(
            request,
            "deadlines.html",
            deadlines=rows,
            calendar_made=await run_in_threadpool(keys.made_at),
            new_link=feed_url(self.base(request), key),
        )
