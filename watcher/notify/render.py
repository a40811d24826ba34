"""Turn a stored change into an alert's title and body. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from watcher.diff import diff_from_dict, render_diff

MAX_DIFF_LINES = 20
MAX_BODY_CHARS = 3000
MAX_TITLE_CHARS = 200


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_alert(change: Mapping[str, Any], link: str | None = None) -> tuple[str, str]:
    """(title, plain-text body) for one change row as `Store.changes` returns it."""
    label = (change.get("category") or "change").replace("_", " ").capitalize()
    page = change.get("title") or change["source"]
    evidence = change.get("evidence") or {}
    title = _cap(f"[{label}] {change['source']}: {page}{_headline(evidence)}", MAX_TITLE_CHARS)
    diff_text = render_diff(diff_from_dict(change["diff"]), max_lines=MAX_DIFF_LINES)
    lines = [change["summary"], ""]
    for sentence in evidence.get("sentences", [])[:2]:
        lines.append(f"Evidence: {sentence}")
    if evidence.get("sentences"):
        lines.append("")
    lines += [
        diff_text,
        "",
        f"Page: {change['url']}",
        f"Detected: {change['detected_at']}",
    ]
    if link:
        lines.append(f"Change: {link}")
    return title, _cap("\n".join(lines), MAX_BODY_CHARS)


def _headline(evidence: Mapping[str, Any]) -> str:
    """The decisive fact for a title: a closing date first, else the first amount."""
    facts = evidence.get("facts", [])
    for kind, lead in (("deadline", "closes "), ("money", "")):
        for fact in facts:
            if fact["kind"] == kind:
                return f": {lead}{fact['text']}"
    return ""


def render_reminder(
    deadline: Mapping[str, Any], change: Mapping[str, Any], days: int, today: str
) -> tuple[str, str]:
    """(title, body) reminding that a deadline found in a change is near."""
    left = (date.fromisoformat(deadline["due"]) - date.fromisoformat(today)).days
    when = "today" if left <= 0 else ("tomorrow" if left == 1 else f"in {left} days")
    title = _cap(
        f"[Reminder] {change['source']}: closes {when} ({deadline['text']})", MAX_TITLE_CHARS
    )
    lines = [
        f"{deadline['sentence']}",
        "",
        f"Closing date: {deadline['due']} ({when}); reminder set {days} day{'s' if days != 1 else ''} ahead.",
        f"Page: {change['url']}",
        f"Found in the change detected {change['detected_at']}.",
    ]
    return title, _cap("\n".join(lines), MAX_BODY_CHARS)
