"""The walk from a page region (an lxml element) to blocks of text: one line per heading,
paragraph, list item or table row, each with the path of element kinds above it. Pure."""

from __future__ import annotations

import re
import unicodedata

from watcher.extract.regions import drop_reason_of, signature_of
from watcher.extract.tree import Element, Skip, text_of

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
HEADING_LEVEL = {f"h{n}": n for n in range(1, 7)}
# Zero-width spaces and joiners, word joiner, BOM, soft hyphen: invisible, and never meant apart.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalise_line(text: str) -> str:
    """NFC, invisible characters out, every run of whitespace (NBSP included) to one space."""
    if not text.isascii():  # ASCII is NFC already and holds no invisible characters
        text = INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    # str.split() and re's \s agree on what is whitespace (Py_UNICODE_ISSPACE); split is faster.
    return " ".join(text.split())


class Blocks:
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
        if not self._buf:
            return
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


# Dropped elements whose text `explain` does not list: it is code or the page's head, not prose.
UNLISTED = frozenset({"script", "style", "head", "link", "meta"})


def walk(
    node: Element,
    out: Blocks,
    holders: set[Element],
    ignored: list[tuple[str, str]] | None,
    skip: Skip = frozenset(),
    whole: bool = False,
) -> None:
    """Read the children of `node` into `out` (with `whole`, the document `node` is the root of);
    elements in `skip` (removed by `exclude`) are passed over silently, and what the rules drop
    is listed in `ignored` when it is given."""
    # An explicit stack, not recursion: hostile pages nest elements thousands deep. It holds
    # elements to read, texts (an element's tail, read after the element) and block ends.
    stack: list[Element | str | _End]
    if whole:
        stack, sections = [node], 0
    else:
        stack = list(reversed(node))
        sections = int(any(a.tag in SECTIONING for a in (node, *node.iterancestors())))
        if node.text:
            out.text(node.text)
    while stack:
        child = stack.pop()
        if isinstance(child, str):
            out.text(child)
            continue
        if isinstance(child, _End):
            out.end(child.previous)
            sections -= child.section
            continue
        if child.tail:
            stack.append(child.tail)
        name = child.tag
        if type(name) is not str or (skip and child in skip):  # a comment, or excluded
            continue
        attrs = child.attrib
        reason = drop_reason_of(name, attrs, child in holders, sections > 0)
        if reason:
            if ignored is not None and name not in UNLISTED:
                text = normalise_line(text_of(child, " ", skip))
                if text:
                    ignored.append((reason, text))
            continue
        if name == "br":
            out.flush()
            continue
        if name in HEADING_LEVEL:
            stack.append(
                _End(out.start("#" * HEADING_LEVEL[name] + " ", signature_of(name, attrs)))
            )
        elif name == "li":
            stack.append(_End(out.start("- ", signature_of(name, attrs))))
        elif name in CELL_TAGS:
            out.text(" | " if out.has_text() else "")
        elif name in BLOCK_TAGS:
            section = name in SECTIONING
            sections += section
            prefix = out._prefix if name not in ("ul", "ol") else ""
            stack.append(_End(out.start(prefix, signature_of(name, attrs)), section))
        stack.extend(reversed(child))
        if child.text:
            out.text(child.text)


# At most this many parts outside the main region are listed: a page of a thousand links around
# its article would otherwise bury `explain`'s answer.
MAX_OUTSIDE = 40


def outside_region(
    region: Element,
    body: Element,
    holders: set[Element],
    ignored: list[tuple[str, str]],
    skip: Skip = frozenset(),
) -> None:
    """List in `ignored`, in page order, the parts of `body` around `region` (the <main> or
    <article> read): chrome with the rule that drops it (<nav>, cookie banner), other text as
    outside the region. A wrapper with no text of its own is opened, so its parts are named apart."""
    where = f"outside <{region.tag}>"
    path = set(region.iterancestors())
    stack = [c for c in reversed(body) if type(c.tag) is str]
    listed = 0
    while stack and listed < MAX_OUTSIDE:
        el = stack.pop()
        if el is region or el.tag in UNLISTED or (skip and el in skip):
            continue
        if el in path:  # a wrapper of the region: what sits beside it is outside
            stack.extend(c for c in reversed(el) if type(c.tag) is str)
            continue
        text = normalise_line(text_of(el, " ", skip))
        if not text:
            continue
        reason = drop_reason_of(el.tag, el.attrib, el in holders, False)
        if not reason and not (el.text or "").strip() and len(el):
            stack.extend(c for c in reversed(el) if type(c.tag) is str)
            continue
        ignored.append((f"{reason}, {where}" if reason else where, text))
        listed += 1
