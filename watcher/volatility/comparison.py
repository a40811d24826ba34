"""Two versions of a page and their diff, worked out once: which blocks only moved, which block
replaced which, and where. Observe and judge both read the same `Comparison`. Pure."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from watcher.diff import PAIR_RATIO, similarity
from watcher.models import Diff, Extracted, Hunk, Snapshot
from watcher.normalise import mask

WORD = re.compile(r"[a-z]+")
# Below this share of words kept, a replacement is a swap of unrelated text, not an edit: the
# share at which the diff stops showing word marks. A reworded sentence keeps more (0.4 to 0.9),
# an amount or a date changed in a sentence far more (0.9 and up).
SWAP_SIMILARITY = PAIR_RATIO
CROSS_REACH = 4  # how far apart (in blocks) a deletion and an addition may be to pair as a swap


@dataclass(frozen=True)
class Side:
    """One version of a page: its blocks and the element path of each."""

    blocks: tuple[str, ...]
    paths: tuple[str, ...]

    def path(self, i: int) -> str:
        return self.paths[i] if i < len(self.paths) else ""


def side(version: Snapshot | Extracted | None) -> Side:
    """A stored or a freshly read version of a page as volatility reads it; None, the empty page.

    The one recipe from a snapshot (text stored one block a line) or an extraction to a `Side`,
    shared by the pipeline, `watcher explain` and the web app.
    """
    if version is None:
        return Side((), ())
    if isinstance(version, Snapshot):
        return Side(tuple(version.text.split("\n")) if version.text else (), version.paths)
    return Side(version.blocks, version.paths)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def anchor(side: Side, at: int) -> str:
    """The stable block just before a hunk, which names where in the page the hunk sits."""
    return _digest(mask(side.blocks[at - 1])) if at > 0 else "^"


def text_key(side: Side, i: int) -> str:
    """A block's element path and the digest of its masked text: what slot and site memory hold."""
    return f"{side.path(i)}|{_digest(mask(side.blocks[i]))}"


def shape(path: str, text: str) -> str | None:
    """A block's element path and first words, numbers and volatile tokens aside.

    "Quote of the week: Story 12" and "Quote of the week: Story 80" share a shape; a site whose
    pages replace a block by another of the same shape, page after page, is rotating it.
    """
    words = WORD.findall(mask(text).lower())[:3]
    return f"{path}~{' '.join(words)}" if len(words) >= 2 else None


def moved(old: Side, new: Side, diff: Diff) -> tuple[set[int], set[int]]:
    """Indices (old, new) of blocks that were only moved: removed in one place, added in another."""
    removed = [
        (i, mask(old.blocks[i]))
        for h in diff.hunks
        for i in range(h.at_before, h.at_before + len(h.before))
    ]
    added = [
        (j, mask(new.blocks[j]))
        for h in diff.hunks
        for j in range(h.at_after, h.at_after + len(h.after))
    ]
    both = Counter(k for _, k in removed) & Counter(k for _, k in added)
    return _spend(removed, Counter(both)), _spend(added, Counter(both))


def _spend(items: list[tuple[int, str]], budget: Counter[str]) -> set[int]:
    out = set()
    for index, key in items:
        if budget[key] > 0:
            budget[key] -= 1
            out.add(index)
    return out


@dataclass(frozen=True)
class Region:
    """One hunk's blocks that are left once moved blocks are set aside, by index, and which old
    block each new one replaced."""

    hunk: Hunk
    old: tuple[int, ...]
    new: tuple[int, ...]
    anchor: str
    pairs: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Comparison:
    """Everything observe and judge need to know about a diff, worked out once by `compare`."""

    old: Side
    new: Side
    diff: Diff
    regions: tuple[Region, ...]
    gone: frozenset[int]  # old blocks only moved
    came: frozenset[int]  # new blocks only moved
    cross: tuple[tuple[int, int, str], ...]  # swaps the diff split across two hunks
    lone_old: tuple[int, ...]  # blocks only removed: no counterpart, no swap partner
    lone_new: tuple[int, ...]  # blocks only added


