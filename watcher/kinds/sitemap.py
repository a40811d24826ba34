"""The `sitemap` kind: an XML sitemap, read as the URLs it lists under a path prefix."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from watcher.errors import ExtractError
from watcher.kinds.base import Kind
from watcher.kinds.items import absolute, iso_utc, listed
from watcher.models import Extracted, Fetched, Item, Source

DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
# Entities are never expanded, no DTD is loaded and nothing is fetched; `huge_tree` stays off so
# libxml2's own depth and size limits hold. A sitemap has no use for a DTD, so one is refused.
PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse(body: bytes, where: str) -> etree._Element:
    """The sitemap's root element; `ExtractError` for XML that does not parse or declares a DTD
    (entity declarations are how billion-laughs and external-entity documents work)."""
    if DECLARATION.search(body):
        raise _unsafe(where)
    try:
        tree = etree.ElementTree(etree.fromstring(body, PARSER))
    except etree.XMLSyntaxError as exc:
        raise ExtractError(
            "sitemap", f"{where} is not well-formed XML ({exc}); check it is the sitemap itself"
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _unsafe(where)  # declared in an encoding the byte check cannot see
    return tree.getroot()


def _unsafe(where: str) -> ExtractError:
    return ExtractError(
        "unsafe_xml",
        f"{where} declares a DTD or entities, which no sitemap needs and watcher does not read "
        "(they could expand or reach outside); ask the site for a plain sitemap",
    )


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _entries(root: etree._Element, name: str) -> list[tuple[str, str]]:
    """(loc, lastmod) of each `name` child (url or sitemap), any namespace or none."""
    found: list[tuple[str, str]] = []
    for entry in root:
        if _local(entry.tag) != name:
            continue
        loc = lastmod = ""
        for field in entry:
            if _local(field.tag) == "loc":
                loc = (field.text or "").strip()
            elif _local(field.tag) == "lastmod":
                lastmod = (field.text or "").strip()
        if loc:
            found.append((loc, lastmod))
    return found


def under(url: str, prefix: str) -> bool:
    """Whether `url`'s path starts with `prefix` (every URL when there is no prefix)."""
    return not prefix or urlsplit(url).path.startswith(prefix)


class Sitemap(Kind):
    """An XML sitemap: each URL (under `prefix`, when given) is a publication; new or updated URLs are news.

    A `<urlset>` is read as its URLs with their `lastmod` dates, in the sitemap's order (the
    first 500 under the prefix). A sitemap index is refused with the child sitemaps named, so
    the source can point at the one that lists the pages. DTDs and entities are refused.
    """

    __kind__ = "sitemap"
    lists = True

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        base = fetched.final_url or fetched.url
        root = parse(fetched.body, base)
        name = _local(root.tag)
        if name == "sitemapindex":
            children = [absolute(loc, base) for loc, _ in _entries(root, "sitemap")]
            shown = ", ".join(c for c in children[:5] if c)
            more = f" and {len(children) - 5} more" if len(children) > 5 else ""
            raise ExtractError(
                "sitemap_index",
                f"{base} is a sitemap index of {len(children)} sitemaps ({shown}{more}); "
                "set the source's url to the child sitemap that lists the pages to watch",
            )
        if name != "urlset":
            raise ExtractError(
                "sitemap",
                f"{base} is XML but not a sitemap (its root is <{name}>, not <urlset>); "
                "check the URL points at the sitemap",
            )
        items = (
            Item(url=url, updated=iso_utc(lastmod))
            for url, lastmod in (
                (absolute(loc, base), lastmod) for loc, lastmod in _entries(root, "url")
            )
            if url and under(url, source.prefix)
        )
        return listed(source.name, items, "URLs")
