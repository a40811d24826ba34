"""The `listing` kind: an HTML page whose links are the point, read as the publications it links."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from urllib.parse import urldefrag, urlsplit

from bs4 import BeautifulSoup, Tag

from watcher import patterns
from watcher.errors import ExtractError
from watcher.extract import MAX_ELEMENTS, count_elements, normalise_line
from watcher.extract.regions import content_holders, drop_reason, main_region, region_roots
from watcher.extract.regions import signature as element_signature
from watcher.kinds.base import Kind
from watcher.kinds.items import absolute, iso_utc, listed
from watcher.models import Extracted, Fetched, Item, Source

SECTIONING = frozenset({"article", "main"})
# Where a listing's links sit: a list item, an article card, a heading, a table row.
ITEM_TAGS = frozenset({"li", "article", "h2", "h3", "h4", "tr", "dt", "dd"})
NOT_PUBLICATIONS = re.compile(
    r"^(?:read more|more|continue reading|see all|view all|show more|load more|next|previous|"
    r"prev|older|newer|first|last|back to top|skip to (?:main )?content|\d+|[«»‹›<>←→]+.*|"
    r".*[«»‹›←→]+)$",
    re.I,
)
SKIPPED_RELS = frozenset({"next", "prev", "nofollow", "tag", "author", "bookmark"})


def _stated_date(text: str) -> str:
    """The first full date written in `text` (2018-01-31, 31 January 2018, January 31, 2018),
    ISO; "" when there is none."""
    for pattern in (patterns.DATE_ISO, patterns.DATE_DMY, patterns.DATE_MDY):
        for found in pattern.finditer(text):
            if not found.group("year"):
                continue
            month = found.group("month")
            number = int(month) if month.isdigit() else patterns.MONTHS[month.lower()]
            try:
                return date(int(found.group("year")), number, int(found.group("day"))).isoformat()
            except ValueError:
                continue
    return ""


def _date_in(item: Tag) -> str:
    """A date stated in the item: a <time> element's datetime, else one written in its text."""
    when = item.find("time")
    if isinstance(when, Tag):
        stated = iso_utc(str(when.get("datetime") or "")) or _stated_date(when.get_text(" "))
        if stated:
            return stated
    return _stated_date(item.get_text(" "))


def _strip_furniture(root: Tag, holders: set[int]) -> None:
    """Remove navigation, pagination, forms, hidden and boilerplate elements under `root`, by
    the same rules `page` reads a region with."""
    for tag in root.find_all(True):
        if tag.decomposed:
            continue
        in_section = any(p.name in SECTIONING for p in tag.parents)
        if drop_reason(tag, holders, in_section) is not None:
            tag.decompose()


def _path(link: Tag, root: Tag) -> tuple[str, ...]:
    """The elements from `root` down to `link`: links in one listing share it. Containers are
    named with their classes (two lists apart), items by their tag alone (odd/even and
    first/last classes on list items do not split a listing)."""
    names = [p.name if p.name in ITEM_TAGS else element_signature(p) for p in _below(link, root)]
    return tuple(reversed(names))


def _title(link: Tag) -> str:
    text = normalise_line(link.get_text(" "))
    return text or normalise_line(str(link.get("title") or link.get("aria-label") or ""))


def _candidates(root: Tag, page: str) -> list[tuple[Tag, str]]:
    """Links that may name a publication: http(s), not this page or a fragment of it, not a
    "read more", pagination or rel=next control, inside a listing element."""
    found: list[tuple[Tag, str]] = []
    here = urldefrag(page)[0]
    for link in root.find_all("a", href=True):
        href = str(link["href"]).strip()
        if not href or href.startswith("#"):
            continue
        url = absolute(href, page)
        rels = set(link.get("rel") or ())
        text = _title(link)
        # No text: an image or icon link, beside the titled link to the same page.
        if not url or url == here or rels & SKIPPED_RELS or not text:
            continue
        if NOT_PUBLICATIONS.match(text):
            continue
        found.append((link, url))
    # Links in list items, cards, headings or rows when there are any; else every link left.
    in_items = [pair for pair in found if any(p.name in ITEM_TAGS for p in _below(pair[0], root))]
    return in_items or found


def _below(tag: Tag, root: Tag) -> list[Tag]:
    """`tag`'s ancestors under `root`, nearest first."""
    out: list[Tag] = []
    for parent in tag.parents:
        if parent is root:
            break
        out.append(parent)
    return out


def _listing(root: Tag, page: str) -> list[tuple[Tag, str]]:
    """The page's listing: the largest group of candidate links sharing one element path, kept
    on the page's own host unless most of them go elsewhere."""
    links = _candidates(root, page)
    if not links:
        return []
    paths = [_path(link, root) for link, _ in links]
    sizes = Counter(paths)
    text = Counter[tuple[str, ...]]()
    for (link, _), path in zip(links, paths, strict=True):
        text[path] += len(_title(link))
    # The most links; between equals, the longer texts (titles, not "tag" or "PDF" links).
    common = max(sizes, key=lambda path: (sizes[path], text[path]))
    size = sizes[common]
    chosen = [pair for pair, path in zip(links, paths, strict=True) if path == common or size < 2]
    host = _site(page)
    local = [(link, url) for link, url in chosen if _site(url) == host]
    return local if len(local) * 2 >= len(chosen) else chosen


def _site(url: str) -> str:
    """The URL's host without "www.": example.org and www.example.org are one site."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _cards(links: list[tuple[Tag, str]], root: Tag) -> list[Tag]:
    """For each listing link, the largest element around it holding no other listing link (its
    card, where a date beside it is written): one walk up from each link."""
    holding: Counter[int] = Counter()
    for link, _ in links:
        holding.update(id(p) for p in _below(link, root))
    cards: list[Tag] = []
    for link, _ in links:
        card = link
        for parent in _below(link, root):
            if holding[id(parent)] > 1:
                break
            card = parent
        cards.append(card)
    return cards


class Listing(Kind):
    """An HTML page whose links are the point (latest publications, a news index): each new link is a new publication.

    The listing is the repeated pattern of links in the page's main region (or in `select`):
    links in list items, cards, headings or table rows that share one place in the page.
    Navigation, pagination, "read more" duplicates, mail and script links, fragments and, unless
    most links go there, other sites are left out. A date stated beside a link is read with it.
    """

    __kind__ = "listing"
    lists = True

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        page = fetched.final_url or fetched.url
        if count_elements(fetched.text, MAX_ELEMENTS) > MAX_ELEMENTS:
            raise ExtractError(
                "too_many_nodes",
                f"the page has over {MAX_ELEMENTS:,} elements, more than watcher parses; "
                "narrow it with select or watch a smaller page",
            )
        soup = BeautifulSoup(fetched.text, "lxml")
        heading = soup.title.string if soup.title and soup.title.string else ""
        title = normalise_line(heading) or source.name
        roots = region_roots(soup, source.select) if source.select else [main_region(soup)]
        if not roots:
            raise ExtractError(
                "select",
                f"select {', '.join(source.select)!r} matched nothing on the page; "
                "check the selector against the page or remove it",
            )
        holders = content_holders(soup)
        items: list[Item] = []
        for root in roots:
            _strip_furniture(root, holders)
            links = _listing(root, page)
            for (link, url), card in zip(links, _cards(links, root), strict=True):
                items.append(Item(url=url, title=_title(link), updated=_date_in(card)))
        return listed(title, items, "links")
