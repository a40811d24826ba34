"""Learning which parts of a page change by nature, and judging a diff against it. Pure.

Two kinds of evidence, both about *where* text changes, never about what it says:

- **Slots of one source** (`slots`). A slot is a block's element path plus the stable block
  before it (its anchor). A slot whose text is replaced on most checks (a rotating "related"
  list, an advert, a quote of the day) is volatile for that source. The first check of a source
  is followed by a second fetch; anything that differs between the two is volatile at once.
- **Template paths of one site** (`site`). An element path (e.g. ``main/article/section.related/ul/li``)
  whose blocks turn over on most pages of a host in the same pass is template churn; pages of
  one site share their templates, so this is learned from the first pass.

A diff is compared once (`compare`: moved blocks set aside, replaced blocks paired); what it
teaches is observed from that comparison, and the same comparison is judged (`judge`). Moved
blocks are not changes (unless a source says order matters). A slot is never learned volatile
when the change at hand alters a money amount or a date: those are what matter.
"""

from __future__ import annotations

from watcher.volatility.comparison import (
    CROSS_REACH,
    SWAP_SIMILARITY,
    Comparison,
    Region,
    Side,
    anchor,
    compare,
    moved,
    shape,
    side,
    text_key,
)
from watcher.volatility.site import (
    BOILERPLATE,
    DECAY,
    GROW_SHARE,
    HOST_MIN_PAGES,
    HOST_MIN_SHARE,
    SITE_TEXTS,
    SWAP_RECENT,
    TURNOVER,
    Page,
    boilerplate,
    grows,
    host_fold,
    host_volatile,
    site_known,
)
from watcher.volatility.slots import (
    MEMORY_KEYS,
    MEMORY_SIZE,
    MEMORY_SPAN,
    SLOT_MIN_REPLACED,
    SLOT_MIN_SHARE,
    Learned,
    Observation,
    is_memory,
    learn,
    observe,
    slot_volatile,
)
from watcher.volatility.verdict import Verdict, judge, moved_facts

__all__ = [
    "BOILERPLATE",
    "CROSS_REACH",
    "DECAY",
    "GROW_SHARE",
    "HOST_MIN_PAGES",
    "HOST_MIN_SHARE",
    "MEMORY_KEYS",
    "MEMORY_SIZE",
    "MEMORY_SPAN",
    "SITE_TEXTS",
    "SLOT_MIN_REPLACED",
    "SLOT_MIN_SHARE",
    "SWAP_RECENT",
    "SWAP_SIMILARITY",
    "TURNOVER",
    "Comparison",
    "Learned",
    "Observation",
    "Page",
    "Region",
    "Side",
    "Verdict",
    "anchor",
    "boilerplate",
    "compare",
    "grows",
    "host_fold",
    "host_volatile",
    "is_memory",
    "judge",
    "learn",
    "moved",
    "moved_facts",
    "observe",
    "shape",
    "side",
    "site_known",
    "slot_volatile",
    "text_key",
]
