"""HTML to blocks of readable text, one line per heading, paragraph or list item. Pure."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

from bs4 import BeautifulSoup, Comment, Doctype, ProcessingInstruction, Tag
from bs4.element import NavigableString, PageElement

from watcher.errors import ExtractError
from watcher.models import Extracted

# A page with more elements than this is refused before it is parsed: parse trees cost about
# 1 KB per element, so 4.8 MB of tiny paragraphs once took 700 MB and 20 s. Real pages carry a
# few thousand. Counting `<` + letter over-counts (scripts, text), which only errs towards refusing.
MAX_ELEMENTS = 50_000
_ELEMENT_START = re.compile(r"<[A-Za-z]")

# Never page content: code, chrome, and controls.
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "canvas",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "input",
        "textarea",
        "dialog",
        "head",
        "link",
        "meta",
    }
)
DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
# Cookie and consent banners carry no role of their own; they are known by their names, which are
# as often camelCase (cookieNotice, CybotCookiebotDialog) as hyphenated (cookie-banner).
BANNER_RE = re.compile(r"cookie|consent|gdpr|cc-banner|cc-window", re.I)
# Chrome that some sites wrap around the whole page: ASP.NET WebForms puts everything in one
# <form>, and a "has-cookie-banner" wrapper is common. Such an element is kept (its own chrome
# still goes) when it holds the page's content.
WRAPPER_DROPS = frozenset({"form"})
CONTENT_TAGS = ("main", "article", "h1")
# A <header> inside an article or main is that article's header (its title and byline), not the
# site's banner; HTML-AAM maps only a top-level <header> to the banner landmark.
SECTIONING = frozenset({"article", "main"})
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "caption",
        "details",
        "summary",
        "address",
        "hr",
        "body",
        "html",
        "fieldset",
        "legend",
    }
)
CELL_TAGS = frozenset({"td", "th"})
# Class and id words that mark page furniture rather than the article, after readability's
# "unlikely candidates" and the ad-blocking lists' conventions. Whole words only: "ad" matches
# class="ad-slot" but not "heading". An element holding the page's content is never dropped.
BOILERPLATE_WORDS = frozenset(
    {
        "ad",
        "ads",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsbygoogle",
        "sponsor",
        "sponsored",
        "promo",
        "promoted",
        "related",
        "share",
        "sharing",
        "social",
        "newsletter",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "popular",
        "trending",
        "outbrain",
        "taboola",
        "widget",
        "sidebar",
        "comments",
        "disqus",
        "skiplink",
        "masthead",
        "signup",
    }
)
WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")
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


def _words(tag: Tag) -> set[str]:
    names = [str(tag.get("id") or ""), *(tag.get("class") or [])]
    return {w.lower() for name in names for w in WORD_SPLIT.split(name) if w}


def _signature(tag: Tag) -> str:
    """The element's kind and its class words, digits out: the same slot on every version."""
    words = sorted(w for w in (re.sub(r"\d+", "", w) for w in _words(tag)) if w)[:3]
    return tag.name + "".join("." + w for w in words)


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _content_holders(soup: BeautifulSoup) -> set[int]:
    """ids of main, article and h1 elements and of every element holding one (linear: each
    ancestor is marked once)."""
    marked: set[int] = set()
    for tag in soup.find_all(CONTENT_TAGS):
        marked.add(id(tag))
        for parent in tag.parents:
            if id(parent) in marked:
                break
            marked.add(id(parent))
    return marked


def _drop_reason(tag: Tag, holders: set[int], in_section: bool) -> str | None:
    """Why `tag` is not page content, or None when it is."""
    if tag.name == "header" and in_section:
        return "hidden" if _is_hidden(tag) else None
    if tag.name in WRAPPER_DROPS:
        return None if id(tag) in holders else f"<{tag.name}>"
    if tag.name in DROP_TAGS:
        return f"<{tag.name}>"
    role = str(tag.get("role") or "").lower()
    if role in DROP_ROLES:
        return f"role={role}"
    if _is_hidden(tag):
        return "hidden"
    if id(tag) in holders:
        return None
    if _is_banner(tag):
        return "cookie banner"
    furniture = _words(tag) & BOILERPLATE_WORDS
    if furniture:
        return f"page furniture ({', '.join(sorted(furniture))})"
    return None


