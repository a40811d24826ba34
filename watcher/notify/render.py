"""Turn a stored change into an alert's title and body. Pure."""

from __future__ import annotations

from collections.abc import Mapping
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
    title = _cap(f"[{label}] {change['source']}: {page}", MAX_TITLE_CHARS)
    diff_text = render_diff(diff_from_dict(change["diff"]), max_lines=MAX_DIFF_LINES)
    lines = [
        change["summary"],
        "",
        diff_text,
        "",
        f"Page: {change['url']}",
        f"Detected: {change['detected_at']}",
    ]
    if link:
        lines.append(f"Change: {link}")
    return title, _cap("\n".join(lines), MAX_BODY_CHARS)
