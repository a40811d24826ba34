"""The deadline calendar: upcoming closing dates as an iCalendar (RFC 5545) feed a team
subscribes to in Outlook or Google Calendar. Pure; the icalendar package folds and escapes.

One all-day event per deadline (the store keeps dates, not times). Its UID is made from the
source and the date, the deadline's own key (UNIQUE (source, due)), so a calendar that polls
again updates the same event rather than adding another, even after the database is rebuilt."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from watcher.rows import DeadlineRow

CALENDAR_NAME = "watcher: consultation deadlines"
REFRESH = timedelta(hours=6)  # how often a subscribed calendar is asked to look again
# Page text may hold control characters no calendar line may carry; newlines and tabs stay.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def text(value: object) -> str:
    return CONTROL.sub("", "" if value is None else str(value)).strip()


def deadline_uid(deadline: DeadlineRow) -> str:
    key = hashlib.sha256(f"{deadline.source}\n{deadline.due}".encode()).hexdigest()[:32]
    return f"deadline-{key}@watcher"


def summary(deadline: DeadlineRow) -> str:
    """`Closes: dfe-kinship — Kinship allowance consultation`."""
    title = text(deadline.title)
    return f"Closes: {text(deadline.source)}" + (f" — {title}" if title else "")


def calendar(deadlines: Sequence[DeadlineRow], base: str) -> bytes:
    """The feed: `base` is where the change pages are reached ([web] public_url when set)."""
    cal = Calendar()
    cal.add("prodid", "-//watcher//deadline calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", CALENDAR_NAME)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    for d in deadlines:
        due = date.fromisoformat(d.due)
        link = f"{base}/changes/{d.change_id}"
        lines = [text(d.sentence), "", f"Closing date as written: {text(d.text)}"]
        lines += [f"Change: {link}"] + ([f"Page: {text(d.url)}"] if d.url else [])
        event = Event()
        event.add("uid", deadline_uid(d))
        event.add("dtstamp", datetime.fromisoformat(d.created_at))  # found: stable across polls
        event.add("dtstart", due)  # a date: an all-day event
        event.add("dtend", due + timedelta(days=1))
        event.add("summary", summary(d))
        event.add("description", "\n".join(lines))
        event.add("url", link)
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        cal.add_component(event)
    return bytes(cal.to_ical())
