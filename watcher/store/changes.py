"""Writing one change with its alerts and closing dates, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence

from watcher.diff import diff_to_dict
from watcher.evidence_json import evidence_to_dict
from watcher.models import Change, Deadline, Delivery, Snapshot
from watcher.store.codec import iso
from watcher.store.engine import Db
from watcher.store.stories import link_change


def insert_change(
    c: Db,
    change: Change,
    check_id: int | None,
    at: str,
    deliveries: Sequence[Delivery],
    deadlines: Sequence[Deadline],
    suppressed: int = 0,
    kind: str = "edit",
    snapshot: Snapshot | None = None,
) -> int:
    """The change's row, an outbox row per delivery and its deadlines, and its place in a story
    (`snapshot`, the text it made, gives its links); the change's id."""
    change_id = c.execute(
        "INSERT INTO changes (source, url, detected_at, before_hash, after_hash, check_id, "
        "title, summary, category, added, removed, diff, suppressed, evidence, kind) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (
            change.source,
            change.url,
            iso(change.detected_at),
            change.before,
            change.after,
            check_id,
            change.title,
            change.summary,
            change.category,
            json.dumps(list(change.diff.added)),
            json.dumps(list(change.diff.removed)),
            json.dumps(diff_to_dict(change.diff)),
            suppressed,
            json.dumps(evidence_to_dict(change.evidence)),
            kind,
        ),
    ).fetchone()[0]
    c.executemany(
        "INSERT INTO outbox (change_id, source, target, mode, created_at, next_attempt_at) "
        "VALUES (?,?,?,?,?,?)",
        [(change_id, change.source, d.target, d.mode, at, iso(d.due)) for d in deliveries],
    )
    # A closing date already known for this source keeps its first finding.
    c.executemany(
        "INSERT INTO deadlines (change_id, source, due, text, sentence, created_at) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        [(change_id, change.source, d.due, d.text, d.sentence, at) for d in deadlines],
    )
    # The topics it is about, each with the sentence that says so: the same transaction.
    c.executemany(
        "INSERT INTO change_topics (change_id, topic, sentence) VALUES (?,?,?) "
        "ON CONFLICT DO NOTHING",
        [(change_id, topic, sentence) for topic, sentence in change.topics],
    )
    link_change(c, int(change_id), change, snapshot, at, kind)
    return int(change_id)
