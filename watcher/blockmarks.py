"""The marks extraction puts at the start of a block (`## ` a heading, `- ` a list item), read
back in one place for every surface that shows stored text to a person. Pure.

Stored blocks keep their marks: the diff, the learned volatility and the hash of a stored version
depend on them, and `watcher cite` recomputes that hash from the stored text. Only what people
read loses them: alerts, the web pages and search snippets ask this module what a block is and
show a heading as a heading and an item as an item, never `##` or `-`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

HEADING = "heading"
ITEM = "item"
TEXT = "text"
BULLET = "• "
# What extract.blocks writes: "#" * level + " " for h1-h6, "- " for a list item (nested lists
# and paragraphs inside an item carry one "- ", never more).
_MARK = re.compile(r"(#{1,6}|-) (?=\S)")
# At a line's start, or after the "…" (or a match mark) a snippet opens with.
_LINE_MARK = re.compile(r"(?m)^([…\ue000]?)(#{1,6}|-) (?=\S)")
# diff.summarise: "2 blocks added, 1 block removed: " and then the first block as stored.
_SUMMARY = re.compile(
    r"(\d+ blocks? (?:edited|added|removed)(?:, \d+ blocks? (?:added|removed))*: )"
)
# In a word-marked block the mark may be a whole run of its own ("## ", then the words).
_OPS_MARK = re.compile(r"(#{1,6}|-) ")


@dataclass(frozen=True)
class Block:
    """A block as a reader sees it: its kind, its heading level (1-6, else 0) and its words."""

    kind: str  # HEADING, ITEM or TEXT
    text: str
    level: int = 0

    @property
    def plain(self) -> str:
        """One line of plain text: a heading's words, an item after a bullet."""
        return BULLET + self.text if self.kind == ITEM else self.text


def read(block: str) -> Block:
    """What a stored block is: `## Notes` a level-2 heading, `- First` a list item."""
    found = _MARK.match(block)
    if found is None:
        return Block(TEXT, block)
    mark = found.group(1)
    rest = block[found.end() :]
    if mark == "-":
        return Block(ITEM, rest)
    return Block(HEADING, rest, len(mark))


def mark_length(block: str) -> int:
    """How many leading characters of `block` are its mark (0 for a paragraph)."""
    found = _MARK.match(block)
    return found.end() if found else 0


def plain(block: str) -> str:
    """A stored block as one line of plain text (see `Block.plain`)."""
    return read(block).plain


def plain_lines(text: str) -> str:
    """Stored text of many blocks (a page version, a search snippet) with every line's mark
    read: headings as their words, items after a bullet."""
    text = "\n".join(plain_summary(line) for line in text.split("\n"))
    return _LINE_MARK.sub(lambda m: m.group(1) + (BULLET if m.group(2) == "-" else ""), text)


def unmark_ops(ops: Sequence[tuple[str, str]]) -> tuple[Block, list[tuple[str, str]]]:
    """A word-marked block (`(op, text)` pairs) without its mark, and what block it is. The mark
    comes off only where both sides share it (an unchanged leading run); a block whose mark
    itself changed keeps its marks as words, so nothing it says is hidden."""
    ops = list(ops)
    if not ops or ops[0][0] != "equal":
        return Block(TEXT, ""), ops
    op, first = ops[0]
    found = _OPS_MARK.match(first)
    if found is None or (found.end() == len(first) and len(ops) == 1):
        return Block(TEXT, ""), ops
    mark = found.group(1)
    block = Block(ITEM, "") if mark == "-" else Block(HEADING, "", len(mark))
    rest = [(op, first[found.end() :])] if found.end() < len(first) else []
    return block, [*rest, *ops[1:]]


def plain_summary(summary: str) -> str:
    """A change's summary (`1 block added: ## Notes`, see diff.summarise) with its first
    block's mark read."""
    found = _SUMMARY.match(summary)
    if found is None:
        return summary
    return found.group(1) + plain(summary[found.end(1) :])
