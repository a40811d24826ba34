"""What a site's pages teach together: template paths, block shapes and texts that turn over
on most pages of a host in the same pass. Pure.

Pages of one site share their templates, so an element path (e.g. ``main/article/section.related/ul/li``)
whose blocks turn over on most pages checked in a pass is template churn, learned from the first
pass. Shares are taken over every page checked, quiet ones included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from watcher.volatility.slots import Learned, Observation

HOST_MIN_PAGES = 4.0  # template churn needs this many pages of a host observed ...
HOST_MIN_SHARE = 0.5  # ... with the path turning over on at least this share of them
GROW_SHARE = 2 / 3  # blocks added or removed: a higher bar (see `grows`)
TURNOVER = 0.5  # a path "turns over" on a page when this share of its blocks changed
DECAY = 0.95  # host evidence fades, so a redesigned template is relearned
SITE_TEXTS = 4096  # the site's rotation memory keeps this many texts per host
# A page counts toward "most pages swap this element" for this many comparisons after it last
# swapped it: an A/B test flips a given page only on some checks, but flips most pages soon.
SWAP_RECENT = 4
BOILERPLATE = 1e6  # a text's "came" count once it came to most pages of a site in one pass


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
