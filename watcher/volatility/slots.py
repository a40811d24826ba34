"""What one comparison teaches, and the slots of one source learned from it. Pure.

A slot is a block's element path plus the stable block before it (its anchor). A slot whose text
is replaced on most checks (a rotating "related" list, an advert, a quote of the day) is volatile
for that source; so is one that goes back to a wording it held before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from watcher.volatility.comparison import Comparison, same_shape, shape, swaps, text_key

SLOT_MIN_REPLACED = 2  # a slot is volatile once replaced this many times ...
SLOT_MIN_SHARE = 0.5  # ... in at least this share of the source's comparisons
# Slot memory: the texts a page held, kept for this many comparisons and at most this many
# entries per source.
MEMORY_SPAN = 50
MEMORY_SIZE = 256
MEMORY_KEYS = ("held:", "alt:", "swapped:")


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


def observe(cmp: Comparison) -> Observation:
    """Which slots were replaced, which shapes rotated, and how much each element path turned over."""
    old, new = cmp.old, cmp.new
    replaced: set[str] = set()
    changed: Counter[str] = Counter()
    replaced_shapes: set[str] = set()
    swapped: set[str] = set()
    came: list[tuple[str, str]] = []
    went: list[tuple[str, str]] = []
    for r in cmp.regions:
        replaced_shapes.update(s for _, _, s in same_shape(cmp, r))
        swapped.update(p for _, _, p in swaps(cmp, r))
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


def slot_volatile(learned: Learned, key: str) -> bool:
    """Whether a slot of one source was replaced on most of its checks, or alternates."""
    if f"alt:{key}" in learned.slots:
        return True
    count = learned.slots.get(key, 0.0)
    return count >= SLOT_MIN_REPLACED and count >= SLOT_MIN_SHARE * max(learned.comparisons, 1)
