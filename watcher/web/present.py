"""Stored values turned into plain pieces for templates: diff rows, highlighted facts, snippets.

Pure. Every piece is text that the templates escape; nothing here builds markup, so page-derived
content can only ever reach a page as escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from watcher.models import Diff
from watcher.rows import MATCH_CLOSE, MATCH_OPEN

# Search snippets come back from SQLite with these around each match. Private-use characters,
# so no page text is mistaken for a marker and markup never has to be parsed back out.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Piece:
    """A run of text and how to show it: "equal", "insert", "delete", a fact kind, or "match"."""

    text: str
    mark: str = ""


@dataclass(frozen=True)
class InlineRow:
    """One block of the inline diff: "edit" (word marks), "delete" or "insert" (whole block)."""

    kind: str
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class SideRow:
    """One row of the side-by-side diff; a side is empty where the block has no counterpart."""

    before: tuple[Piece, ...] | None
    after: tuple[Piece, ...] | None
    kind: str  # "edit" | "delete" | "insert" | "replace"


def safe_href(url: str | None) -> str | None:
    """The URL if it may become a link (absolute http or https, no control characters)."""
    if not url or CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def inline_rows(diff: Diff) -> list[InlineRow]:
    """The diff as one column: edited blocks with word marks, whole blocks removed or added."""
    rows: list[InlineRow] = []
    for hunk in diff.hunks:
        for k in range(max(len(hunk.before), len(hunk.after))):
            marks = hunk.words[k] if k < len(hunk.words) else ()
            if marks:
                rows.append(InlineRow("edit", tuple(Piece(w.text, w.op) for w in marks)))
                continue
            if k < len(hunk.before):
                rows.append(InlineRow("delete", (Piece(hunk.before[k], "delete"),)))
            if k < len(hunk.after):
                rows.append(InlineRow("insert", (Piece(hunk.after[k], "insert"),)))
    return rows


def side_rows(diff: Diff) -> list[SideRow]:
    """The diff as two columns: the old block on the left, the new one on the right."""
    rows: list[SideRow] = []
    for hunk in diff.hunks:
        for k in range(max(len(hunk.before), len(hunk.after))):
            marks = hunk.words[k] if k < len(hunk.words) else ()
            if marks:
                rows.append(
                    SideRow(
                        tuple(Piece(w.text, w.op) for w in marks if w.op != "insert"),
                        tuple(Piece(w.text, w.op) for w in marks if w.op != "delete"),
                        "edit",
                    )
                )
                continue
            before = (Piece(hunk.before[k], "delete"),) if k < len(hunk.before) else None
            after = (Piece(hunk.after[k], "insert"),) if k < len(hunk.after) else None
            kind = "replace" if before and after else "delete" if before else "insert"
            rows.append(SideRow(before, after, kind))
    return rows


def highlight(sentence: str, facts: Sequence[Mapping[str, Any]]) -> tuple[Piece, ...]:
    """A sentence cut into plain runs and runs marked with the kind of fact they state."""
    spans = sorted(
        (int(f["start"]), int(f["end"]), str(f["kind"]))
        for f in facts
        if 0 <= int(f["start"]) < int(f["end"]) <= len(sentence)
    )
    pieces: list[Piece] = []
    at = 0
    for start, end, kind in spans:
        if start < at:  # overlapping facts: the first one wins
            continue
        if start > at:
            pieces.append(Piece(sentence[at:start]))
        pieces.append(Piece(sentence[start:end], kind))
        at = end
    if at < len(sentence):
        pieces.append(Piece(sentence[at:]))
    return tuple(pieces)


def evidence_view(evidence: Mapping[str, Any]) -> list[tuple[Piece, ...]]:
    """Each evidence sentence with its facts marked."""
    sentences = [str(s) for s in evidence.get("sentences") or []]
    facts = evidence.get("facts") or []
    return [
        highlight(sentence, [f for f in facts if f.get("sentence") == i])
        for i, sentence in enumerate(sentences)
    ]


def snippet_pieces(snippet: str | None) -> tuple[Piece, ...]:
    """A search snippet cut at SQLite's match markers; matches are marked "match"."""
    pieces: list[Piece] = []
    for i, part in enumerate(re.split(f"[{MATCH_OPEN}{MATCH_CLOSE}]", snippet or "")):
        if part:
            pieces.append(Piece(part, "match" if i % 2 else ""))
    return tuple(pieces)


def plain_snippet(snippet: str | None) -> str:
    """The snippet with matches shown as [[...]] for JSON and feeds."""
    return (snippet or "").replace(MATCH_OPEN, "[[").replace(MATCH_CLOSE, "]]")


def percent(confidence: float | None) -> str:
    return "" if confidence is None else f"{round(float(confidence) * 100)}%"
