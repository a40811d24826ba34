"""Counts and durations in words people read: "1 comparison", "closes in 5 days",
"closed 3 years ago". Pure."""

from __future__ import annotations


def plural(count: int, word: str, many: str = "") -> str:
    """`1 comparison`, `2 comparisons`; `many` for words that do not take an s."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def span(days: int) -> str:
    """A number of days as a person would round it: `5 days`, `3 weeks`, `4 months`, `3 years`."""
    days = abs(days)
    if days < 14:
        return plural(days, "day")
    if days < 60:
        return plural(days // 7, "week")
    if days < 365:
        return plural(days // 30, "month")
    return plural(days // 365, "year")


def closing(days_left: int) -> str:
    """How a deadline `days_left` days away reads: `closes today`, `closes tomorrow`,
    `closes in 5 days`, `closed yesterday`, `closed 3 years ago`."""
    if days_left == 0:
        return "closes today"
    if days_left == 1:
        return "closes tomorrow"
    if days_left == -1:
        return "closed yesterday"
    if days_left > 0:
        return f"closes in {span(days_left)}"
    return f"closed {span(days_left)} ago"
