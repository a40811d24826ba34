"""Evidence as JSON: the form kept in the changes table and given in every export. Pure.

(The diff's JSON form lives beside it in `watcher.diff`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher.models import Evidence, Fact


def evidence_to_dict(evidence: Evidence | None) -> dict[str, Any]:
    """Evidence as stored and exported: sentences, and facts with their spans in them."""
    if evidence is None:
        return {}
    return {
        "categories": [
            {"label": label, "confidence": confidence, "sentence": sentence}
            for label, confidence, sentence in evidence.categories
        ],
        "decided_by": evidence.decided_by,
        "sentences": list(evidence.sentences),
        "facts": [
            {
                "kind": f.kind,
                "text": f.text,
                "value": f.value,
                "sentence": i,
                "start": f.start,
                "end": f.end,
            }
            for f, i in zip(evidence.facts, evidence.of, strict=True)
        ],
    }


def evidence_from_dict(data: Mapping[str, Any] | None) -> Evidence:
    """The stored evidence JSON back as the model; rows written before a key existed lack it."""
    if not data:
        return Evidence()
    facts = [f for f in data.get("facts") or [] if isinstance(f, Mapping)]
    return Evidence(
        sentences=tuple(str(s) for s in data.get("sentences") or []),
        facts=tuple(
            Fact(
                kind=str(f.get("kind", "")),
                text=str(f.get("text", "")),
                start=int(f.get("start", 0)),
                end=int(f.get("end", 0)),
                value=str(f.get("value") or ""),
            )
            for f in facts
        ),
        of=tuple(int(f.get("sentence", 0)) for f in facts),
        categories=tuple(_category(c) for c in data.get("categories") or []),
        decided_by=str(data.get("decided_by") or ""),
    )


def _category(entry: object) -> tuple[str, float, str]:
    """(label, confidence, sentence): stored as an object, or as a list by early versions."""
    if isinstance(entry, Mapping):
        label, confidence, sentence = (
            entry.get("label"),
            entry.get("confidence"),
            entry.get("sentence"),
        )
    elif isinstance(entry, list | tuple):
        label, confidence, sentence = (*entry, None, None, None)[:3]
    else:
        label, confidence, sentence = entry, None, None
    score = float(confidence) if isinstance(confidence, int | float) else 0.0
    return str(label or ""), score, str(sentence or "")