class _Blocks:
    """Collects inline text into lines, breaking at block boundaries; each line keeps its path."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.paths: list[str] = []
        self._buf: list[str] = []
        self._prefix = ""
        self._path: list[str] = []

    def text(self, s: str) -> None:
        self._buf.append(s)

    def has_text(self) -> bool:
        """Whether the line being built holds anything visible yet."""
        return bool(normalise_line("".join(self._buf)))

    def flush(self) -> None:
        line = normalise_line("".join(self._buf))
        self._buf = []
        if line:
            self.lines.append(self._prefix + line)
            self.paths.append("/".join(self._path))

    def start(self, prefix: str, signature: str) -> str:
        self.flush()
        previous, self._prefix = self._prefix, prefix
        self._path.append(signature)
        return previous

    def end(self, previous: str) -> None:
        self.flush()
        self._prefix = previous
        self._path.pop()


class _End:
    """Marks the end of a block on the walk's stack: the prefix to restore, and whether the block
    was an article or main."""

    __slots__ = ("previous", "section")

    def __init__(self, previous: str, section: bool = False) -> None:
        self.previous = previous
        self.section = section


def _walk(
    node: Tag, out: _Blocks, holders: set[int], ignored: list[tuple[str, str]] | None
) -> None:
    # An explicit stack, not recursion: hostile pages nest elements thousands deep.
    stack: list[PageElement | _End] = list(reversed(node.contents))
    sections = int(any(t.name in SECTIONING for t in (node, *node.parents)))
    while stack:
        child = stack.pop()
        if isinstance(child, _End):
            out.end(child.previous)
            sections -= child.section
            continue
        if isinstance(child, Comment | Doctype | ProcessingInstruction):
            continue
        if isinstance(child, NavigableString):
            out.text(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        reason = _drop_reason(child, holders, sections > 0)
        if reason:
            if ignored is not None and child.name not in (
                "script",
                "style",
                "head",
                "link",
                "meta",
            ):
                text = normalise_line(child.get_text(" "))
                if text:
                    ignored.append((reason, text))
            continue
        name = child.name
        if name == "br":
            out.flush()
            continue
        if name in HEADING_LEVEL:
            stack.append(_End(out.start("#" * HEADING_LEVEL[name] + " ", _signature(child))))
        elif name == "li":
            stack.append(_End(out.start("- ", _signature(child))))
        elif name in CELL_TAGS:
            out.text(" | " if out.has_text() else "")
        elif name in BLOCK_TAGS:
            section = name in SECTIONING
            sections += section
            prefix = out._prefix if name not in ("ul", "ol") else ""
            stack.append(_End(out.start(prefix, _signature(child)), section))
        stack.extend(reversed(child.contents))


def _title(soup: BeautifulSoup) -> str:
    if soup.title and soup.title.string:
        return normalise_line(soup.title.string)
    h1 = soup.find("h1")
    return normalise_line(h1.get_text(" ")) if isinstance(h1, Tag) else ""


def _main_region(soup: BeautifulSoup) -> Tag:
    """The page's one <main> (or role=main), else its one <article>, else the body."""
    mains: list[Tag] = []
    articles: list[Tag] = []
    for tag in soup.find_all(_is_region):  # one walk of the tree, not three
        (articles if tag.name == "article" and tag.get("role") != "main" else mains).append(tag)
    for found in (mains, articles):
        if len(found) == 1 and found[0].get_text(strip=True):
            return found[0]
    body = soup.body
    return body if isinstance(body, Tag) else soup


def _is_region(tag: Tag) -> bool:
    return tag.name in ("main", "article") or tag.get("role") == "main"


def _roots(soup: BeautifulSoup, select: Iterable[str]) -> list[Tag]:
    selectors = list(select)
    if not selectors:
        return [_main_region(soup)]
    # By identity: bs4 compares tags by their markup, so two equal paragraphs would count as one.
    found: dict[int, Tag] = {}
    for sel in selectors:
        for tag in soup.select(sel):
            found.setdefault(id(tag), tag)
    # An element inside another selected element would otherwise be read twice.
    return [t for t in found.values() if not any(id(p) in found for p in t.parents)]


# What a publisher states about a page in its markup: GOV.UK's govuk:* meta tags (govuk:format is
# the document type), Open Graph's og:type, and schema.org JSON-LD @type.
STATED_PROPERTIES = frozenset({"og:type"})


def metadata(soup: BeautifulSoup) -> tuple[tuple[str, str], ...]:
    """The page's stated kind, as (key, value) pairs: govuk:*, og:type, schema:@type."""
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("name") or tag.get("property") or "").strip().lower()
        value = normalise_line(str(tag.get("content") or ""))[:200]
        if value and (key.startswith("govuk:") or key in STATED_PROPERTIES):
            found.setdefault(key, value)
    types: list[str] = []
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue  # a page's broken JSON-LD says nothing
        types += [t for t in _schema_types(data) if t not in types]
    if types:
        found["schema:@type"] = ",".join(types)
    return tuple(sorted(found.items()))


def _schema_types(data: object, depth: int = 0) -> list[str]:
    """@type values of a JSON-LD document, its @graph and top-level lists."""
    if depth > 3:
        return []
    if isinstance(data, list):
        return [t for item in data for t in _schema_types(item, depth + 1)]
    if not isinstance(data, dict):
        return []
    kind = data.get("@type")
    out = (
        [kind]
        if isinstance(kind, str)
        else [k for k in kind if isinstance(k, str)]
        if isinstance(kind, list)
        else []
    )
    return out + _schema_types(data.get("@graph"), depth + 1)


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
    roots = _roots(soup, select)
    if not roots:
        raise ExtractError(
            "select",
            f"select {', '.join(select)!r} matched nothing on the page; "
            "check the selector against the page or remove it",
        )
    out = _Blocks()
    holders = _content_holders(soup)
    for root in roots:
        base = _signature(root)
        out._path = [base]
        _walk(root, out, holders, ignored)
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
