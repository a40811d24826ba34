"""Between SQLite columns and models: timestamps as ISO text, JSON columns, rows as dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from watcher.models import Evidence


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


def iso(dt: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 text, which sorts as time does."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
