"""Learning which parts of a page change by nature, and judging a diff against it. Pure.

Two kinds of evidence, both about *where* text changes, never about what it says:

- **Slots of one source.** A slot is a block's element path plus the stable block before it
  (its anchor). A slot whose text is replaced on most checks (a rotating "related" list, an
  advert, a quote of the day) is volatile for that source. The first check of a source is
  followed by a second fetch; anything that differs between the two is volatile at once.
- **Template paths of one site.** An element path (e.g. ``main/article/section.related/ul/li``)
  whose blocks turn over on most pages of a host in the same pass is template churn; pages of
  one site share their templates, so this is learned from the first pass.

Moved blocks are not changes (unless a source says order matters). A slot is never learned
volatile when the change at hand alters a money amount or a date: those are what matter.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from watcher.diff import PAIR_RATIO, pair_words, similarity
from watcher.models import Diff, Hunk
from watcher.normalise import facts, mask

SLOT_MIN_REPLACED = 2  # a slot is volatile once replaced this many times ...
SLOT_MIN_SHARE = 0.5  # ... in at least this share of the source's comparisons
HOST_MIN_PAGES = 8.0  # template churn needs this many pages of a host observed ...
HOST_MIN_SHARE = 0.5  # ... with the path turning over on at least this share of them
TURNOVER = 0.5  # a path "turns over" on a page when this share of its blocks changed
DECAY = 0.95  # host evidence fades, so a redesigned template is relearned
WORD = re.compile(r"[a-z]+")
# Below this share of words kept, a replacement is a swap of unrelated text, not an edit; an
# amount or a date changed in a sentence keeps far more (0.9 and up).
SWAP_SIMILARITY = 0.7
CROSS_REACH = 4  # how far apart (in blocks) a deletion and an addition may be to pair as a swap


@dataclass(frozen=True)
class Side:
    """One version of a page: its blocks and the element path of each."""

    blocks: tuple[str, ...]
    paths: tuple[str, ...]

    def path(self, i: int) -> str:
        return self.paths[i] if i < len(self.paths) else ""


@dataclass(frozen=True)
class Observation:
    """What one comparison of two versions teaches."""

    replaced_slots: frozenset[str]  # slots whose text was replaced
    guarded_slots: frozenset[str]  # ... of which the change moved money or a date
    turnover: Mapping[str, float]  # element path -> share of its blocks that changed
    present_shapes: frozenset[str] = frozenset()  # shapes of the new version's blocks
    replaced_shapes: frozenset[str] = frozenset()  # shapes replaced by a block of the same shape
    # Paths where a block was replaced by unrelated text, and where one was only added or removed.
    swapped_paths: frozenset[str] = frozenset()
    grown_paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Learned:
    """What is known before judging a comparison."""

    comparisons: int = 0
    slots: Mapping[str, float] = field(default_factory=dict)  # slot -> times replaced
    host: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # path -> (seen, churned)


@dataclass(frozen=True)
class Verdict:
    """A diff with volatile and merely moved blocks taken out, and what was taken out."""

    diff: Diff
    suppressed: tuple[tuple[str, str], ...]  # (reason, block)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


def anchor(side: Side, at: int) -> str:
    """The stable block just before a hunk, which names where in the page the hunk sits."""
    return _digest(mask(side.blocks[at - 1])) if at > 0 else "^"


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
class _Region:
    """One hunk's blocks that are left once moved blocks are set aside, by index, and which old
    block each new one replaced."""

    hunk: Hunk
    old: list[int]
    new: list[int]
    anchor: str
    pairs: list[tuple[int, int]]


@dataclass(frozen=True)
class _Comparison:
    """Everything observe and judge need to know about a diff, worked out once."""

    regions: list[_Region]
    gone: set[int]  # old blocks only moved
    came: set[int]  # new blocks only moved
    cross: list[tuple[int, int, str]]  # swaps the diff split across two hunks: (old, new, path)
    lone_old: list[int]  # blocks only removed: no counterpart, no swap partner
    lone_new: list[int]  # blocks only added


def _compare(old: Side, new: Side, diff: Diff, order_matters: bool) -> _Comparison:
    gone, came = (set(), set()) if order_matters else moved(old, new, diff)
    regions = []
    for h in diff.hunks:
        bi = [i for i in range(h.at_before, h.at_before + len(h.before)) if i not in gone]
        aj = [j for j in range(h.at_after, h.at_after + len(h.after)) if j not in came]
        regions.append(_Region(h, bi, aj, anchor(new, h.at_after), _counterparts(old, new, bi, aj)))
    paired_old = {i for r in regions for i, _ in r.pairs}
    paired_new = {j for r in regions for _, j in r.pairs}
    lone_old = [i for r in regions for i in r.old if i not in paired_old]
    lone_new = [j for r in regions for j in r.new if j not in paired_new]
    cross = _cross_swaps(old, new, lone_old, lone_new)
    crossed_old = {i for i, _, _ in cross}
    crossed_new = {j for _, j, _ in cross}
    return _Comparison(
        regions,
        gone,
        came,
        cross,
        [i for i in lone_old if i not in crossed_old],
        [j for j in lone_new if j not in crossed_new],
    )


def _counterparts(old: Side, new: Side, bi: list[int], aj: list[int]) -> list[tuple[int, int]]:
    """Which old block each new block of a hunk replaced: by position when the counts are
    equal, otherwise the old block of the same shape, or the most similar one."""
    if not bi or not aj:
        return []
    if len(bi) == len(aj):
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


def _matched(old: Side, new: Side, r: _Region) -> tuple[set[int], set[int]]:
    """Blocks of a region swapped for a counterpart that moves no money or date.

    Only these can be a slot's rotation; a block removed or added beside them is an edit, and a
    pair whose amounts or dates differ is an edit too.
    """
    kept = [(i, j) for i, j in r.pairs if facts(old.blocks[i]) == facts(new.blocks[j])]
    return {i for i, _ in kept}, {j for _, j in kept}


def _swaps(old: Side, new: Side, r: _Region) -> list[tuple[int, int, str]]:
    """(old, new, path) of blocks replaced whole by unrelated text in the same element."""
    out = []
    for i, j in r.pairs:
        path = new.path(j)
        if old.path(i) == path and similarity(old.blocks[i], new.blocks[j]) < SWAP_SIMILARITY:
            out.append((i, j, path))
    return out


def _same_shape(old: Side, new: Side, r: _Region) -> list[tuple[int, int, str]]:
    """(old index, new index, shape) of blocks replaced by a block of the same shape."""
    out = []
    for i, j in r.pairs:
        a = shape(old.path(i), old.blocks[i])
        if a is not None and a == shape(new.path(j), new.blocks[j]):
            out.append((i, j, a))
    return out


def _moves_facts(before: Sequence[str], after: Sequence[str]) -> bool:
    return Counter(f for b in before for f in facts(b)) != Counter(
        f for a in after for f in facts(a)
    )


def observe(old: Side, new: Side, diff: Diff, order_matters: bool = False) -> Observation:
    """Which slots were replaced, which shapes rotated, and how much each element path turned over."""
    replaced: set[str] = set()
    guarded: set[str] = set()
    changed: Counter[str] = Counter()
    replaced_shapes: set[str] = set()
    swapped: set[str] = set()
    cmp = _compare(old, new, diff, order_matters)
    for r in cmp.regions:
        replaced_shapes.update(s for _, _, s in _same_shape(old, new, r))
        swapped.update(p for _, _, p in _swaps(old, new, r))
        for i in r.old:
            changed[old.path(i)] += 1
        for j in r.new:
            changed[new.path(j)] += 1
        if r.old and r.new:
            keys = {f"{old.path(i)}|{r.anchor}" for i in r.old} | {
                f"{new.path(j)}|{r.anchor}" for j in r.new
            }
            replaced.update(keys)
            if _moves_facts([old.blocks[i] for i in r.old], [new.blocks[j] for j in r.new]):
                guarded.update(keys)
    swapped.update(p for _, _, p in cmp.cross)
    grown = {old.path(i) for i in cmp.lone_old} | {new.path(j) for j in cmp.lone_new}
    sizes_old = Counter(old.path(i) for i in range(len(old.blocks)))
    sizes_new = Counter(new.path(i) for i in range(len(new.blocks)))
    turnover = {}
    for path in set(sizes_old) | set(sizes_new):
        size = max(sizes_old[path], sizes_new[path])
        turnover[path] = min(1.0, changed[path] / (2 * size)) if size else 0.0
    present = {s for i, b in enumerate(new.blocks) if (s := shape(new.path(i), b))}
    return Observation(
        frozenset(replaced),
        frozenset(guarded),
        turnover,
        frozenset(present),
        frozenset(replaced_shapes),
        frozenset(swapped),
        frozenset(grown),
    )


def learn(learned: Learned, obs: Observation, weight: int = 1) -> Learned:
    """Fold one comparison of this source into what is known of it (slots only)."""
    slots = dict(learned.slots)
    for key in obs.replaced_slots:
        slots[key] = slots.get(key, 0.0) + weight
    return Learned(learned.comparisons + (1 if weight == 1 else 0), slots, learned.host)


def host_update(
    host: Mapping[str, tuple[float, float]], obs: Observation
) -> dict[str, tuple[float, float]]:
    """Fold one page's turnover and rotations into a host's template evidence."""
    out = dict(host)
    for path, share in obs.turnover.items():
        seen, churned = out.get(path, (0.0, 0.0))
        out[path] = (seen * DECAY + 1.0, churned * DECAY + (1.0 if share >= TURNOVER else 0.0))
    for path in obs.turnover:
        for kind, paths in (("swap", obs.swapped_paths), ("grow", obs.grown_paths)):
            seen, churned = out.get(f"{kind}:{path}", (0.0, 0.0))
            hit = 1.0 if path in paths else 0.0
            out[f"{kind}:{path}"] = (seen * DECAY + 1.0, churned * DECAY + hit)
    for key in obs.present_shapes:
        # Shapes are followed from the first time one is replaced: a site's every paragraph
        # would otherwise be a row.
        if key not in out and key not in obs.replaced_shapes:
            continue
        seen, churned = out.get(key, (0.0, 0.0))
        out[key] = (
            seen * DECAY + 1.0,
            churned * DECAY + (1.0 if key in obs.replaced_shapes else 0.0),
        )
    return out


def host_volatile(learned: Learned, key: str) -> bool:
    """Whether a site path or block shape turns over on most pages of its host."""
    seen, churned = learned.host.get(key, (0.0, 0.0))
    return seen >= HOST_MIN_PAGES and churned / seen >= HOST_MIN_SHARE


def slot_volatile(learned: Learned, key: str) -> bool:
    """Whether a slot of one source was replaced on most of its checks."""
    count = learned.slots.get(key, 0.0)
    return count >= SLOT_MIN_REPLACED and count >= SLOT_MIN_SHARE * max(learned.comparisons, 1)


def judge(
    old: Side, new: Side, diff: Diff, learned: Learned, order_matters: bool = False
) -> Verdict:
    """Take out of `diff` what is volatile by what was learned, and what only moved."""
    suppressed: list[tuple[str, str]] = []
    cmp = _compare(old, new, diff, order_matters)
    suppressed += [("moved", old.blocks[i]) for i in sorted(cmp.gone)]
    suppressed += [("moved", new.blocks[j]) for j in sorted(cmp.came)]
    hunks: list[Hunk] = []
    cross = [(i, j) for i, j, p in cmp.cross if host_volatile(learned, f"swap:{p}")]
    swapped = ({i for i, _ in cross}, {j for _, j in cross})
    # Blocks added or removed where most pages of the site add or remove some (a growing
    # comment list, a feed of latest items): a new paragraph on one page in ten is not that.
    swapped[0].update(i for i in cmp.lone_old if host_volatile(learned, f"grow:{old.path(i)}"))
    swapped[1].update(j for j in cmp.lone_new if host_volatile(learned, f"grow:{new.path(j)}"))
    for r in cmp.regions:
        before, after = _judge_region(old, new, r, learned, suppressed, swapped)
        if before or after:
            b = tuple(old.blocks[i] for i in before)
            a = tuple(new.blocks[j] for j in after)
            op = "replace" if b and a else ("delete" if b else "insert")
            words = pair_words(b, a) if op == "replace" else ()
            at_b = before[0] if before else r.hunk.at_before
            at_a = after[0] if after else r.hunk.at_after
            hunks.append(Hunk(op, b, a, words, at_b, at_a))
    return Verdict(Diff(tuple(hunks)), tuple(suppressed))


def _judge_region(
    old: Side,
    new: Side,
    r: _Region,
    learned: Learned,
    suppressed: list[tuple[str, str]],
    swapped: tuple[set[int], set[int]],
) -> tuple[list[int], list[int]]:
    """The indices of a region's blocks that stay in the diff; the rest go to `suppressed`."""
    rotating = [(i, j) for i, j, s in _same_shape(old, new, r) if host_volatile(learned, s)]
    rotating += [(i, j) for i, j, p in _swaps(old, new, r) if host_volatile(learned, f"swap:{p}")]
    rotated = ({i for i, _ in rotating} | swapped[0], {j for _, j in rotating} | swapped[1])
    matched = _matched(old, new, r)
    kept: tuple[list[int], list[int]] = ([], [])
    for k, (side, indices) in enumerate(((old, r.old), (new, r.new))):
        for index in indices:
            path = side.path(index)
            why = None
            if index in rotated[k]:
                why = "changes like this on most pages of the site"
            elif host_volatile(learned, path):
                why = f"template churn across the site ({path})"
            elif index in matched[k] and slot_volatile(learned, f"{path}|{r.anchor}"):
                why = "learned volatile: replaced on most checks"
            if why:
                suppressed.append((why, side.blocks[index]))
            else:
                kept[k].append(index)
    return kept
