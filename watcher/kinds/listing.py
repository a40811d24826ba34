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
    """The element signatures from `root` down to `link`: links in one listing share it."""
    names: list[str] = []
    for parent in link.parents:
        if parent is root:
            break
        names.append(element_signature(parent))
    return tuple(reversed(names))


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
        text = normalise_line(link.get_text(" "))
        if not url or url == here or rels & SKIPPED_RELS or NOT_PUBLICATIONS.match(text or "x"):
            continue
        if not any(p.name in ITEM_TAGS for p in link.parents if p is not root):
            continue
        found.append((link, url))
    return found


def _listing(root: Tag, page: str) -> list[tuple[Tag, str]]:
    """The page's listing: the largest group of candidate links sharing one element path, kept
    on the page's own host unless most of them go elsewhere."""
    links = _candidates(root, page)
    if not links:
        return []
    paths = [_path(link, root) for link, _ in links]
    common, size = Counter(paths).most_common(1)[0]
    chosen = [pair for pair, path in zip(links, paths, strict=True) if path == common or size < 2]
    host = urlsplit(page).hostname
    local = [(link, url) for link, url in chosen if urlsplit(url).hostname == host]
    return local if len(local) * 2 >= len(chosen) else chosen


def _item_element(link: Tag, root: Tag, group: set[int]) -> Tag:
    """The largest element around `link` holding no other link of the listing: its card."""
    item = link
    for parent in link.parents:
        if parent is root:
            break
        if sum(1 for a in parent.find_all("a") if id(a) in group) > 1:
            break
        item = parent
    return item


def _title(link: Tag) -> str:
    text = normalise_line(link.get_text(" "))
    return text or normalise_line(str(link.get("title") or link.get("aria-label") or ""))


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
            group = {id(link) for link, _ in links}
            for link, url in links:
                card = _item_element(link, root, group)
                items.append(Item(url=url, title=_title(link), updated=_date_in(card)))
        return listed(title, items, "links")
