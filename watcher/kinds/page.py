"""The `page` kind: a web page (HTML) or a plain-text document, read as blocks of text."""

from __future__ import annotations

from watcher.extract import extract, extract_text
from watcher.kinds.base import Kind, kind
from watcher.models import Extracted, Fetched, Source


class Page(Kind):
    """A web page: the readable text of its main region (or of `select`), one block a line.

    HTML is reduced to its main region's blocks, navigation, banners and boilerplate left out;
    `select` and `exclude` choose regions by CSS selector. A text/plain document is read one
    block per non-empty line.
    """

    __kind__ = "page"

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        if fetched.content_type == "application/pdf":  # a page that is a document
            return kind("pdf").read(fetched, source, explain=explain)
        if fetched.content_type == "text/plain":
            return extract_text(fetched.text)
        return extract(fetched.text, select=source.select, exclude=source.exclude, explain=explain)
