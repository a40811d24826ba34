"""The alerts a source's staleness raises: no change for longer than it was expected to change
within, and its change after that. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from watcher.notify.channels import Message, compose
from watcher.notify.spans import Block, Line, clean, plain
from watcher.notify.spans import link as link_span
from watcher.presentation import compact_duration, when
from watcher.rows import SourceRow


def _span(seconds: int) -> str:
    """`90 days`, `1 day`; under a day, `5 hours`."""
    days, hours = seconds // 86400, seconds // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _day(stamp: object) -> str:
    """`25 Aug 2026` from a stored ISO timestamp (the day in UTC)."""
    shown = when(stamp)
    return " ".join(shown.split()[:3]) if shown.endswith(" UTC") else shown


def render_staleness(
    source: SourceRow, payload: Mapping[str, object], channel: str, link: str | None = None
) -> Message:
    """A source expected to change has not (`state` "stale"), or has changed again after
    being stale (`"changed"`, with `link` to the change in the web app when known)."""
    name = clean(source.name)
    state = payload.get("state")
    page = [plain("Page: "), link_span(source.url)]
    since = _day(payload.get("since"))
    if state == "stale":
        seconds = payload.get("seconds")
        span = _span(seconds if isinstance(seconds, int) else 0)
        said = (
            f"last changed on {since}"
            if payload.get("changed")
            else f"unchanged since watching began on {since}"
        )
        within = payload.get("within")
        expected = compact_duration(within if isinstance(within, int) else 0)
        title = f"[No change] {name}: no change for {span}"
        blocks = [
            [[plain(f"No change on {name} for {span}: {said}.")]],
            [
                page,
                [plain(f"Expected to change within {expected} (expect_change_within).")],
                [plain(f"Last checked: {when(source.last_success_at) or 'never'}")],
            ],
            [[plain("You will hear once more about it when it changes again.")]],
        ]
    elif state == "changed":
        days = payload.get("days")
        count = days if isinstance(days, int) else 0
        title = f"[Changed again] {name} changed again after {count} day{'s' if count != 1 else ''}"
        body: Line = [plain(f"{name} changed again after {count} days (last changed on {since}).")]
        detail: Block = [page]
        if link:
            detail.append([plain("Change: "), link_span(link)])
        blocks = [[body], detail]
    else:
        raise ValueError(f"unknown staleness state {state!r}: expected 'stale' or 'changed'")
    return compose(title, blocks, channel)
