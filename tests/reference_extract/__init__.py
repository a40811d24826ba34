"""The extraction as it was before issue 17 (bs4 trees, two whole-tree scans), kept as the reference
the lxml extraction is proved identical to (tests/test_extract_equivalence.py, bench/extractors.py).

HTML to blocks of readable text, one line per heading, paragraph or list item. Pure.

`regions` finds the page's content and what to leave out, `blocks` walks it into lines, and
`metadata` reads what the publisher states about the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bs4 import BeautifulSoup, Tag

from tests.reference_extract.blocks import Blocks, normalise_line, walk
from tests.reference_extract.metadata import metadata
from tests.reference_extract.regions import content_holders, region_roots, signature
from watcher.errors import ExtractError
from watcher.models import Extracted

__all__ = [
    "MAX_ELEMENTS",
    "count_elements",
    "extract",
    "extract_text",
    "metadata",
    "normalise_line",
]

# A page with more elements than this is refused before it is parsed: parse trees cost about
# 1 KB per element, so 4.8 MB of tiny paragraphs once took 700 MB and 20 s. Real pages carry a
# few thousand. Counting `<` + letter over-counts (scripts, text), which only errs towards refusing.
MAX_ELEMENTS = 50_000
_ELEMENT_START = re.compile(r"<[A-Za-z]")


def _title(soup: BeautifulSoup) -> str:
    if soup.title and soup.title.string:
        return normalise_line(soup.title.string)
    h1 = soup.find("h1")
    return normalise_line(h1.get_text(" ")) if isinstance(h1, Tag) else ""


def count_elements(html: str, stop_after: int) -> int:
    """Element start tags in `html`, counted up to just past `stop_after` (cheap: no parse)."""
    count = 0
    for _ in _ELEMENT_START.finditer(html):
        count += 1
        if count > stop_after:
            break
    return count


def extract(
    html: str, select: Iterable[str] = (), exclude: Iterable[str] = (), explain: bool = False
) -> Extracted:
    """Readable blocks of `html`. `select` limits it to matching regions; `exclude` removes regions.

    Without `select`, the page's main region is read (its one <main> or <article>). With
    `explain`, the result also lists what was ignored and why.
    """
    select, exclude = tuple(select), tuple(exclude)
    elements = count_elements(html, MAX_ELEMENTS)
    if elements > MAX_ELEMENTS:
        raise ExtractError(
            "too_many_nodes",
            f"the page has over {MAX_ELEMENTS:,} elements, more than watcher parses; "
            "narrow it with select or watch a smaller page",
        )
    soup = BeautifulSoup(html, "lxml")
    title = _title(soup)
    stated = metadata(soup)
    ignored: list[tuple[str, str]] | None = [] if explain else None
    for sel in exclude:
        for tag in soup.select(sel):
            if ignored is not None:
                ignored.append((f"exclude {sel!r}", normalise_line(tag.get_text(" "))))
            tag.decompose()
    roots = region_roots(soup, select)
    if not roots:
        raise ExtractError(
            "select",
            f"select {', '.join(select)!r} matched nothing on the page; "
            "check the selector against the page or remove it",
        )
    out = Blocks()
    holders = content_holders(soup)
    for root in roots:
        base = signature(root)
        out._path = [base]
        walk(root, out, holders, ignored)
        out.flush()
        out._path = []
    lines = tuple(out.lines)
    if not lines:
        raise ExtractError("empty", "the page has no readable text (empty or script-only)")
    return Extracted(
        title=title,
        blocks=lines,
        paths=tuple(out.paths),
        ignored=tuple(ignored or ()),
        metadata=stated,
    )


def extract_text(text: str) -> Extracted:
    """Plain-text documents: one block per non-empty line."""
    lines = tuple(line for line in (normalise_line(raw) for raw in text.splitlines()) if line)
    if not lines:
        raise ExtractError("empty", "the document is empty")
    return Extracted(title=lines[0][:200], blocks=lines)
