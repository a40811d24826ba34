"""The `pdf` kind: a PDF document's text, paragraph by paragraph, each marked with its page.

pypdf reads the text layer (PDF-CHOICE.md for issue 16: on real government reports it extracts
the same words as pdfminer.six, keeps paragraphs whole around pull-quotes, is about 2-5 times
faster and brings no compiled dependencies). Text is NFKC-normalised (ligatures such as "ﬁ"
become "fi") and words hyphenated across a line break are joined, so the same words compare
equal however a version was typeset. A scanned PDF with no text layer is an error, not an empty
document: watcher cannot OCR it.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
from collections.abc import Callable

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from watcher.errors import ExtractError
from watcher.kinds.base import Kind
from watcher.models import Extracted, Fetched, Source

log = logging.getLogger("watcher.kinds.pdf")

MAX_PAGES = 300  # a longer document is read to here, and its blocks say so
TIME_BUDGET = 30.0  # seconds of extraction before the check fails (a hostile or huge PDF)
# The page a block came from, at its start: "[p. 3] ". Text that moves to another page changes
# only this mark; the comparison masks it (watcher.normalise), so a moved paragraph is not news.
PAGE_MARK = re.compile(r"^\[p\. \d{1,5}\] ")
# A line that is only a page number ("6", "Page 6", "6 of 28"): it says nothing about the text.
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?$", re.I)
# A word broken across a line: a letter, a hyphen (ASCII, U+2010 or soft) at the line's end.
_HYPHENATED = re.compile(r"[^\W\d_][-\u2010\u00ad]$")
_SPACES = re.compile(r"\s+")
_TOOL_TITLE = re.compile(r"^Microsoft \w+ - |\.(?:docx?|odt|pdf|pptx?|rtf)$", re.I)
# A line shorter than this share of the page's longest line ends its paragraph: the last line of
# a paragraph, a heading, a list item. Lines of running text fill the column.
_SHORT_LINE = 0.7


class Pdf(Kind):
    """A PDF document: its text paragraph by paragraph, each marked with its page ("[p. 3] ...").

    Ligatures are normalised and hyphenated line breaks joined. At most 300 pages are read; a
    scanned PDF with no text layer, an encrypted or a broken PDF fails the check with an error
    that says so.
    """

    __kind__ = "pdf"

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        return read_pdf(fetched.body, name=fetched.final_url or fetched.url)


def read_pdf(
    body: bytes,
    name: str = "the PDF",
    *,
    max_pages: int = MAX_PAGES,
    budget: float = TIME_BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> Extracted:
    """The blocks of a PDF: paragraphs marked "[p. N] ", paths "pdf/pN"."""
    reader = _open(body, name)
    total = _page_count(reader, name)
    started = clock()
    blocks: list[str] = []
    paths: list[str] = []
    images = 0
    for index in range(min(total, max_pages)):
        if clock() - started > budget:
            raise ExtractError(
                "too_slow",
                f"{name}: reading its text took over {budget:g}s by page {index + 1} of {total}; "
                "watcher stopped (a very large or malformed PDF)",
            )
        page_text, page_images = _page(reader, index, name)
        images += page_images
        for paragraph in paragraphs(page_text):
            blocks.append(f"[p. {index + 1}] {paragraph}")
            paths.append(f"pdf/p{index + 1}")
    if not blocks:
        raise ExtractError(
            "no_text",
            f"{name}: a scanned PDF with no text layer ({total} page{'s' if total != 1 else ''}"
            f"{' of images' if images else ''}); watcher cannot read it — watch the page that "
            "links it instead",
        )
    if total > max_pages:
        blocks.append(f"[watcher read the first {max_pages} of {total} pages: the page limit]")
        paths.append("pdf/limit")
    return Extracted(title=_title(reader, blocks), blocks=tuple(blocks), paths=tuple(paths))


def paragraphs(text: str) -> list[str]:
    """One page's extracted text as paragraphs: NFKC, hyphenation joined, page numbers dropped."""
    lines = [_SPACES.sub(" ", line).strip() for line in normalise(text).splitlines()]
    while lines and (not lines[0] or _PAGE_NUMBER.match(lines[0])):
        lines.pop(0)
    while lines and (not lines[-1] or _PAGE_NUMBER.match(lines[-1])):
        lines.pop()
    widest = max((len(line) for line in lines), default=0)
    out: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                out.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif _HYPHENATED.search(current) and line[:1].islower():
            current = current[:-1] + line  # "regu-" + "lation" is one word
        else:
            current = f"{current} {line}"
        if len(line) < _SHORT_LINE * widest and not _HYPHENATED.search(line):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def normalise(text: str) -> str:
    """NFKC (ligatures, non-breaking spaces, compatibility forms) without control characters."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def _open(body: bytes, name: str) -> PdfReader:
    if not body.lstrip()[:5].startswith(b"%PDF"):
        raise ExtractError("not_pdf", f"{name} is not a PDF (it does not start with %PDF)")
    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("a password is needed")
    except FileNotDecryptedError:
        raise _encrypted(name) from None
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise ExtractError(
            "broken_pdf", f"{name} is a broken PDF that cannot be read ({exc})"
        ) from None
    except NotImplementedError:  # an encryption scheme pypdf cannot open without a password
        raise _encrypted(name) from None
    return reader


def _encrypted(name: str) -> ExtractError:
    return ExtractError(
        "encrypted",
        f"{name} is an encrypted PDF that needs a password; watcher cannot read it — watch the "
        "page that links it instead",
    )


def _page_count(reader: PdfReader, name: str) -> int:
    try:
        return len(reader.pages)
    except FileNotDecryptedError:
        raise _encrypted(name) from None
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise ExtractError("broken_pdf", f"{name} is a broken PDF (its page tree: {exc})") from None


def _page(reader: PdfReader, index: int, name: str) -> tuple[str, int]:
    """A page's text and its number of images (to tell a scan from an empty page)."""
    try:
        page = reader.pages[index]
        text = page.extract_text() or ""
    except FileNotDecryptedError:
        raise _encrypted(name) from None
    except Exception as exc:
        # A PDF is untrusted input and pypdf raises many kinds of error on malformed ones: any of
        # them fails this check with the page named, never the pass.
        log.warning("pdf page %d unreadable", index + 1, exc_info=True, extra={"source": name})
        raise ExtractError(
            "broken_pdf",
            f"{name}: page {index + 1} cannot be read ({type(exc).__name__}: {exc})",
        ) from None
    if text.strip():
        return text, 0
    return "", _images(page)


def _images(page: object) -> int:
    resources = getattr(page, "get", lambda key: None)("/Resources")
    try:
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        return len(xobjects.get_object()) if xobjects is not None else 0
    except (PyPdfError, AttributeError, TypeError, ValueError, KeyError):
        return 0  # only the error message's wording depends on it


def _title(reader: PdfReader, blocks: list[str]) -> str:
    try:
        stated = (reader.metadata.title or "") if reader.metadata else ""
    except (PyPdfError, ValueError, KeyError, TypeError):
        stated = ""
    stated = _SPACES.sub(" ", normalise(str(stated))).strip()
    if _TOOL_TITLE.search(stated) or " " not in stated:
        stated = ""  # "Microsoft Word - report361.docx" names a file, not the document
    return stated[:200] or PAGE_MARK.sub("", blocks[0])[:200]
