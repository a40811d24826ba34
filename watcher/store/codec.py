"""Between SQLite columns and models: timestamps as ISO text, JSON columns, rows as dataclasses."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from watcher.diff import diff_from_dict
from watcher.models import Evidence, Fact

R = TypeVar("R")
# Columns stored as JSON text: lists of blocks, tags and reminder windows, the diff, the evidence.
JSON_COLUMNS = frozenset({"added", "removed", "diff", "evidence", "tags", "reminded"})


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
        categories=tuple(
            (str(c.get("label", "")), float(c.get("confidence", 0.0)), str(c.get("sentence") or ""))
            for c in data.get("categories") or []
            if isinstance(c, Mapping)
        ),
        decided_by=str(data.get("decided_by") or ""),
    )


def decode(cls: type[R], row: Mapping[str, Any], **extra: Any) -> R:
    """A row as its dataclass: the columns it names, JSON columns decoded, unknown columns left."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in row.items() if k in names}
    for key in JSON_COLUMNS & values.keys():
        raw = values[key]
        value = json.loads(raw) if isinstance(raw, str) else raw
        if key == "diff":
            values[key] = diff_from_dict(value if isinstance(value, list) else [])
        elif key == "evidence":
            values[key] = evidence_from_dict(value if isinstance(value, Mapping) else None)
        else:
            values[key] = tuple(value or ())
    return cls(**values, **extra)


def rows(cls: type[R], cursor: sqlite3.Cursor) -> list[R]:
    """Every row of a query as `cls`."""
    names = [d[0] for d in cursor.description]
    return [decode(cls, dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
