"""The category names a change may be given: one declaration, read by config, classify and web."""

from __future__ import annotations

# Categories for events a sentence can state (see classify/events.py).
EVENT_CATEGORIES = (
    "strategy",
    "consultation_open",
    "consultation_outcome",
    "funding",
    "guidance",
    "report",
    "legislation",
    "news",
)
# A minor edit is no event: it comes from the diff alone.
CATEGORIES = (*EVENT_CATEGORIES, "minor")
