"""Which kind of source suits a fetched URL: a GOV.UK page or search, a feed, a sitemap, a page
that links a feed, a listing of links, or a plain page. Pure: it reads what egress fetched.

`watcher add` prints the choice, its reason and the alternatives, and writes the chosen one.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Comment, Tag
from bs4.element import PageElement

from watcher.extract import MAX_ELEMENTS, count_elements
from watcher.extract.blocks import normalise_line
from watcher.extract.regions import DROP_TAGS, main_region
from watcher.models import Fetched

DEFAULT_GOVUK_BASE = "https://www.gov.uk"
FEED_TYPES = {"application/rss+xml": "RSS", "application/atom+xml": "Atom"}
# A listing: at least this many links to the same site in list items, headings or articles...
LISTING_MIN_LINKS = 8
# ...whose items hold at least this share of the main region's text.
LISTING_MIN_SHARE = 0.5
ITEM_TAGS = ("li", "article", "h2", "h3")
NAME_LIMIT = 40
# GOV.UK's finders (/search/<finder>?...) and the Search API's names for their filters.
FINDER_SUPERGROUPS = {
    "news-and-communications": "news_and_communications",
    "guidance-and-regulation": "guidance_and_regulation",
    "policy-papers-and-consultations": "policy_and_engagement",
    "research-and-statistics": "research_and_statistics",
    "transparency-and-freedom-of-information-releases": "transparency",
    "services": "services",
}
FINDER_IGNORED = frozenset({"order", "page", "parent"})  # presentation, not the query
# The XML prolog: declaration, comments, processing instructions, a doctype; then the root.
XML_ROOT = re.compile(
    r"^\ufeff?\s*(?:(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)\s*)*"
    r"<([A-Za-z_][\w.:-]*)",
    re.S,
)
XML_TITLE = re.compile(r"<title(?:\s[^>]*)?>(.*?)</title\s*>", re.S | re.I)
CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
TITLE_SITE = re.compile(r"\s+[-|–—]\s+[^-|–—]{1,40}$")  # "Topic - GOV.UK", "News | A Charity"


@dataclass(frozen=True)
class Candidate:
    """A kind of source the URL could be watched as, and why."""

    kind: str
    url: str
    why: str


@dataclass(frozen=True)
class Discovery:
    """The best `[[source]]` for a fetched URL: its kind, URL, a name, the reason in one sentence,
    the other ways it could be watched, and (for a GOV.UK search) the query as Search API pairs."""

    kind: str
    url: str
    name: str
    why: str
    alternatives: tuple[Candidate, ...] = ()
    query: tuple[tuple[str, str], ...] = ()


def discover(
    fetched: Fetched, govuk_base: str = DEFAULT_GOVUK_BASE, taken: Collection[str] = ()
) -> Discovery:
    """The best kind of source for `fetched`, named uniquely against `taken`."""
    url = _without_fragment(fetched.final_url)
    parts = urlsplit(url)
    text = fetched.text
    root = _xml_root(text)
    # A page too big for the extractor to parse is watched as a page, which will say so.
    huge = count_elements(text, MAX_ELEMENTS) > MAX_ELEMENTS
    soup = None if root or huge else BeautifulSoup(text, "lxml")
    title = _xml_title(text) if root else _html_title(soup)
    page = Candidate("page", url, "the page's main text is compared on each check")

    def found(
        best: Candidate, *others: Candidate, query: tuple[tuple[str, str], ...] = ()
    ) -> Discovery:
        name = unique_name(slug(title) or slug_from_url(best.url), taken)
        return Discovery(best.kind, best.url, name, best.why, others, query)

    if _is_govuk(parts.netloc, govuk_base):
        query = finder_query(parts.path, parts.query)
        if query:
            return found(
                Candidate(
                    "govuk-search",
                    url,
                    "a GOV.UK finder search: each new result is a new publication",
                ),
                Candidate("govuk", url, "the search page itself, read through the Content API"),
                query=query,
            )
        return found(
            Candidate(
                "govuk",
                url,
                "a GOV.UK page: read through the Content API, with its document type, "
                "change notes and attachments",
            ),
            Candidate("page", url, "the page's HTML, without the Content API"),
        )
    if root in ("rss", "rdf", "feed") or fetched.content_type in FEED_TYPES:
        label = {"feed": "Atom", "rss": "RSS", "rdf": "RSS"}.get(root or "", "")
        label = label or FEED_TYPES[fetched.content_type]
        return found(Candidate("feed", url, f"an {label} feed: each new entry is a publication"))
    if root in ("urlset", "sitemapindex"):
        return found(
            Candidate("sitemap", url, "a sitemap: each new or updated URL is a publication")
        )
    if soup is None:
        return found(page)
    listing = listing_reason(soup, url)
    shape = Candidate("listing", url, listing) if listing else page
    feed = linked_feed(soup, url)
    if feed:
        feed_url, label = feed
        why = f"the page links its {label} feed, which names each new item as it is published"
        return found(Candidate("feed", feed_url, why), shape)
    return found(shape, page) if listing else found(page)


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _is_govuk(netloc: str, govuk_base: str) -> bool:
    hosts = {"www.gov.uk", urlsplit(govuk_base).netloc.lower()}
    return netloc.lower() in hosts


def finder_query(path: str, query: str) -> tuple[tuple[str, str], ...]:
    """A GOV.UK finder URL's filters as Search API pairs, or () when it is not a filtered search."""
    if not path.startswith("/search/"):
        return ()
    pairs: list[tuple[str, str]] = []
    finder = path.removeprefix("/search/").strip("/")
    if finder in FINDER_SUPERGROUPS:
        pairs.append(("filter_content_purpose_supergroup", FINDER_SUPERGROUPS[finder]))
    filters = 0
    for key, value in parse_qsl(query):
        key = key.removesuffix("[]")
        if key in FINDER_IGNORED or not value:
            continue
        filters += 1
        pairs.append(("q", value) if key == "keywords" else (f"filter_{key}", value))
    return tuple(pairs) if filters else ()


