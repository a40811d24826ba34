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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from watcher.diff import pair_words
from watcher.models import Diff, Hunk
from watcher.normalise import facts, mask

SLOT_MIN_REPLACED = 2  # a slot is volatile once replaced this many times ...
SLOT_MIN_SHARE = 0.5  # ... in at least this share of the source's comparisons
HOST_MIN_PAGES = 8.0  # template churn needs this many pages of a host observed ...
HOST_MIN_SHARE = 0.5  # ... with the path turning over on at least this share of them
TURNOVER = 0.5  # a path "turns over" on a page when this share of its blocks changed
DECAY = 0.95  # host evidence fades, so a redesigned template is relearned


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


def slot(side: Side, index: int, at: int) -> str:
    """The slot of block `index` of a hunk starting at `at`: its path and its anchor."""
    anchor = mask(side.blocks[at - 1]) if at > 0 else "^"
    return f"{side.path(index)}|{_digest(anchor)}"


def moved_out(diff: Diff, key: Callable[[str], str] = mask) -> Diff:
    """The diff without blocks that were only moved: removed in one place, added back in another."""
    removed = Counter(key(line) for h in diff.hunks for line in h.before)
    added = Counter(key(line) for h in diff.hunks for line in h.after)
    moved = removed & added
    if not moved:
        return diff
    take_before, take_after = Counter(moved), Counter(moved)
    hunks = []
    for h in diff.hunks:
        before = tuple(line for line in h.before if not _take(take_before, key(line)))
        after = tuple(line for line in h.after if not _take(take_after, key(line)))
        rebuilt = _rebuild(h, before, after)
        if rebuilt:
            hunks.append(rebuilt)
    return Diff(tuple(hunks))


def _take(budget: Counter[str], k: str) -> bool:
    if budget[k] > 0:
        budget[k] -= 1
        return True
    return False


def _rebuild(h: Hunk, before: tuple[str, ...], after: tuple[str, ...]) -> Hunk | None:
    if not before and not after:
        return None
    if before and after:
        return Hunk("replace", before, after, pair_words(before, after), h.at_before, h.at_after)
    return Hunk("delete" if before else "insert", before, after, (), h.at_before, h.at_after)


def observe(old: Side, new: Side, diff: Diff) -> Observation:
    """Which slots were replaced and how much each element path turned over."""
    replaced: set[str] = set()
    guarded: set[str] = set()
    changed: Counter[str] = Counter()
    for h in diff.hunks:
        for k in range(len(h.before)):
            changed[old.path(h.at_before + k)] += 1
        for k in range(len(h.after)):
            changed[new.path(h.at_after + k)] += 1
        if h.before and h.after:
            key = slot(new, h.at_after, h.at_after)
            replaced.add(key)
            if _moves_facts(h.before, h.after):
                guarded.add(key)
    sizes_old = Counter(old.path(i) for i in range(len(old.blocks)))
    sizes_new = Counter(new.path(i) for i in range(len(new.blocks)))
    turnover = {}
    for path in set(sizes_old) | set(sizes_new):
        size = max(sizes_old[path], sizes_new[path])
        turnover[path] = min(1.0, changed[path] / (2 * size)) if size else 0.0
    return Observation(frozenset(replaced), frozenset(guarded), turnover)


def _moves_facts(before: Sequence[str], after: Sequence[str]) -> bool:
    return Counter(f for b in before for f in facts(b)) != Counter(
        f for a in after for f in facts(a)
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
    """Fold one page's turnover into a host's template evidence."""
    out = dict(host)
    for path, share in obs.turnover.items():
        seen, churned = out.get(path, (0.0, 0.0))
        out[path] = (seen * DECAY + 1.0, churned * DECAY + (1.0 if share >= TURNOVER else 0.0))
    return out


def _host_volatile(learned: Learned, path: str) -> bool:
    seen, churned = learned.host.get(path, (0.0, 0.0))
    return seen >= HOST_MIN_PAGES and churned / seen >= HOST_MIN_SHARE


def _slot_volatile(learned: Learned, key: str) -> bool:
    count = learned.slots.get(key, 0.0)
    return count >= SLOT_MIN_REPLACED and count >= SLOT_MIN_SHARE * max(learned.comparisons, 1)


def judge(
    old: Side, new: Side, diff: Diff, learned: Learned, order_matters: bool = False
) -> Verdict:
    """Take out of `diff` what is volatile by what was learned, and what only moved."""
    suppressed: list[tuple[str, str]] = []
    hunks: list[Hunk] = []
    for h in diff.hunks:
        key = slot(new, h.at_after, h.at_after)
        guarded = _moves_facts(h.before, h.after)
        slot_noise = bool(h.before and h.after) and not guarded and _slot_volatile(learned, key)
        before = []
        for k, line in enumerate(h.before):
            path = old.path(h.at_before + k)
            reason = _reason(learned, path, slot_noise)
            if reason:
                suppressed.append((reason, line))
            else:
                before.append(line)
        after = []
        for k, line in enumerate(h.after):
            path = new.path(h.at_after + k)
            reason = _reason(learned, path, slot_noise)
            if reason:
                suppressed.append((reason, line))
            else:
                after.append(line)
        rebuilt = _rebuild(h, tuple(before), tuple(after))
        if rebuilt:
            hunks.append(rebuilt)
    kept = Diff(tuple(hunks))
    if not order_matters:
        unmoved = moved_out(kept)
        if unmoved != kept:
            left = Counter(line for hh in unmoved.hunks for line in (*hh.before, *hh.after))
            for hh in kept.hunks:
                for line in (*hh.before, *hh.after):
                    if left[line] > 0:
                        left[line] -= 1
                    else:
                        suppressed.append(("moved", line))
            kept = unmoved
    return Verdict(kept, tuple(suppressed))


def _reason(learned: Learned, path: str, slot_noise: bool) -> str | None:
    if _host_volatile(learned, path):
        return f"template churn across the site ({path})"
    if slot_noise:
        return "learned volatile: replaced on most checks"
    return None
