"""Stored values turned into plain pieces for templates: diff rows, highlighted facts, snippets.

Pure. Every piece is text that the templates escape; nothing here builds markup, so page-derived
content can only ever reach a page as escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from watcher import blockmarks
from watcher.diff import diff_rows
from watcher.models import Diff, Evidence, Fact, WordOp
from watcher.presentation import when
from watcher.rows import MATCH_CLOSE, MATCH_OPEN, SourceRow


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
    block: str = blockmarks.TEXT  # what the block is on the page: heading, item or text


@dataclass(frozen=True)
class SideRow:
    """One row of the side-by-side diff; a side is empty where the block has no counterpart."""

    before: tuple[Piece, ...] | None
    after: tuple[Piece, ...] | None
    kind: str  # "edit" | "delete" | "insert" | "replace"
    block: str = blockmarks.TEXT  # what the (after, else before) block is: heading, item, text


def _words(words: Sequence[WordOp]) -> tuple[blockmarks.Block, list[Piece]]:
    """A word-marked block as pieces without its block mark (see blockmarks.unmark_ops)."""
    block, ops = blockmarks.unmark_ops([(w.op, w.text) for w in words])
    pieces = [Piece(text, op) for op, text in ops]
    if block.kind == blockmarks.ITEM:
        pieces.insert(0, Piece(blockmarks.BULLET))
    return block, pieces


def _whole(text: str, mark: str) -> tuple[blockmarks.Block, Piece]:
    block = blockmarks.read(text)
    return block, Piece(block.plain, mark)


def inline_rows(diff: Diff) -> list[InlineRow]:
    """The diff as one column: edited blocks with word marks, whole blocks removed or added.
    Struck and new text that meet get a space between them, so `£9 £12` never reads `£9£12`."""
    rows: list[InlineRow] = []
    for row in diff_rows(diff):
        if row.words:
            block, pieces = _words(row.words)
            spaced: list[Piece] = []
            for piece in pieces:
                if spaced and {spaced[-1].mark, piece.mark} == {"delete", "insert"}:
                    spaced.append(Piece(" "))
                spaced.append(piece)
            rows.append(InlineRow("edit", tuple(spaced), block.kind))
            continue
        if row.before is not None:
            block, piece = _whole(row.before, "delete")
            rows.append(InlineRow("delete", (piece,), block.kind))
        if row.after is not None:
            block, piece = _whole(row.after, "insert")
            rows.append(InlineRow("insert", (piece,), block.kind))
    return rows


def side_rows(diff: Diff) -> list[SideRow]:
    """The diff as two columns: the old block on the left, the new one on the right."""
    rows: list[SideRow] = []
    for row in diff_rows(diff):
        if row.words:
            block, pieces = _words(row.words)
            rows.append(
                SideRow(
                    tuple(p for p in pieces if p.mark != "insert"),
                    tuple(p for p in pieces if p.mark != "delete"),
                    "edit",
                    block.kind,
                )
            )
            continue
        before = _whole(row.before, "delete") if row.before is not None else None
        after = _whole(row.after, "insert") if row.after is not None else None
        kind = (after or before or (blockmarks.Block(blockmarks.TEXT, ""), None))[0].kind
        rows.append(
            SideRow(
                (before[1],) if before else None, (after[1],) if after else None, row.kind, kind
            )
        )
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
    text = blockmarks.plain_lines(snippet or "")
    for i, part in enumerate(re.split(f"[{MATCH_OPEN}{MATCH_CLOSE}]", text)):
        if part:
            pieces.append(Piece(part, "match" if i % 2 else ""))
    return tuple(pieces)


def plain_snippet(snippet: str | None) -> str:
    """The snippet with matches shown as [[...]] for JSON and feeds."""
    text = blockmarks.plain_lines(snippet or "")
    return text.replace(MATCH_OPEN, "[[").replace(MATCH_CLOSE, "]]")


# A check's outcome as staff read it; "not_modified" is HTTP's 304, which is "unchanged" to them.
OUTCOME_WORDS = {"baseline": "first read", "changed": "changed", "error": "error"}


def source_status(row: SourceRow | None) -> str:
    """What the last check found, in words: `unchanged since 23 Nov 2026 09:00 UTC`, `changed`,
    `first read`; `never checked` before the first check."""
    outcome = row.last_outcome if row else None
    if row is None or not outcome:
        return "never checked"
    if outcome in ("unchanged", "not_modified"):
        return f"unchanged since {when(row.last_change_at or row.added_at)}"
    return OUTCOME_WORDS.get(outcome, outcome.replace("_", " "))


def percent(confidence: float | None) -> str:
    return "" if confidence is None else f"{round(float(confidence) * 100)}%"
