"""What the store gives back: one frozen dataclass per kind of row, decoded (store/codec.py).

Pure values, so policy, rendering and the web app can take them without importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Search snippets mark each match between these (private-use) characters; surfaces style them.
MATCH_OPEN = "\ue000"
MATCH_CLOSE = "\ue001"


@dataclass(frozen=True)
class OutboxRow:
    """An alert waiting to go (or sent, or dead): what delivery needs to send it."""

    id: int
    change_id: int | None
    target: str
    attempts: int
    kind: str = "change"
    deadline_id: int | None = None
    days: int | None = None
    mode: str = "immediate"
    source: str | None = None
    payload: str = "{}"


@dataclass(frozen=True)
class LoginFailures:
    """What is known about one client's (or, as "*", everyone's) failed logins."""

    client: str
    failures: int = 0
    last_at: datetime | None = None
    next_at: datetime | None = None
    locked: bool = False
