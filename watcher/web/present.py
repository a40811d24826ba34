"""Stored values turned into plain pieces for templates: diff rows, highlighted facts, snippets.

Pure. Every piece is text that the templates escape; nothing here builds markup, so page-derived
content can only ever reach a page as escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from watcher.diff import diff_rows
from watcher.models import Diff, Evidence, Fact
from watcher.rows import MATCH_CLOSE, MATCH_OPEN


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


def inline_rows(diff: Diff) -> list[InlineRow]:
    """The diff as one column: edited blocks with word marks, whole blocks removed or added."""
    rows: list[InlineRow] = []
    for row in diff_rows(diff):
        if row.words:
            rows.append(InlineRow("edit", tuple(Piece(w.text, w.op) for w in row.words)))
            continue
        if row.before is not None:
            rows.append(InlineRow("delete", (Piece(row.before, "delete"),)))
        if row.after is not None:
            rows.append(InlineRow("insert", (Piece(row.after, "insert"),)))
    return rows


def side_rows(diff: Diff) -> list[SideRow]:
    """The diff as two columns: the old block on the left, the new one on the right."""
    rows: list[SideRow] = []
    for row in diff_rows(diff):
        if row.words:
            rows.append(
                SideRow(
                    tuple(Piece(w.text, w.op) for w in row.words if w.op != "insert"),
                    tuple(Piece(w.text, w.op) for w in row.words if w.op != "delete"),
                    "edit",
                )
            )
            continue
        before = (Piece(row.before, "delete"),) if row.before is not None else None
        after = (Piece(row.after, "insert"),) if row.after is not None else None
        rows.append(SideRow(before, after, row.kind))
    return rows


def highlight(sentence: str, facts: Sequence[Fact]) -> tuple[Piece, ...]:
    """A sentence cut into plain runs and runs marked with the kind of fact they state."""
    spans = sorted((f.start, f.end, f.kind) for f in facts if 0 <= f.start < f.end <= len(sentence))
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


def evidence_view(evidence: Evidence) -> list[tuple[Piece, ...]]:
    """Each evidence sentence with its facts marked."""
    return [
        highlight(
            sentence, [f for f, of in zip(evidence.facts, evidence.of, strict=True) if of == i]
        )
        for i, sentence in enumerate(evidence.sentences)
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
