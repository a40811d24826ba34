"""The clock every time-dependent part is given, so tests can pass a fake one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)
