"""One vocabulary for every surface (email, Slack, chat, web, feeds, CLI): category labels,
timestamps, durations, which URLs may become links, and the JSON shape of a change. Pure.

The diff itself is read block by block through `watcher.diff.diff_rows`, the one loop every view
uses; this module holds the words around it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from watcher.diff import diff_to_dict
from watcher.evidence_json import evidence_to_dict
from watcher.rows import ChangeDetail, ChangeRow, DeadlineRow, TimelineItem

# One display label per category, used by the web app, feeds and the CLI.
CATEGORY_LABELS: dict[str, str] = {
    "consultation_open": "Consultation open",
    "consultation_outcome": "Consultation outcome",
    "strategy": "Strategy",
    "funding": "Funding",
    "guidance": "Guidance",
    "report": "Report",
    "legislation": "Legislation",
    "news": "News",
    "minor": "Minor edit",
    "none": "Change",  # no category
}
# Alert titles ("[Consultation] DfE — ...") keep a shorter form where the display label is long;
# subscribers filter mail on these words, so they stay as they were.
ALERT_LABELS: dict[str, str] = {**CATEGORY_LABELS, "consultation_open": "Consultation"}
SURFACES = ("display", "alert", "feed")  # feed: the display label in lower case, in Atom titles

# C0/C1 controls, and bidi overrides and isolates, which can make text read differently from
# what it is ("evil.example" shown as "elpmaxe.live"). Never part of a link.
UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LINK_SCHEMES = ("http", "https")


def category_label(category: str | None, surface: str = "display") -> str:
    """The words for `category` on a surface ("display", "alert" or "feed"); unknown names are
    shown as words ("brand_new" -> "Brand new")."""
    table = ALERT_LABELS if surface == "alert" else CATEGORY_LABELS
    name = category or "none"
    label = table.get(name) or _words(name)
    return label.lower() if surface == "feed" else label


def _words(name: str) -> str:
    return " ".join(UNSAFE_CHARS.sub("", name).replace("_", " ").split()).capitalize()


def when(stamp: object, empty: str = "") -> str:
    """`23 Nov 2026 09:00 UTC` from a stored ISO timestamp (shown in UTC); `empty` for none;
    anything unreadable as given, controls out."""
    if stamp is None or stamp == "":
        return empty
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return " ".join(UNSAFE_CHARS.sub("", str(stamp)).split())
    if moment.utcoffset() is None:  # naive: we cannot say which zone, so we name none
        return f"{moment.day} {moment:%b %Y %H:%M}"
    return f"{moment.astimezone(UTC).day} {moment.astimezone(UTC):%b %Y %H:%M} UTC"


# A page title's site suffix: "Kinship care - GOV.UK", "Report | Children's Commissioner". After
# a pipe, whatever follows is the site; after a dash, only a short run of capitalised words or a
# domain (so "Kinship care - support for carers" keeps its words).
_PIPE_SUFFIX = re.compile(r"\s+\|\s+[^|]{1,60}$")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+((?:[A-Z0-9][\w.&'’]*)(?:\s+[A-Z0-9&][\w.&'’]*){0,3})$")


def page_title(title: str) -> str:
    """A page's title without its site suffix, for alert subjects: `Kinship care - GOV.UK` ->
    `Kinship care`. A title that is only a site name stays as it is."""
    for suffix in (_PIPE_SUFFIX, _DASH_SUFFIX):
        found = suffix.search(title)
        if found and title[: found.start()].strip():
            return title[: found.start()].rstrip()
    return title


def day(stamp: object) -> str:
    """`11 May 2027` from an ISO date (or the date of an ISO timestamp), for people; ISO stays
    in exports, the API and a <time datetime>. Anything unreadable as given, controls out."""
    text = str(stamp or "")
    try:
        found = date.fromisoformat(text[:10])
    except ValueError:
        return " ".join(UNSAFE_CHARS.sub("", text).split())
    return f"{found.day} {found:%B %Y}"


def compact_duration(seconds: float) -> str:
    """`6h`, `1d`, `90s`: the form durations are written in sources.toml."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def days_left(due: str | date, today: str | date) -> str:
    """`today`, `tomorrow` or `in 5 days` until an ISO date (a past date reads `today`)."""
    due_day = due if isinstance(due, date) else date.fromisoformat(due)
    today_day = today if isinstance(today, date) else date.fromisoformat(today)
    left = (due_day - today_day).days
    return "today" if left <= 0 else ("tomorrow" if left == 1 else f"in {left} days")


def is_web_url(url: str | None) -> bool:
    """Only these become links: absolute http(s) with a host, nothing that could break out."""
    if not url or UNSAFE_CHARS.search(url) or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[::1" and the like
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(host)


def safe_href(url: str | None) -> str | None:
    """The URL if it may become a link, else None."""
    return url if is_web_url(url) else None


def change_json(
    row: ChangeRow | TimelineItem, base: str | None = None, detail: bool = True
) -> dict[str, Any]:
    """The one JSON shape of a change, for `watcher changes --format json`, the API, the JSON
    export and (later) webhooks. With `base` (the web app's address): its review state and link.
    With `detail` (a full row): the added and removed text, evidence, snapshot hashes and diff."""
    out: dict[str, Any] = {
        "id": row.id,
        "source": row.source,
        "url": row.url,
        "detected_at": row.detected_at,
        "title": row.title,
        "summary": row.summary,
        "category": row.category,
        "confidence": row.confidence,  # null once staff corrected the category
        "corrected_by": row.corrected_by,
        "corrected_at": row.corrected_at,
        "topics": [{"topic": name, "sentence": sentence} for name, sentence in row.topics],
    }
    if base is not None:
        out.update(
            evidence_sentence=row.sentence,
            review_state=row.review_state,
            link=f"{base}/changes/{row.id}",
        )
    if detail and isinstance(row, ChangeRow):
        out.update(
            added=list(row.added),
            removed=list(row.removed),
            evidence=evidence_to_dict(row.evidence),
            before=row.before_hash,
            after=row.after_hash,
            diff=diff_to_dict(row.diff),
            # The citation: the SHA-256 of the stored text after the change (recomputable from
            # the archived copy) and when the page was retrieved.
            sha256=row.after_hash,
            retrieved_at=row.detected_at,
        )
        if base is not None:
            out["permalink"] = f"{base}/snapshots/{row.after_hash}"
    if detail and isinstance(row, ChangeDetail):
        out.update(
            reviews=[asdict(r) for r in row.reviews],
            corrections=[asdict(c) for c in row.corrections],
            deadlines=[deadline_json(d, listed=False) for d in row.deadlines],
        )
    return out


def deadline_json(deadline: DeadlineRow, listed: bool = True) -> dict[str, Any]:
    """A deadline as its table holds it; `listed` adds the list's title, link and days left."""
    out = asdict(deadline)
    if not listed:
        for key in ("title", "url", "days_left"):
            out.pop(key)
    out["reminded"] = json.dumps(list(deadline.reminded))  # as stored: a JSON list
    return out
