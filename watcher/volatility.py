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
from typing import NamedTuple

from watcher.diff import PAIR_RATIO, regroup, similarity
from watcher.models import Diff, Hunk
from watcher.normalise import facts, mask

SLOT_MIN_REPLACED = 2  # a slot is volatile once replaced this many times ...
SLOT_MIN_SHARE = 0.5  # ... in at least this share of the source's comparisons
HOST_MIN_PAGES = 4.0  # template churn needs this many pages of a host observed ...
HOST_MIN_SHARE = 0.5  # ... with the path turning over on at least this share of them
GROW_SHARE = 2 / 3  # blocks added or removed: a higher bar (see `grows`)
TURNOVER = 0.5  # a path "turns over" on a page when this share of its blocks changed
DECAY = 0.95  # host evidence fades, so a redesigned template is relearned
WORD = re.compile(r"[a-z]+")
# Below this share of words kept, a replacement is a swap of unrelated text, not an edit: the
# share at which the diff stops showing word marks. A reworded sentence keeps more (0.4 to 0.9),
# an amount or a date changed in a sentence far more (0.9 and up).
SWAP_SIMILARITY = PAIR_RATIO
CROSS_REACH = 4  # how far apart (in blocks) a deletion and an addition may be to pair as a swap
# Slot memory: the texts a page held, kept for this many comparisons and at most this many
# entries per source; the site's rotation memory keeps this many texts per host.
MEMORY_SPAN = 50
MEMORY_SIZE = 256
SITE_TEXTS = 4096
# A page counts toward "most pages swap this element" for this many comparisons after it last
# swapped it: an A/B test flips a given page only on some checks, but flips most pages soon.
SWAP_RECENT = 4
BOILERPLATE = 1e6  # a text's "came" count once it came to most pages of a site in one pass


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
    turnover: Mapping[str, float]  # element path -> share of its blocks that changed
    present_shapes: frozenset[str] = frozenset()  # shapes of the new version's blocks
    replaced_shapes: frozenset[str] = frozenset()  # shapes replaced by a block of the same shape
    # Paths where a block was replaced by unrelated text, and where one was only added or removed.
    swapped_paths: frozenset[str] = frozenset()
    grown_paths: frozenset[str] = frozenset()
    # Texts ("path|digest" of the masked block) that came into the page and that left it, each
    # with the slot it sat in: what slot memory and the site's rotation memory are built from.
    came: tuple[tuple[str, str], ...] = ()
    went: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Learned:
    """What is known before judging a comparison."""

    comparisons: int = 0
    # slot -> times replaced; "held:path|digest" -> the comparison a text last sat on the page;
    # "alt:slot" -> the comparison a slot was last seen alternating among wordings it held before
    slots: Mapping[str, float] = field(default_factory=dict)
    host: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # path -> (seen, churned)
    returned: frozenset[str] = frozenset()  # texts this comparison brought back: held before


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


def text_key(side: Side, i: int) -> str:
    """A block's element path and the digest of its masked text: what slot and site memory hold."""
    return f"{side.path(i)}|{_digest(mask(side.blocks[i]))}"


def observe(old: Side, new: Side, diff: Diff, order_matters: bool = False) -> Observation:
    """Which slots were replaced, which shapes rotated, and how much each element path turned over."""
    replaced: set[str] = set()
    changed: Counter[str] = Counter()
    replaced_shapes: set[str] = set()
    swapped: set[str] = set()
    came: list[tuple[str, str]] = []
    went: list[tuple[str, str]] = []
    cmp = _compare(old, new, diff, order_matters)
    for r in cmp.regions:
        replaced_shapes.update(s for _, _, s in _same_shape(old, new, r))
        swapped.update(p for _, _, p in _swaps(old, new, r))
        for i in r.old:
            changed[old.path(i)] += 1
            went.append((text_key(old, i), f"{old.path(i)}|{r.anchor}"))
        for j in r.new:
            changed[new.path(j)] += 1
            came.append((text_key(new, j), f"{new.path(j)}|{r.anchor}"))
        if r.old and r.new:
            replaced.update(f"{old.path(i)}|{r.anchor}" for i in r.old)
            replaced.update(f"{new.path(j)}|{r.anchor}" for j in r.new)
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
        turnover,
        frozenset(present),
        frozenset(replaced_shapes),
        frozenset(swapped),
        frozenset(grown),
        tuple(came),
        tuple(went),
    )


