"""A source's `select` and `exclude` CSS selectors, matched on the page. Pure.

Selectors keep soupsieve's meaning (the one `sources.toml` is validated with), so they are matched
on a BeautifulSoup tree of the same page, and each element matched is then found in the lxml tree
by its position: libxml2 built both trees, so they hold the same elements in the same places. Only
sources with selectors pay for the second tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from watcher.errors import ExtractError
from watcher.extract.blocks import normalise_line
from watcher.extract.regions import region_roots
from watcher.extract.tree import Element

if TYPE_CHECKING:  # loaded by the sources that have selectors, the only ones that need a bs4 tree
    from bs4 import BeautifulSoup, Tag


@dataclass
class Selected:
    """What the selectors chose: the regions to read (none: the main region) and the elements
    `exclude` removed, with what each removed when `explain` asks."""

    roots: list[Element] = field(default_factory=list)
    removed: set[Element] = field(default_factory=set)
    ignored: list[tuple[str, str]] = field(default_factory=list)


def _pair(soup: BeautifulSoup, root: Element) -> dict[int, Element]:
    """Each bs4 tag's lxml element (by the tag's id), found by walking both trees side by side."""
    from bs4 import Tag

    pairs: dict[int, Element] = {}
    tops = [t for t in soup.contents if isinstance(t, Tag)]
    stack: list[tuple[Tag, Element]] = [(tops[0], root)] if tops else []
    while stack:
        tag, el = stack.pop()
        if tag.name != el.tag:  # libxml2 builds both; a difference would be a bug to report
            raise ExtractError(
                "select",
                f"the page's <{tag.name}> was read as <{el.tag}>; remove select and exclude",
            )
        pairs[id(tag)] = el
        stack.extend(
            zip(
                [c for c in tag.contents if isinstance(c, Tag)],
                [c for c in el if isinstance(c.tag, str)],
                strict=False,
            )
        )
    return pairs


def apply_selectors(
    html: str, root: Element, select: Sequence[str], exclude: Sequence[str], explain: bool
) -> Selected:
    """Match `exclude` (in order, each on what the ones before left) and then `select`."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    pairs = _pair(soup, root)
    out = Selected()
    for sel in exclude:
        for tag in soup.select(sel):
            if explain:
                out.ignored.append((f"exclude {sel!r}", normalise_line(tag.get_text(" "))))
            out.removed.add(pairs[id(tag)])
            tag.decompose()
    if select:
        out.roots = [pairs[id(tag)] for tag in region_roots(soup, select)]
    return out
