"""A judged diff as a change: classified, with its evidence (amounts, dates). Pure but for the
classifier it is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from watcher import classify, topics
from watcher.diff import summarise
from watcher.models import Change, Diff
from watcher.pipeline.observed import Observed


def describe(
    observed: Observed,
    diff: Diff,
    classifier: classify.Classifier,
    followed: Sequence[topics.Topic] = (),
) -> Change:
    """The change a judged diff makes, classified, with its evidence and the `followed` topics
    its added or removed text is about."""
    source, received, snapshot = observed.source, observed.received, observed.snapshot
    before = observed.state.snapshot_hash
    assert received is not None and snapshot is not None and before is not None
    added = "\n".join(diff.added)
    categories = classifier(
        added,
        title=snapshot.title,
        url=received.final_url,
        removed="\n".join(diff.removed),
        metadata=dict(snapshot.metadata),
    )
    evidence = replace(
        classify.gather(diff.added),
        categories=tuple((c.label, c.confidence, c.sentence) for c in categories),
        decided_by=categories[0].decided_by if categories else "",
    )
    return Change(
        source=source.name,
        url=received.final_url,
        detected_at=observed.started_at,
        before=before,
        after=snapshot.hash,
        diff=diff,
        title=snapshot.title or observed.previous_title or source.name,
        summary=_summary(snapshot.note, diff),
        category=categories[0].label if categories else None,
        evidence=evidence,
        topics=topics.tag(followed, diff.added, diff.removed),
    )


def _summary(note: str, diff: Diff) -> str:
    """The publisher's own words when its change note is part of what changed ("Published the
    government response"), else what the diff shows."""
    said = " ".join(note.split())
    if said and any(said in " ".join(block.split()) for block in diff.added):
        return said
    return summarise(diff)