def learn(learned: Learned, obs: Observation, weight: int = 1) -> Learned:
    """Fold one comparison of this source into what is known of it: slots replaced, the texts
    each slot has held, and the slots that went back to a text they held before."""
    slots = dict(learned.slots)
    for key in obs.replaced_slots:
        slots[key] = slots.get(key, 0.0) + weight
    comparisons = learned.comparisons + (1 if weight == 1 else 0)
    returned = set()
    for text, slot in obs.came:
        # A text the page held before and lost, now back: the slot alternates among wordings.
        if f"held:{text}" in slots:
            returned.add(text)
            slots[f"alt:{slot}"] = float(comparisons)
    for text, _ in (*obs.came, *obs.went):
        slots[f"held:{text}"] = float(comparisons)
    for path in obs.swapped_paths:
        slots[f"swapped:{path}"] = float(comparisons)
    _bound_memory(slots, comparisons)
    return Learned(comparisons, slots, learned.host, frozenset(returned))


MEMORY_KEYS = ("held:", "alt:", "swapped:")


def is_memory(key: str) -> bool:
    """Whether a source's learned key is slot memory, not a slot's replacement count."""
    return key.startswith(MEMORY_KEYS)


def _bound_memory(slots: dict[str, float], comparisons: int) -> None:
    """Keep slot memory bounded: texts and alternations older than MEMORY_SPAN comparisons, and
    beyond MEMORY_SIZE entries the oldest, are forgotten."""
    memory = [k for k in slots if is_memory(k)]
    for key in memory:
        if slots[key] < comparisons - MEMORY_SPAN:
            del slots[key]
    memory = [k for k in memory if k in slots]
    if len(memory) > MEMORY_SIZE:
        for key in sorted(memory, key=lambda k: slots[k])[: len(memory) - MEMORY_SIZE]:
            del slots[key]


class Page(NamedTuple):
    """One comparison of a pass, with what its source knew before it."""

    observation: Observation
    memory: Mapping[str, float] = {}  # the source's slot memory
    comparisons: int = 0

    def swapped_recently(self, path: str) -> bool:
        if path in self.observation.swapped_paths:
            return True
        last = self.memory.get(f"swapped:{path}")
        return last is not None and last >= self.comparisons - SWAP_RECENT


def host_fold(
    host: Mapping[str, tuple[float, float]],
    pages: Sequence[Page],
    quiet: int = 0,
) -> dict[str, tuple[float, float]]:
    """Fold one pass over a site into its template evidence.

    `pages` are the comparisons the pass made, each with its source's slot memory from before
    it; `quiet` counts the pages checked whose text did not change. Shares are taken over every
    page checked, quiet ones included: a paragraph added on one page in ten is not template
    churn because the other nine did not change at all. A pass in which no page changed is not
    folded: between two updates of a site, a daemon's polls see nothing either way.
    """
    out = dict(host)
    if not pages:
        # Nothing on the site changed: such a pass says nothing of what changes together.
        return out
    seen: Counter[str] = Counter()
    churned: Counter[str] = Counter()
    rotated = {k for page in pages for k in page.observation.replaced_shapes}
    for page in pages:
        obs = page.observation
        for path, share in obs.turnover.items():
            seen[path] += 1
            churned[path] += share >= TURNOVER
            seen[f"swap:{path}"] += 1
            churned[f"swap:{path}"] += page.swapped_recently(path)
            seen[f"grow:{path}"] += 1
            churned[f"grow:{path}"] += path in obs.grown_paths
        for key in obs.present_shapes:
            # Shapes are followed from the first time one is replaced: a site's every paragraph
            # would otherwise be a row.
            if key in out or key in rotated:
                seen[key] += 1
                churned[key] += key in obs.replaced_shapes
    if quiet:
        for key in {*seen, *(k for k in out if not k.startswith("text:"))}:
            seen[key] += quiet
    for key, n in seen.items():
        was_seen, was_churned = out.get(key, (0.0, 0.0))
        fade = DECAY**n
        out[key] = (was_seen * fade + n, was_churned * fade + churned[key])
    _fold_texts(out, pages, len(pages) + quiet)
    return out


def _fold_texts(
    out: dict[str, tuple[float, float]], pages: Sequence[Page], pages_checked: int
) -> None:
    """Count, per text, the pages it came to and the pages it left (once per page: a text a page
    held before does not count again), so a wording that rotates across a site is known."""
    came: Counter[str] = Counter()
    went: Counter[str] = Counter()
    for obs, memory, _ in pages:
        came.update({t for t, _ in obs.came if f"held:{t}" not in memory})
        went.update({t for t, _ in obs.went if f"held:{t}" not in memory})
    most = max(HOST_MIN_PAGES, HOST_MIN_SHARE * pages_checked)
    for text in came.keys() | went.keys():
        was_came, was_went = out.get(f"text:{text}", (0.0, 0.0))
        out[f"text:{text}"] = (was_came + came[text], was_went + went[text])
        if max(came[text], went[text]) >= most:
            # Rolled out to, or taken off, most pages of the site at once.
            out[f"text:{text}"] = (max(out[f"text:{text}"][0], BOILERPLATE), out[f"text:{text}"][1])
    texts = [k for k in out if k.startswith("text:")]
    if len(texts) > SITE_TEXTS:
        # Texts seen on the fewest pages go first: a rotating wording is seen on many.
        for key in sorted(texts, key=lambda k: sum(out[k]))[: len(texts) - SITE_TEXTS]:
            del out[key]