def compare(old: Side, new: Side, diff: Diff, order_matters: bool = False) -> Comparison:
    """Set moved blocks aside (unless order matters) and pair what is left: the work that
    learning from a diff and judging it share, done once per diff."""
    gone, came = (set(), set()) if order_matters else moved(old, new, diff)
    regions = []
    for h in diff.hunks:
        bi = [i for i in range(h.at_before, h.at_before + len(h.before)) if i not in gone]
        aj = [j for j in range(h.at_after, h.at_after + len(h.after)) if j not in came]
        pairs = tuple(_counterparts(old, new, bi, aj))
        regions.append(Region(h, tuple(bi), tuple(aj), anchor(new, h.at_after), pairs))
    paired_old = {i for r in regions for i, _ in r.pairs}
    paired_new = {j for r in regions for _, j in r.pairs}
    lone_old = [i for r in regions for i in r.old if i not in paired_old]
    lone_new = [j for r in regions for j in r.new if j not in paired_new]
    cross = _cross_swaps(old, new, lone_old, lone_new)
    crossed_old = {i for i, _, _ in cross}
    crossed_new = {j for _, j, _ in cross}
    return Comparison(
        old,
        new,
        diff,
        tuple(regions),
        frozenset(gone),
        frozenset(came),
        tuple(cross),
        tuple(i for i in lone_old if i not in crossed_old),
        tuple(j for j in lone_new if j not in crossed_new),
    )


def _counterparts(old: Side, new: Side, bi: list[int], aj: list[int]) -> list[tuple[int, int]]:
    """Which old block each new block of a hunk replaced: by position when the counts are
    equal, otherwise the old block of the same shape, or the most similar one."""
    if not bi or not aj:
        return []
    if len(bi) == len(aj) and all(old.path(i) == new.path(j) for i, j in zip(bi, aj, strict=True)):
        return list(zip(bi, aj, strict=True))
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for j in aj:
        shape_j = shape(new.path(j), new.blocks[j])
        best, best_score = None, PAIR_RATIO
        for i in bi:
            if i in used:
                continue
            if shape_j is not None and shape(old.path(i), old.blocks[i]) == shape_j:
                best = i
                break
            score = similarity(old.blocks[i], new.blocks[j])
            if score >= best_score:
                best, best_score = i, score
        if best is not None:
            used.add(best)
            pairs.append((best, j))
    return pairs


def _cross_swaps(
    old: Side, new: Side, lone_old: list[int], lone_new: list[int]
) -> list[tuple[int, int, str]]:
    """Swaps the diff split across hunks: a block deleted in one hunk and unrelated text added in
    the same element close by, in another (a chance match between them splits the hunk)."""
    free = list(lone_new)
    out = []
    for i in lone_old:
        path = old.path(i)
        near = [
            j
            for j in free
            if new.path(j) == path
            and abs(j - i) <= CROSS_REACH
            and similarity(old.blocks[i], new.blocks[j]) < SWAP_SIMILARITY
        ]
        if near:
            j = min(near, key=lambda j: abs(j - i))
            free.remove(j)
            out.append((i, j, path))
    return out


def swaps(cmp: Comparison, r: Region) -> list[tuple[int, int, str]]:
    """(old, new, path) of blocks replaced whole by unrelated text in the same element."""
    old, new = cmp.old, cmp.new
    out = []
    for i, j in r.pairs:
        path = new.path(j)
        if old.path(i) == path and similarity(old.blocks[i], new.blocks[j]) < SWAP_SIMILARITY:
            out.append((i, j, path))
    return out


def same_shape(cmp: Comparison, r: Region) -> list[tuple[int, int, str]]:
    """(old index, new index, shape) of blocks replaced by a block of the same shape."""
    old, new = cmp.old, cmp.new
    out = []
    for i, j in r.pairs:
        a = shape(old.path(i), old.blocks[i])
        if a is not None and a == shape(new.path(j), new.blocks[j]):
            out.append((i, j, a))
    return out
