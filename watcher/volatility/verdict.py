"""Judging a diff against what was learned: volatile and merely moved blocks taken out. Pure.

No learned rule, of the source or of its site, takes out a block that adds, drops or changes an
amount or a date on the page: those are what a reader watches for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from watcher.diff import regroup, similarity
from watcher.models import Diff, Hunk
from watcher.normalise import facts
from watcher.volatility.comparison import (
    SWAP_SIMILARITY,
    Comparison,
    Region,
    Side,
    same_shape,
    swaps,
    text_key,
)
from watcher.volatility.site import boilerplate, grows, host_volatile, site_known
from watcher.volatility.slots import Learned, slot_volatile


@dataclass(frozen=True)
class Verdict:
    """A diff with volatile and merely moved blocks taken out, and what was taken out."""

    diff: Diff
    suppressed: tuple[tuple[str, str], ...]  # (reason, block)


def moved_facts(old: Side, new: Side) -> frozenset[str]:
    """The amounts and dates whose count on the page differs between two versions."""
    before = Counter(f for b in old.blocks for f in facts(b))
    after = Counter(f for b in new.blocks for f in facts(b))
    return frozenset(f for f in before.keys() | after.keys() if before[f] != after[f])


def judge(cmp: Comparison, learned: Learned) -> Verdict:
    """Take out of the compared diff what is volatile by what was learned, and what only moved.

    No learned rule, of the source or of its site, takes out a block that adds, drops or
    changes an amount or a date on the page: those are what a reader watches for. The one
    exception is a text seen to rotate across the site's pages, the same words on each.
    """
    old, new = cmp.old, cmp.new
    suppressed: list[tuple[str, str]] = []
    suppressed += [("moved", old.blocks[i]) for i in sorted(cmp.gone)]
    suppressed += [("moved", new.blocks[j]) for j in sorted(cmp.came)]
    context = _Context(old, new, learned, moved_facts(old, new), cmp)
    hunks: list[Hunk] = []
    for r in cmp.regions:
        before, after = _judge_region(context, r, suppressed)
        if before or after:
            b = tuple(old.blocks[i] for i in before)
            a = tuple(new.blocks[j] for j in after)
            at_b = before[0] if before else r.hunk.at_before
            at_a = after[0] if after else r.hunk.at_after
            hunks.extend(regroup(b, a, at_b, at_a))
    return Verdict(Diff(tuple(hunks)), tuple(suppressed))


@dataclass(frozen=True)
class _Context:
    """What judging each region of one comparison needs."""

    old: Side
    new: Side
    learned: Learned
    facts: frozenset[str]  # amounts and dates the change moved on the page
    cmp: Comparison

    def guarded(self, side: Side, index: int) -> bool:
        return not self.facts.isdisjoint(facts(side.blocks[index]))


def _judge_region(
    ctx: _Context, r: Region, suppressed: list[tuple[str, str]]
) -> tuple[list[int], list[int]]:
    """The indices of a region's blocks that stay in the diff; the rest go to `suppressed`."""
    old, new, learned = ctx.old, ctx.new, ctx.learned
    rotating = [(i, j) for i, j, s in same_shape(ctx.cmp, r) if host_volatile(learned, s)]
    rotating += [(i, j) for i, j, p in swaps(ctx.cmp, r) if host_volatile(learned, f"swap:{p}")]
    rotating += [(i, j) for i, j, p in ctx.cmp.cross if host_volatile(learned, f"swap:{p}")]
    # A text the page held before, come back to its slot: an alternating wording.
    rotating += [(i, j) for i, j in r.pairs if text_key(new, j) in learned.returned]
    unrelated = [
        (i, j) for i, j in r.pairs if similarity(old.blocks[i], new.blocks[j]) < SWAP_SIMILARITY
    ]
    unrelated += [(i, j) for i, j, _ in ctx.cmp.cross]
    # Unrelated text swapped with a text that rotates across the site's pages: the slot is part
    # of the rotation, so its other side is furniture too (when it moves no amount or date).
    rotating += [
        (i, j)
        for i, j in unrelated
        if site_known(learned, text_key(old, i)) or site_known(learned, text_key(new, j))
    ]
    rotated = ({i for i, _ in rotating}, {j for _, j in rotating})
    counterparts = ({i for i, _ in r.pairs}, {j for _, j in r.pairs})
    swapped = ({i for i, _ in unrelated}, {j for _, j in unrelated})
    kept: tuple[list[int], list[int]] = ([], [])
    for k, (side, indices) in enumerate(((old, r.old), (new, r.new))):
        for index in indices:
            text = text_key(side, index)
            # A text that rotates through this element on the site's pages, amounts and dates
            # included, is furniture when it arrives or takes a block's place; a block only
            # removed is the page's own loss, reported whatever circulates elsewhere.
            if (k == 1 or index in counterparts[k] | swapped[k]) and site_known(
                learned, text, departing=k == 0 and index in swapped[k]
            ):
                why: str | None = "a text that rotates across the site's pages"
            elif ctx.guarded(side, index):
                why = None
            else:
                why = _why(ctx, r, k, side, index, rotated[k])
            if why:
                suppressed.append((why, side.blocks[index]))
            else:
                kept[k].append(index)
    return kept


def _why(ctx: _Context, r: Region, k: int, side: Side, index: int, rotated: set[int]) -> str | None:
    """Why a block that moves no amount or date is volatile, or None when it is news."""
    learned, path = ctx.learned, side.path(index)
    lone = ctx.cmp.lone_old if k == 0 else ctx.cmp.lone_new
    text = text_key(side, index)
    if index in rotated:
        return "changes like this on most pages of the site, or alternates on this one"
    if index in lone and grows(learned, path):
        # Blocks added or removed where most pages of the site add or remove some (a growing
        # comment list, a feed of latest items): a new paragraph on one page in ten is not that.
        return "added or removed like this on most pages of the site"
    if host_volatile(learned, path):
        return f"template churn across the site ({path})"
    if index in _paired(r, k) and boilerplate(learned, text):
        # Only a text taking another's place: the same paragraph added to most pages of a site
        # at once is news told everywhere (and one storm alert), not furniture.
        return "the same text took another's place on most pages of the site"
    if k == 1 and index in lone and text in learned.returned:
        return "a text this page held before, come back"
    if index in _paired(r, k) and slot_volatile(learned, f"{path}|{r.anchor}"):
        return "learned volatile: replaced on most checks, or alternating"
    return None


def _paired(r: Region, k: int) -> set[int]:
    return {pair[k] for pair in r.pairs}
