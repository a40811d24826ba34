"""Reads of the topics changes were tagged with (m011 `change_topics`): one change's, a set of
changes', and each topic's count of changes per week, for the home page's picture."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from watcher.store.codec import iso
from watcher.store.connection import Connection

WEEKS = 12


def _order(store: Connection) -> str:
    """The order topics were found in: SQLite's rowid, PostgreSQL's identity column."""
    return "seq" if store.engine == "postgresql" else "rowid"


def topics_of(store: Connection, change_id: int) -> tuple[tuple[str, str], ...]:
    """The change's topics with the sentence that matched each, in the order they were found."""
    return tuple(
        (str(topic), str(sentence))
        for topic, sentence in store.conn.execute(
            f"SELECT topic, sentence FROM change_topics WHERE change_id = ? ORDER BY {_order(store)}",  # noqa: S608
            (change_id,),
        )
    )


def topics_by_change(
    store: Connection, ids: Sequence[int]
) -> dict[int, tuple[tuple[str, str], ...]]:
    """The topics of each of `ids` (a change without any is left out)."""
    found: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        for change_id, topic, sentence in store.conn.execute(
            "SELECT change_id, topic, sentence FROM change_topics "  # noqa: S608 (only ?s)
            f"WHERE change_id IN ({marks}) ORDER BY {_order(store)}",
            chunk,
        ):
            found.setdefault(int(change_id), []).append((str(topic), str(sentence)))
    return {k: tuple(v) for k, v in found.items()}


def week_starts(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """The Mondays (00:00 UTC) that begin each of the last `weeks` weeks, oldest first; the
    last is this week's."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - k) for k in range(weeks)]


def weekly_counts(
    store: Connection, names: Sequence[str], now: datetime, weeks: int = WEEKS
) -> dict[str, list[int]]:
    """For each topic of `names`, how many changes carried it in each of the last `weeks`
    weeks (Monday to Sunday, UTC), oldest first; this week so far is the last."""
    starts = week_starts(now, weeks)
    counts = {name: [0] * weeks for name in names}
    for topic, detected_at in store.conn.execute(
        "SELECT t.topic, c.detected_at FROM change_topics t JOIN changes c ON c.id = t.change_id "
        "WHERE c.detected_at >= ?",
        (iso(starts[0]),),
    ):
        if topic not in counts:
            continue  # a topic no longer configured
        at = datetime.fromisoformat(detected_at)
        week = (at - starts[0]) // timedelta(weeks=1)
        if 0 <= week < weeks:
            counts[topic][week] += 1
    return counts
