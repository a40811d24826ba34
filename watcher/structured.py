"""A change as data: the versioned object JSON webhooks receive, `/api/v1/changes` returns and
the Atom feed carries, described by docs/schema/change-v1.json. Pure.

One builder for every surface, so a field added here reaches them all at once. The object holds
what the change says (categories with confidence, facts, evidence sentences, topics, deadlines),
where it came from (source, URL, retrieval time, the SHA-256 of the stored text) and where to
read it (the change page and the archived copy, when `[web] public_url` says where staff reach
the web app). It never holds a notify target's address or any other secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from watcher.rows import ChangeRow, DeadlineRow
from watcher.stories import StoryMark

SCHEMA = "watcher.change.v1"
SCHEMA_VERSION = 1
SCHEMA_PATH = "docs/schema/change-v1.json"
EVENTS = ("change", "digest", "storm", "reminder", "health", "test")


def _envelope(event: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "event": event}


def topics_of(topics: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """The change's topics, as stored ((name, the sentence that matched) pairs), as objects."""
    return [{"name": name, "sentence": sentence} for name, sentence in topics]


def story_of(mark: StoryMark | None, base: str | None = None) -> dict[str, Any] | None:
    """The change's story: its id and title, which update this change is and of how many, and
    the story's page in the web app (null without an address)."""
    if mark is None:
        return None
    return {
        "id": mark.story_id,
        "title": mark.title,
        "update": mark.position,
        "updates": mark.size,
        "link": f"{base.rstrip('/')}/stories/{mark.story_id}" if base else None,
    }


def links(base: str | None, row: ChangeRow) -> tuple[str | None, str | None, str | None]:
    """The change page, and the archived copies after and before, in the web app at `base`."""
    if not base:
        return None, None, None
    base = base.rstrip("/")
    return (
        f"{base}/changes/{row.id}",
        f"{base}/snapshots/{row.after_hash}",
        f"{base}/snapshots/{row.before_hash}",
    )


def change_object(
    row: ChangeRow,
    base: str | None = None,
    deadlines: Sequence[DeadlineRow] | None = None,
    story: StoryMark | None = None,
) -> dict[str, Any]:
    """The change-v1 object. `deadlines` are the stored closing dates (a ChangeDetail carries
    its own); `base` the web app's address for links (none: links are null); `story` where the
    change stands in its story, if it is in one."""
    evidence = row.evidence
    if deadlines is None:
        deadlines = getattr(row, "deadlines", ())
    link, permalink, before_permalink = links(base, row)
    out = _envelope("change")
    out.update(
        id=row.id,
        kind=row.kind,
        source=row.source,
        url=row.url,
        title=row.title,
        summary=row.summary,
        category=row.category,
        correction=({"by": row.corrected_by, "at": row.corrected_at} if row.corrected_by else None),
        categories=[
            {"name": name, "confidence": float(confidence), "sentence": sentence}
            for name, confidence, sentence in evidence.categories
        ],
        facts=[
            {
                "kind": fact.kind,
                "text": fact.text,
                "value": fact.value,
                "sentence": evidence.sentences[i] if 0 <= i < len(evidence.sentences) else "",
            }
            for fact, i in zip(evidence.facts, evidence.of, strict=False)
        ],
        evidence=list(evidence.sentences),
        topics=topics_of(row.topics),
        story=story_of(story, base),
        deadlines=[{"due": d.due, "text": d.text, "sentence": d.sentence} for d in deadlines],
        detected_at=row.detected_at,
        link=link,
        snapshot={
            "sha256": row.after_hash,
            "retrieved_at": row.detected_at,
            "permalink": permalink,
            "before_sha256": row.before_hash,
            "before_permalink": before_permalink,
        },
    )
    return out


def batch_object(event: str, scope: str, changes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A digest or storm summary: several change objects in one message."""
    out = _envelope(event)
    out.update(scope=scope, changes=list(changes))
    return out


def reminder_object(deadline: DeadlineRow, days: int, change: dict[str, Any]) -> dict[str, Any]:
    out = _envelope("reminder")
    out.update(
        days=days,
        deadline={"due": deadline.due, "text": deadline.text, "sentence": deadline.sentence},
        change=change,
    )
    return out


def health_object(source: str, state: str, reason: str) -> dict[str, Any]:
    out = _envelope("health")
    out.update(source=source, state=state, reason=reason)
    return out


def probe_object(target: str) -> dict[str, Any]:
    out = _envelope("test")
    out.update(target=target)
    return out
