"""HTML to blocks of readable text, one line per heading, paragraph or list item. Pure.

`tree` parses the page with lxml and finds in one pass what the rest needs, `regions` says what
is content and what to leave out, `blocks` walks the content into lines, `metadata` reads what the
publisher states about the page, and `selectors` matches a source's CSS selectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from watcher.errors import ExtractError
from watcher.extract.blocks import Blocks, normalise_line, outside_region, walk
from watcher.extract.metadata import metadata
from watcher.extract.regions import DROP_ROLES, DROP_TAGS, signature_of
from watcher.extract.selectors import Selected, apply_selectors
from watcher.extract.tree import (
    Element,
    Scan,
    Skip,
    content_holders,
    has_text,
    parse,
    scan,
    string_of,
    text_of,
)
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
MAX_LINKS = 300  # links kept per page (for stories: what it points at)
_ELEMENT_START = re.compile(r"<[A-Za-z]")


def _title(found: Scan) -> str:
    """The first <title>'s text when it holds one string, else the first <h1>'s."""
    if found.title is not None:
        title = string_of(found.title)
        if title:
            return normalise_line(title)
    return normalise_line(text_of(found.h1, " ")) if found.h1 is not None else ""


def _main_region(found: Scan, skip: Skip) -> Element | None:
    """The page's one <main> (or role=main), else its one <article>, else the body (None: the
    whole document)."""
    mains: list[Element] = []
    articles: list[Element] = []
    for el in found.regions:
        if skip and _inside(el, skip):
            continue
        (articles if el.tag == "article" and el.get("role") != "main" else mains).append(el)
    for candidates in (mains, articles):
        if len(candidates) == 1 and has_text(candidates[0], skip):
            return candidates[0]
    if found.body is not None and not (skip and _inside(found.body, skip)):
        return found.body
    return None


def _inside(el: Element, skip: Skip) -> bool:
    """Whether `el` or an element holding it was removed by `exclude`."""
    return el in skip or any(a in skip for a in el.iterancestors())


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
    root = parse(html)
    if root is None:  # no element at all
        if select:
            raise _matched_nothing(select)
        raise ExtractError("empty", "the page has no readable text (empty or script-only)")
    found = scan(root)
    title = _title(found)
    stated = metadata(found.metas, found.json_ld)
    chosen = (
        apply_selectors(html, root, select, exclude, explain) if select or exclude else Selected()
    )
    ignored: list[tuple[str, str]] | None = chosen.ignored if explain else None
    skip = chosen.removed
    content = [el for el in found.content if not _inside(el, skip)] if skip else found.content
    holders = content_holders(content)
    out = Blocks()
    read: list[Element] = []
    if select:
        if not chosen.roots:
            raise _matched_nothing(select)
        for region in chosen.roots:
            _read(region, out, holders, ignored, skip)
        read = list(chosen.roots)
    else:
        region = _main_region(found, skip)
        if region is None:  # no body: the whole document, as bs4 named it
            _read(root, out, holders, ignored, skip, whole=True)
        else:
            _read(region, out, holders, ignored, skip)
            if ignored is not None and found.body is not None and region is not found.body:
                outside_region(region, found.body, holders, ignored, skip)
        read = [root if region is None else region]
    lines = tuple(out.lines)
    if not lines:
        raise ExtractError("empty", "the page has no readable text (empty or script-only)")
    return Extracted(
        title=title,
        blocks=lines,
        paths=tuple(out.paths),
        ignored=tuple(ignored or ()),
        metadata=stated,
        links=_links(read, skip),
    )


def _links(regions: list[Element], skip: Skip) -> tuple[tuple[str, str], ...]:
    """(href, anchor text) of the links inside the regions read, outside chrome (nav, header,
    footer...) and excluded parts, at most MAX_LINKS: what the page points its reader at."""
    found: list[tuple[str, str]] = []
    for region in regions:
        for a in region.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
                continue
            if any(
                p.tag in DROP_TAGS or p.get("role") in DROP_ROLES or (skip and p in skip)
                for p in (a, *_up_to(a, region))
            ):
                continue
            found.append((href, normalise_line(text_of(a, " "))[:200]))
            if len(found) >= MAX_LINKS:
                return tuple(found)
    return tuple(found)


def _up_to(el: Element, region: Element) -> Iterable[Element]:
    for parent in el.iterancestors():
        if parent is region:
            return
        yield parent


def _read(
    region: Element,
    out: Blocks,
    holders: set[Element],
    ignored: list[tuple[str, str]] | None,
    skip: Skip,
    whole: bool = False,
) -> None:
    """Walk one region into `out`, its lines' paths starting with its signature."""
    out._path = ["[document]" if whole else signature_of(region.tag, region.attrib)]
    walk(region, out, holders, ignored, skip, whole)
    out.flush()
    out._path = []


def _matched_nothing(select: tuple[str, ...]) -> ExtractError:
    return ExtractError(
        "select",
        f"select {', '.join(select)!r} matched nothing on the page; "
        "check the selector against the page or remove it",
    )


def extract_text(text: str) -> Extracted:
    """Plain-text documents: one block per non-empty line."""
    lines = tuple(line for line in (normalise_line(raw) for raw in text.splitlines()) if line)
    if not lines:
        raise ExtractError("empty", "the document is empty")
    return Extracted(title=lines[0][:200], blocks=lines)
