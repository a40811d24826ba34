"""The `feed` kind: an RSS or Atom feed, read as the publications it lists."""

from __future__ import annotations

import io
import time
from typing import Any

import feedparser
from bs4 import BeautifulSoup

from watcher.errors import ExtractError
from watcher.kinds.base import Kind
from watcher.kinds.items import absolute, clip, listed
from watcher.models import Extracted, Fetched, Item, Source


def _text(html: str) -> str:
    """Markup out, one line: feedparser hands summaries (and some titles) over as HTML."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    return " ".join(BeautifulSoup(html, "lxml").get_text(" ").split())


def _when(entry: Any) -> str:
    """The entry's updated (else published) time, ISO in UTC; feedparser gives it in UTC."""
    # Asked for by presence: `.get("updated_parsed")` falls back to the published date itself,
    # with a deprecation warning.
    updated = [entry["updated_parsed"]] if "updated_parsed" in entry else []
    stamp = (updated or [None])[0] or entry.get("published_parsed")
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp) if stamp else ""


def _item(entry: Any, base: str) -> Item:
    link = str(entry.get("link") or "")
    if not link:  # an Atom entry may carry its URL only as its id
        ident = str(entry.get("id") or "")
        link = ident if ident.startswith(("http://", "https://")) else ""
    return Item(
        url=absolute(link, base) if link else "",
        title=_text(str(entry.get("title") or "")),
        updated=_when(entry),
        summary=clip(_text(str(entry.get("summary") or ""))),
    )


class Feed(Kind):
    """An RSS or Atom feed: each entry is a publication; a new entry is news, an updated one a change.

    RSS 2.0, RSS 1.0 and Atom are read with feedparser. Each entry becomes one line (title, link
    and its updated or published date), so an entry updated in place shows as a changed line.
    A feed with small errors is read as far as it parses; the first 500 entries are read.
    """

    __kind__ = "feed"
    lists = True

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        base = fetched.final_url or fetched.url
        # A stream, never the body itself: feedparser opens a string as a URL or a file path.
        parsed = feedparser.parse(
            io.BytesIO(fetched.body),
            response_headers={
                "content-location": base,
                "content-type": fetched.content_type or "application/xml",
            },
        )
        items = [_item(e, base) for e in parsed.get("entries") or []]
        if not any(i.url for i in items) and (parsed.get("bozo") or not parsed.get("version")):
            # No entry with a link, and a parse error or no feed format recognised (an HTML
            # page): an empty but well-formed feed is read as no publications instead.
            problem = " ".join(str(parsed.get("bozo_exception") or "no RSS or Atom found").split())
            raise ExtractError(
                "feed",
                f"{base} is not a feed watcher can read ({problem}); "
                "check the URL points at the RSS or Atom feed itself",
            )
        title = _text(str(parsed.get("feed", {}).get("title") or "")) or source.name
        return listed(title, items, "entries")