def _xml_root(text: str) -> str:
    """The local name of an XML document's root element, lower case; "" for HTML or text."""
    m = XML_ROOT.match(text[:4096])
    if not m:
        return ""
    name = m.group(1).rpartition(":")[2].lower()
    return "" if name == "html" else name


def _xml_title(text: str) -> str:
    m = XML_TITLE.search(text[:65536])
    return normalise_line(html.unescape(CDATA.sub(r"\1", m.group(1)))) if m else ""


def _html_title(soup: BeautifulSoup | None) -> str:
    if soup is None:
        return ""
    raw = soup.title.get_text(" ") if soup.title else ""
    if not raw.strip():
        h1 = soup.find("h1")
        raw = h1.get_text(" ") if isinstance(h1, Tag) else ""
    title = normalise_line(raw)
    return TITLE_SITE.sub("", title) or title  # the site's name after the page's


def linked_feed(soup: BeautifulSoup, url: str) -> tuple[str, str] | None:
    """The absolute URL and format of the first RSS or Atom feed the page links (comment feeds
    left out), or None."""
    for link in soup.find_all("link", href=True):
        rel = link.get("rel")
        rels = rel.split() if isinstance(rel, str) else list(rel or [])
        kind = FEED_TYPES.get(str(link.get("type") or "").split(";")[0].strip().lower())
        if "alternate" not in [r.lower() for r in rels] or not kind:
            continue
        if "comment" in str(link.get("title") or "").lower():
            continue
        return urljoin(url, str(link["href"]).strip()), kind
    return None


def listing_reason(soup: BeautifulSoup, url: str) -> str:
    """Why the page is a listing (its main region mostly a list of links to pages on the same
    site), or "" when it is not."""
    region = main_region(soup)
    host = _site(urlsplit(url).hostname or "")
    items: dict[int, Tag] = {}
    targets: set[str] = set()
    for link in region.find_all("a", href=True):
        if _dropped(link, region):
            continue
        target = urlsplit(urljoin(url, str(link["href"]).strip()))
        if target.scheme not in ("http", "https") or _site(target.hostname or "") != host:
            continue
        address = urlunsplit(target._replace(fragment=""))
        if address == url:
            continue
        item = _item(link, region)
        if item is None:
            continue
        items.setdefault(id(item), item)
        targets.add(address)
    if len(targets) < LISTING_MIN_LINKS:
        return ""
    total = _text_length(region)
    inside = sum(_text_length(item) for item in _outermost(items))
    if not total or inside / total < LISTING_MIN_SHARE:
        return ""
    return (
        f"a listing: {len(targets)} links to pages on the same site make up "
        f"{inside / total:.0%} of its main text, and a new link is a new publication"
    )


def _site(host: str) -> str:
    return host.lower().removeprefix("www.")


def _dropped(tag: Tag, region: Tag) -> bool:
    """Whether the element sits in chrome (nav, header, footer, aside...) inside the region."""
    return any(parent.name in DROP_TAGS for parent in _up_to(tag, region))


def _item(link: Tag, region: Tag) -> Tag | None:
    """The list item, article or heading a link belongs to, within the region."""
    for parent in link.parents:
        if parent is region:
            return None
        if parent.name in ITEM_TAGS:
            # A heading inside an item: the whole item (its date and summary) is the entry.
            if parent.name in ("h2", "h3"):
                outer = parent.find_parent(("li", "article"))
                if outer is not None and any(p is region for p in outer.parents):
                    return outer
            return parent
    return None


def _outermost(items: dict[int, Tag]) -> list[Tag]:
    return [t for t in items.values() if not any(id(p) in items for p in t.parents)]


def _text_length(tag: Tag) -> int:
    """Characters of readable text in `tag`: comments, scripts and chrome inside it left out."""
    total = 0
    for text in tag.find_all(string=True):
        if isinstance(text, Comment):
            continue
        if any(p.name in DROP_TAGS for p in _up_to(text, tag)):
            continue
        total += len(text.strip())
    return total


def _up_to(node: PageElement, top: Tag) -> Iterator[Tag]:
    """The node's ancestors below `top` (an ASP.NET page's wrapping <form> stays out of it)."""
    for parent in node.parents:
        if parent is top:
            return
        yield parent


def slug(text: str) -> str:
    """`text` as a source name: lower case a-z, 0-9 and hyphens, at most 40 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:NAME_LIMIT].rstrip("-")


def slug_from_url(url: str) -> str:
    """A name from the URL's path (its last meaningful segments), else from its host."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments:
        last = re.sub(r"\.(html?|xml|rss|atom|php|aspx?)$", "", segments[-1], flags=re.I)
        named = slug(" ".join([*segments[-2:-1], last])) if len(last) < 4 else slug(last)
        if named:
            return named
    return slug(_site(parts.hostname or "")) or "source"


def unique_name(name: str, taken: Collection[str]) -> str:
    """`name`, or `name-2`, `name-3`... the first not in `taken` (still at most 40 characters)."""
    name = name or "source"
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = name[: NAME_LIMIT - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1
