"""Between SQLite columns and models: timestamps as ISO text, JSON columns, rows as dataclasses."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from watcher.diff import diff_from_dict
from watcher.evidence_json import evidence_from_dict
from watcher.store.engine import Cursor

R = TypeVar("R")
# Columns stored as JSON text: lists of blocks, tags and reminder windows, the diff, the evidence.
JSON_COLUMNS = frozenset(
    {"added", "removed", "diff", "evidence", "tags", "reminded", "organisations", "sources"}
)


def iso(dt: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 text, which sorts as time does."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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


def rows(cls: type[R], cursor: Cursor) -> list[R]:
    """Every row of a query as `cls`."""
    names = [d[0] for d in cursor.description]
    return [decode(cls, dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


# Snapshot text is stored zlib-compressed in `snapshots.ztext` (m010): page text compresses
# about 3:1, and zlib is in the standard library (zstd would save a little more but is a
# dependency until Python 3.14). Rows from before m010 that were never converted keep `text`.
TEXT_LEVEL = 6  # as small as 9 on page text (within 0.1%), and a fifth faster


def pack_text(text: str) -> bytes:
    """Snapshot text as stored."""
    return zlib.compress(text.encode("utf-8"), TEXT_LEVEL)


def unpack_text(ztext: bytes | None, text: str | None = None) -> str:
    """Snapshot text as read back: the one place a stored snapshot is decoded."""
    if ztext is not None:
        return zlib.decompress(ztext).decode("utf-8")
    return text or ""


def pack_paths(paths: Sequence[str]) -> bytes:
    """A snapshot's element paths as stored: they repeat so much that they shrink ~14:1."""
    return pack_text(json.dumps(list(paths)))


def unpack_paths(zpaths: bytes | None, paths: str | None = None) -> tuple[str, ...]:
    """Element paths as read back (`paths` is the JSON column of rows from before m010)."""
    return tuple(json.loads(unpack_text(zpaths, paths) or "[]"))
