"""The walk from a page region to blocks of text: one line per heading, paragraph, list item or
table row, each with the path of element kinds above it. Pure."""

from __future__ import annotations

import re
import unicodedata

from bs4 import Comment, Doctype, ProcessingInstruction, Tag
from bs4.element import NavigableString, PageElement

from tests.reference_extract.regions import drop_reason, signature

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
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
SPACES = re.compile(r"\s+")


def normalise_line(text: str) -> str:
    """NFC, invisible characters out, every run of whitespace (NBSP included) to one space."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return SPACES.sub(" ", text).strip()


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


def walk(node: Tag, out: Blocks, holders: set[int], ignored: list[tuple[str, str]] | None) -> None:
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
        reason = drop_reason(child, holders, sections > 0)
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
            stack.append(_End(out.start("#" * HEADING_LEVEL[name] + " ", signature(child))))
        elif name == "li":
            stack.append(_End(out.start("- ", signature(child))))
        elif name in CELL_TAGS:
            out.text(" | " if out.has_text() else "")
        elif name in BLOCK_TAGS:
            section = name in SECTIONING
            sections += section
            prefix = out._prefix if name not in ("ul", "ol") else ""
            stack.append(_End(out.start(prefix, signature(child)), section))
        stack.extend(reversed(child.contents))
