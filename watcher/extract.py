"""HTML to blocks of readable text, one line per heading, paragraph or list item. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag

from watcher.errors import ExtractError
from watcher.models import Extracted

# Never page content: code, chrome, and controls.
DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "nav", "header", "footer", "aside", "form", "button", "select", "input", "textarea",
    "dialog", "head", "link", "meta",
})
DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
# Cookie and consent banners carry no role of their own; they are known by their names.
BANNER_RE = re.compile(r"(^|[-_\s])(cookie|cookies|consent|gdpr|cc-banner|cookiebanner)([-_\s]|$)", re.I)
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol",
    "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "blockquote", "pre",
    "figure", "figcaption", "caption", "details", "summary", "address", "hr", "body", "html",
    "fieldset", "legend",
})
CELL_TAGS = frozenset({"td", "th"})
HEADING_LEVEL = {f"h{n}": n for n in range(1, 7)}
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
SPACES = re.compile(r"\s+")


def normalise_line(text: str) -> str:
    """NFC, invisible characters out, every run of whitespace (NBSP included) to one space."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return SPACES.sub(" ", text).strip()


def _is_banner(tag: Tag) -> bool:
    names = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
    return bool(names.strip()) and bool(BANNER_RE.search(names))


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _should_drop(tag: Tag) -> bool:
    if tag.name in DROP_TAGS:
        return True
    if str(tag.get("role") or "").lower() in DROP_ROLES:
        return True
    return _is_hidden(tag) or _is_banner(tag)


class _Blocks:
    """Collects inline text into lines, breaking at block boundaries."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._buf: list[str] = []
        self._prefix = ""

    def text(self, s: str) -> None:
        self._buf.append(s)

    def flush(self) -> None:
        line = normalise_line("".join(self._buf))
        self._buf = []
        if line:
            self.lines.append(self._prefix + line)

    def start(self, prefix: str) -> str:
        self.flush()
        previous, self._prefix = self._prefix, prefix
        return previous

    def end(self, previous: str) -> None:
        self.flush()
        self._prefix = previous


def _walk(node: Tag, out: _Blocks) -> None:
    for child in node.children:
        if isinstance(child, Comment | Doctype | ProcessingInstruction):
            continue
        if isinstance(child, NavigableString):
            out.text(str(child))
            continue
        if not isinstance(child, Tag) or _should_drop(child):
            continue
        name = child.name
        if name == "br":
            out.flush()
        elif name in HEADING_LEVEL:
            previous = out.start("#" * HEADING_LEVEL[name] + " ")
            _walk(child, out)
            out.end(previous)
        elif name == "li":
            previous = out.start("- ")
            _walk(child, out)
            out.end(previous)
        elif name in CELL_TAGS:
            out.text(" | " if out._buf else "")
            _walk(child, out)
        elif name in BLOCK_TAGS:
            previous = out.start(out._prefix if name not in ("ul", "ol") else "")
            _walk(child, out)
            out.end(previous)
        else:
            _walk(child, out)


def _title(soup: BeautifulSoup) -> str:
    if soup.title and soup.title.string:
        return normalise_line(soup.title.string)
    h1 = soup.find("h1")
    return normalise_line(h1.get_text(" ")) if isinstance(h1, Tag) else ""


def _roots(soup: BeautifulSoup, select: Iterable[str]) -> list[Tag]:
    selectors = list(select)
    if not selectors:
        return [soup.body or soup]
    found: list[Tag] = []
    for sel in selectors:
        found.extend(t for t in soup.select(sel) if t not in found)
    # An element inside another selected element would otherwise be read twice.
    return [t for t in found if not any(p in found for p in t.parents)]


def extract(html: str, select: Iterable[str] = (), exclude: Iterable[str] = ()) -> Extracted:
    """Readable blocks of `html`. `select` limits it to matching regions; `exclude` removes regions."""
    soup = BeautifulSoup(html, "lxml")
    title = _title(soup)
    for sel in exclude:
        for tag in soup.select(sel):
            tag.decompose()
    roots = _roots(soup, select)
    if not roots:
        raise ExtractError("select", f"select {', '.join(select)!r} matched nothing on the page; "
                                     "check the selector against the page or remove it")
    out = _Blocks()
    for root in roots:
        _walk(root, out)
        out.flush()
    lines = tuple(out.lines)
    if not lines:
        raise ExtractError("empty", "the page has no readable text (empty or script-only)")
    return Extracted(title=title, blocks=lines)


def extract_text(text: str) -> Extracted:
    """Plain-text documents: one block per non-empty line."""
    lines = tuple(line for line in (normalise_line(raw) for raw in text.splitlines()) if line)
    if not lines:
        raise ExtractError("empty", "the document is empty")
    return Extracted(title=lines[0][:200], blocks=lines)