def host_volatile(learned: Learned, key: str) -> bool:
    """Whether a site path or block shape turns over on most pages of its host."""
    seen, churned = learned.host.get(key, (0.0, 0.0))
    return seen >= HOST_MIN_PAGES and churned / seen >= HOST_MIN_SHARE


def grows(learned: Learned, path: str) -> bool:
    """Whether blocks are added or removed in an element on two pages of the site in three or
    more: growth is held to a higher share than other churn, since a new paragraph is the most
    common real edit of all."""
    seen, churned = learned.host.get(f"grow:{path}", (0.0, 0.0))
    return seen >= HOST_MIN_PAGES and churned / seen >= GROW_SHARE


def site_known(learned: Learned, text: str, departing: bool = False) -> bool:
    """Whether a text is furniture the site moves through its pages: it came to some pages
    and left others in the same element, or, swapped out for unrelated text, it has left at
    least two pages."""
    came, went = learned.host.get(f"text:{text}", (0.0, 0.0))
    return (came >= 1 and went >= 1) or (departing and went >= 2)


def boilerplate(learned: Learned, text: str) -> bool:
    """Whether a text once came to, or left, most pages of the site in one pass: the site's
    own furniture (a strapline, a notice), not news on any one page."""
    return learned.host.get(f"text:{text}", (0.0, 0.0))[0] >= BOILERPLATE


def slot_volatile(learned: Learned, key: str) -> bool:
    """Whether a slot of one source was replaced on most of its checks, or alternates."""
    if f"alt:{key}" in learned.slots:
        return True
    count = learned.slots.get(key, 0.0)
    return count >= SLOT_MIN_REPLACED and count >= SLOT_MIN_SHARE * max(learned.comparisons, 1)


def moved_facts(old: Side, new: Side) -> frozenset[str]:
    """The amounts and dates whose count on the page differs between two versions."""
    before = Counter(f for b in old.blocks for f in facts(b))
    after = Counter(f for b in new.blocks for f in facts(b))
    return frozenset(f for f in before.keys() | after.keys() if before[f] != after[f])


def judge(
    old: Side, new: Side, diff: Diff, learned: Learned, order_matters: bool = False
) -> Verdict:
    """Take out of `diff` what is volatile by what was learned, and what only moved.

    No learned rule, of the source or of its site, takes out a block that adds, drops or
    changes an amount or a date on the page: those are what a reader watches for. The one
    exception is a text seen to rotate across the site's pages, the same words on each.
    """
    suppressed: list[tuple[str, str]] = []
    cmp = _compare(old, new, diff, order_matters)
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
    cmp: _Comparison

    def guarded(self, side: Side, index: int) -> bool:
        return not self.facts.isdisjoint(facts(side.blocks[index]))


def _judge_region(
    ctx: _Context, r: _Region, suppressed: list[tuple[str, str]]
) -> tuple[list[int], list[int]]:
    """The indices of a region's blocks that stay in the diff; the rest go to `suppressed`."""
    old, new, learned = ctx.old, ctx.new, ctx.learned
    rotating = [(i, j) for i, j, s in _same_shape(old, new, r) if host_volatile(learned, s)]
    rotating += [(i, j) for i, j, p in _swaps(old, new, r) if host_volatile(learned, f"swap:{p}")]
    rotating += [(i, j) for i, j, p in ctx.cmp.cross if host_volatile(learned, f"swap:{p}")]
    # A text the page held before, come back to its slot: an alternating wording.
    rotating += [(i, j) for i, j in r.pairs if text_key(new, j) in learned.returned]
    swaps = [
        (i, j) for i, j in r.pairs if similarity(old.blocks[i], new.blocks[j]) < SWAP_SIMILARITY
    ]
    swaps += [(i, j) for i, j, _ in ctx.cmp.cross]
    # Unrelated text swapped with a text that rotates across the site's pages: the slot is part
    # of the rotation, so its other side is furniture too (when it moves no amount or date).
    rotating += [
        (i, j)
        for i, j in swaps
        if site_known(learned, text_key(old, i)) or site_known(learned, text_key(new, j))
    ]
    rotated = ({i for i, _ in rotating}, {j for _, j in rotating})
    counterparts = ({i for i, _ in r.pairs}, {j for _, j in r.pairs})
    swapped = ({i for i, _ in swaps}, {j for _, j in swaps})
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


def _why(
    ctx: _Context, r: _Region, k: int, side: Side, index: int, rotated: set[int]
) -> str | None:
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


def _paired(r: _Region, k: int) -> set[int]:
    return {pair[k] for pair in r.pairs}
