"""The page as an lxml tree, and one pass over it that finds what extraction needs. Pure.

lxml builds the tree in C, about twenty times faster than BeautifulSoup builds its own from the
same parser's events; the tree is the same one (libxml2 decides it in both cases). Text is read
the way BeautifulSoup's `get_text` reads it, so titles and explanations stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from watcher.extract.regions import CONTENT_TAGS

# An lxml element (lxml ships no type hints; its elements are typed loosely here on purpose).
Element = Any
Skip = frozenset[Element] | set[Element]

# BeautifulSoup gives strings inside these elements their own types, and an element's get_text
# reads only strings of its own type: a paragraph's text leaves out a <script> or <rt> inside it,
# and a <template>'s text is only what it holds itself.
RESOURCE_LIMIT = etree.ErrorTypes.ERR_RESOURCE_LIMIT
STRING_CONTAINERS = frozenset({"rt", "rp", "style", "script", "template"})


def parse(html: str) -> Element | None:
    """The root element of `html` (its <html>), or None when the page has no element at all."""
    if html[:1] == "\ufeff":  # as BeautifulSoup does: lxml would read a leading BOM as text
        html = html[1:]
    parser = etree.HTMLParser(recover=True)
    try:
        root = etree.fromstring(html, parser)
    except (ValueError, etree.XMLSyntaxError):  # an XML encoding declaration in a str; no element
        root = None
    if root is not None and not any(e.type == RESOURCE_LIMIT for e in parser.error_log):
        return root
    return _parse_by_events(html)


def _parse_by_events(html: str) -> Element | None:
    """The tree built from the parser's events, as BeautifulSoup builds its own: slower, but with
    no limit on depth (libxml2 stops building its own tree 256 elements deep, and drops the rest),
    and it takes the str as it is."""
    for data, encoding in ((html, None), (html.encode("utf8"), "utf8")):
        parser = etree.HTMLParser(recover=True, encoding=encoding, target=etree.TreeBuilder())
        try:
            parser.feed(data)
            return parser.close()
        except etree.XMLSyntaxError:  # nothing to parse: an empty or comment-only document
            return None
        except (UnicodeDecodeError, LookupError, etree.ParserError):
            continue  # BeautifulSoup, refused a str, hands lxml its UTF-8 bytes
    return None


@dataclass
class Scan:
    """What one pass over the tree finds: the first title, h1 and body, the candidate main regions,
    the content elements (main, article, h1), the meta tags and the JSON-LD scripts."""

    title: Element | None = None
    h1: Element | None = None
    body: Element | None = None
    regions: list[Element] = field(default_factory=list)
    content: list[Element] = field(default_factory=list)
    metas: list[Element] = field(default_factory=list)
    json_ld: list[Element] = field(default_factory=list)


def scan(root: Element) -> Scan:
    """One walk of the whole tree in document order (the old code walked it five times)."""
    found = Scan()
    for el in root.iter(etree.Element):
        name = el.tag
        if name in CONTENT_TAGS:
            found.content.append(el)
            if name == "h1":
                if found.h1 is None:
                    found.h1 = el
                if el.get("role") == "main":
                    found.regions.append(el)
            else:
                found.regions.append(el)
        elif name == "meta":
            found.metas.append(el)
        elif name == "script":
            if el.get("type") == "application/ld+json":
                found.json_ld.append(el)
        elif name == "title":
            if found.title is None:
                found.title = el
        elif name == "body":
            if found.body is None:
                found.body = el
        elif el.get("role") == "main":
            found.regions.append(el)
    return found


def content_holders(content: list[Element]) -> set[Element]:
    """The content elements and every element holding one (each ancestor marked once)."""
    marked: set[Element] = set()
    for el in content:
        marked.add(el)
        for parent in el.iterancestors():
            if parent in marked:
                break
            marked.add(parent)
    return marked


def _container(el: Element) -> str | None:
    """The innermost string container at or above `el`: the type its own text has in bs4."""
    while el is not None:
        if el.tag in STRING_CONTAINERS:
            return str(el.tag)
        el = el.getparent()
    return None


def strings(node: Element, skip: Skip = frozenset()) -> Iterator[str]:
    """The strings BeautifulSoup's `node.get_text()` joins, in order; elements in `skip` (removed
    by `exclude`) are left out but the text after them is not."""
    own = node.tag if node.tag in STRING_CONTAINERS else None
    # A stack of texts (with the element whose text or child's tail each is) and elements to open.
    stack: list[tuple[str, Element] | Element] = list(reversed(node))
    if node.text:
        stack.append((node.text, node))
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            text, holder = item
            if _container(holder) == own:
                yield text
            continue
        if item.tail:
            stack.append((item.tail, item.getparent()))
        if not isinstance(item.tag, str) or item in skip:  # a comment, or excluded: no text
            continue
        stack.extend(reversed(item))
        if item.text:
            stack.append((item.text, item))


def text_of(node: Element, separator: str = "", skip: Skip = frozenset()) -> str:
    """BeautifulSoup's `node.get_text(separator)`."""
    return separator.join(strings(node, skip))


def has_text(node: Element, skip: Skip = frozenset()) -> bool:
    """BeautifulSoup's `bool(node.get_text(strip=True))`."""
    return any(s.strip() for s in strings(node, skip))


def string_of(node: Element) -> str | None:
    """BeautifulSoup's `node.string`: the text of an element holding one string (or one element
    holding one string, and so on), else None."""
    while True:
        children = list(node)
        if node.text:
            return node.text if not children else None
        if len(children) != 1:
            return None
        child = children[0]
        if child.tail:
            return None
        if not isinstance(child.tag, str):
            return str(child.text or "") if child.tag is etree.Comment else None  # bs4 gives it
        node = child
