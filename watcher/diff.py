"""Block-level diff with word-level marks inside changed blocks. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from watcher import blockmarks
from watcher.models import Diff, Hunk, WordOp

TOKENS = re.compile(r"\s+|[^\s]+")
# Two blocks are paired for word marks when this much of them is shared; below it they are
# shown as one removed and one added block, which reads better than a confetti of marks.
PAIR_RATIO = 0.4


def diff_blocks(
    before: Sequence[str], after: Sequence[str], key: Callable[[str], str] | None = None
) -> Diff:
    """Compare two block sequences; equal regions are left out.

    With `key`, blocks are compared by `key(block)` (a normalised form) and reported as written.
    """
    a = [key(b) for b in before] if key else list(before)
    b = [key(x) for x in after] if key else list(after)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old, new = tuple(before[i1:i2]), tuple(after[j1:j2])
        words = pair_words(old, new) if tag == "replace" else ()
        hunks.append(Hunk(tag, old, new, words, i1, j1))
    return Diff(tuple(hunks))


def regroup(
    before: tuple[str, ...], after: tuple[str, ...], at_before: int, at_after: int
) -> list[Hunk]:
    """Hunks for `before` replaced by `after`, blocks paired by content, not position: a
    sentence reworded beside a block added or removed reads as a word-level edit."""
    if not before or not after:
        return [Hunk("delete" if before else "insert", before, after, (), at_before, at_after)]
    pairs = align(before, after)
    hunks: list[Hunk] = []
    i = j = 0
    for pi, pj in [*pairs, (len(before), len(after))]:
        b, a = before[i:pi], after[j:pj]
        if b or a:
            op = "replace" if b and a else ("delete" if b else "insert")
            words = tuple(() for _ in zip(b, a, strict=False))
            hunks.append(Hunk(op, b, a, words, at_before + i, at_after + j))
        if pi < len(before):
            old, new = before[pi], after[pj]
            hunks.append(
                Hunk(
                    "replace", (old,), (new,), (word_diff(old, new),), at_before + pi, at_after + pj
                )
            )
        i, j = pi + 1, pj + 1
    return hunks


ALIGN_LIMIT = 400  # block pairs compared at most; past it, blocks pair by position


def align(before: Sequence[str], after: Sequence[str]) -> list[tuple[int, int]]:
    """The order-keeping pairs of similar blocks (>= PAIR_RATIO) with the most shared text."""
    n, m = len(before), len(after)
    if n * m > ALIGN_LIMIT:
        return [(k, k) for k in range(min(n, m)) if similarity(before[k], after[k]) >= PAIR_RATIO]
    sims = [[similarity(a, b) for b in after] for a in before]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = sims[i][j]
            take = score[i + 1][j + 1] + s if s >= PAIR_RATIO else -1.0
            score[i][j] = max(take, score[i + 1][j], score[i][j + 1])
    pairs = []
    i = j = 0
    while i < n and j < m:
        s = sims[i][j]
        if s >= PAIR_RATIO and score[i][j] == score[i + 1][j + 1] + s:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def pair_words(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[tuple[WordOp, ...], ...]:
    marks = []
    for a, b in zip(old, new, strict=False):
        if similarity(a, b) >= PAIR_RATIO:
            marks.append(word_diff(a, b))
        else:
            marks.append(())
    return tuple(marks)


def similarity(a: str, b: str) -> float:
    """Share of the two blocks' text in words they have in common, in order: 0.0 to 1.0.

    Words, not characters: any two English sentences share most of their letters (difflib's
    `quick_ratio` rates unrelated sentences near 0.6), and a character `ratio` is quadratic in
    the block's length. Matched words are weighted by their length so "£9" -> "£12" in a long
    sentence still counts as a small edit.
    """
    wa, wb = a.split(), b.split()
    total = sum(map(len, wa)) + sum(map(len, wb))
    if not total:
        return 1.0
    matched = SequenceMatcher(None, wa, wb, autojunk=False).get_matching_blocks()
    shared = sum(len(word) for m in matched for word in wa[m.a : m.a + m.size])
    return 2 * shared / total


def word_diff(a: str, b: str) -> tuple[WordOp, ...]:
    """Word-level operations turning `a` into `b`, adjacent runs merged."""
    wa, wb = TOKENS.findall(a), TOKENS.findall(b)
    ops: list[WordOp] = []

    def push(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1].op == op:
            ops[-1] = WordOp(op, ops[-1].text + text)
        else:
            ops.append(WordOp(op, text))

    deleted: list[str] = []
    inserted: list[str] = []

    def push_change() -> None:
        push("delete", "".join(deleted))
        push("insert", "".join(inserted))
        deleted.clear()
        inserted.clear()

    opcodes = SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        # Only a space kept between two changes: one change, "[-two three-]{+2 3+}" as wdiff and
        # git --word-diff show it, not "[-two-]{+2+} [-three-]{+3+}".
        between_changes = 0 < k < len(opcodes) - 1 and not "".join(wa[i1:i2]).strip()
        if tag == "equal" and not between_changes:
            push_change()
            push("equal", "".join(wa[i1:i2]))
        else:
            deleted.append("".join(wa[i1:i2]))
            inserted.append("".join(wb[j1:j2]))
    push_change()
    return tuple(ops)


def render_words(ops: Sequence[WordOp]) -> str:
    """`[-old-]{+new+}` marks, the form wdiff and git --word-diff=plain use."""
    parts = []
    for op in ops:
        if op.op == "insert":
            parts.append("{+" + op.text + "+}")
        elif op.op == "delete":
            parts.append("[-" + op.text + "-]")
        else:
            parts.append(op.text)
    return "".join(parts)


@dataclass(frozen=True)
class DiffRow:
    """One block position of a hunk: edited in place (word marks), removed, added or replaced."""

    before: str | None  # the old block, None where the new one has no counterpart
    after: str | None  # the new block, None where the old one has no counterpart
    words: tuple[WordOp, ...] = ()  # word marks when the two blocks are one edited block

    @property
    def kind(self) -> str:
        """ "edit" (word marks), "replace" (two unrelated blocks), "delete" or "insert"."""
        if self.words:
            return "edit"
        if self.before is not None and self.after is not None:
            return "replace"
        return "delete" if self.before is not None else "insert"


def diff_rows(diff: Diff) -> Iterator[DiffRow]:
    """The diff block by block, in order: the one loop every view (text, alerts, web) reads."""
    for hunk in diff.hunks:
        for k in range(max(len(hunk.before), len(hunk.after))):
            yield DiffRow(
                hunk.before[k] if k < len(hunk.before) else None,
                hunk.after[k] if k < len(hunk.after) else None,
                hunk.words[k] if k < len(hunk.words) else (),
            )


def render_diff(diff: Diff, max_lines: int | None = None) -> str:
    """Plain-text view: '- ' removed block, '+ ' added block, '~ ' block with word marks; each
    block as people read it (a heading's words, an item after a bullet; see blockmarks)."""
    lines: list[str] = []
    for row in diff_rows(diff):
        if row.words:
            block, ops = blockmarks.unmark_ops([(w.op, w.text) for w in row.words])
            bullet = blockmarks.BULLET if block.kind == blockmarks.ITEM else ""
            lines.append("~ " + bullet + render_words([WordOp(op, text) for op, text in ops]))
            continue
        if row.before is not None:
            lines.append("- " + blockmarks.plain(row.before))
        if row.after is not None:
            lines.append("+ " + blockmarks.plain(row.after))
    if max_lines is not None and len(lines) > max_lines:
        hidden = len(lines) - max_lines
        lines = [*lines[:max_lines], f"… {hidden} more line{'s' if hidden != 1 else ''}"]
    return "\n".join(lines)


def summarise(diff: Diff) -> str:
    """One line: how much changed and the first words of it."""
    edited = sum(1 for h in diff.hunks for marks in h.words if marks)
    added = sum(len(h.after) for h in diff.hunks) - edited
    removed = sum(len(h.before) for h in diff.hunks) - edited
    parts = [
        f"{n} block{'s' if n != 1 else ''} {what}"
        for n, what in ((edited, "edited"), (added, "added"), (removed, "removed"))
        if n
    ]
    lead = next((line for h in diff.hunks for line in h.after), None) or next(
        (line for h in diff.hunks for line in h.before), ""
    )
    lead = lead if len(lead) <= 120 else lead[:119] + "…"
    return f"{', '.join(parts)}: {lead}" if lead else ", ".join(parts)


def diff_to_dict(diff: Diff) -> list[dict[str, object]]:
    """A JSON-ready form of `diff`, stored with each change."""
    return [
        {
            "op": h.op,
            "before": list(h.before),
            "after": list(h.after),
            "words": [[[w.op, w.text] for w in marks] for marks in h.words],
            "at_before": h.at_before,
            "at_after": h.at_after,
        }
        for h in diff.hunks
    ]


def diff_from_dict(data: list[dict[str, object]]) -> Diff:
    """Inverse of `diff_to_dict`."""
    hunks = []
    for h in data:
        words = tuple(
            tuple(WordOp(str(op), str(text)) for op, text in marks)
            for marks in h.get("words", [])  # type: ignore[attr-defined]
        )
        hunks.append(
            Hunk(
                str(h["op"]),
                tuple(h["before"]),  # type: ignore[arg-type]
                tuple(h["after"]),  # type: ignore[arg-type]
                words,
                int(h.get("at_before", 0)),  # type: ignore[call-overload]
                int(h.get("at_after", 0)),  # type: ignore[call-overload]
            )
        )
    return Diff(tuple(hunks))
