"""Publications named by listing-style kinds: reading them into `Extracted`, and telling the new
and the updated ones apart. Pure.

An item's URL is its identity. Each listing kind gathers its items with `collect` (absolute URLs,
the first of each URL kept, at most `MAX_ITEMS`) and returns `listed(...)`, whose blocks are one
line per item with its date, so an entry updated in place still shows as a changed block.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from watcher.models import Extracted, Item

# A response naming more publications than this is read to this many, in its own order: a
# listing's news is at its top, and a 50,000-URL sitemap is not a reading list.
MAX_ITEMS = 500
MAX_SUMMARY = 500
ITEM_PATH = "item"


def absolute(url: str, base: str) -> str:
    """`url` resolved against `base` with any fragment dropped; "" unless it is http(s)."""
    resolved, _ = urldefrag(urljoin(base, url.strip()))
    return resolved if urlsplit(resolved).scheme in ("http", "https") else ""


def iso_utc(stated: str) -> str:
    """A stated date or time as ISO: a time in UTC ("2018-01-31T17:24:06Z"), a bare date as is
    ("2016-11-21"); "" when it is not ISO 8601."""
    text = stated.strip()
    if not text:
        return ""
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        when = datetime.fromisoformat(text)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # a time stated without a zone is taken as UTC
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clip(text: str, limit: int = MAX_SUMMARY) -> str:
    """`text` on one line, cut at a word to at most `limit` characters (with "…" when cut)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + "…"


def collect(items: Iterable[Item], limit: int = MAX_ITEMS) -> tuple[tuple[Item, ...], int]:
    """The items with a URL, the first of each URL kept, at most `limit`; and how many more
    distinct URLs the cap left out."""
    kept: dict[str, Item] = {}
    over: set[str] = set()
    for item in items:
        if not item.url or item.url in kept:
            continue
        if len(kept) < limit:
            kept[item.url] = item
        else:
            over.add(item.url)
    return tuple(kept.values()), len(over)


def block(item: Item) -> str:
    """The item's line: "Title — URL" (the URL alone when untitled), and " — date" when one is
    stated."""
    line = f"{item.title} — {item.url}" if item.title else item.url
    return f"{line} — {item.updated}" if item.updated else line


def listed(title: str, items: Iterable[Item], what: str) -> Extracted:
    """`Extracted` for a listing: its items in order, one block each. Past the cap, what was left
    out is said in `ignored` (always, not only when explaining); `what` names the items there
    ("entries", "URLs", ...)."""
    kept, over = collect(items)
    said = ((f"over the cap of {MAX_ITEMS} {what}", f"{over} more {what} not read"),)
    return Extracted(
        title=title,
        blocks=tuple(block(i) for i in kept),
        paths=(ITEM_PATH,) * len(kept),
        items=kept,
        ignored=said if over else (),
    )


def new_items(before: Sequence[Item], after: Sequence[Item], known: Collection[str]) -> list[Item]:
    """The items in `after` whose URL is neither in `before` nor in `known` (the URLs this source
    has named before), in `after`'s order. An item dropping off the bottom is not news, and one
    coming back is not new."""
    seen = {i.url for i in before}
    fresh: list[Item] = []
    for item in after:
        if item.url not in seen and item.url not in known:
            fresh.append(item)
        seen.add(item.url)
    return fresh


def updated_items(before: Sequence[Item], after: Sequence[Item]) -> list[Item]:
    """The items in `after` whose URL is in `before` with a different stated `updated` date, in
    `after`'s order. An item whose date was not stated before, or is not now, is not counted."""
    was: dict[str, str] = {}
    for item in before:
        was.setdefault(item.url, item.updated)
    return [
        i for i in after if i.url in was and was[i.url] and i.updated and was[i.url] != i.updated
    ]
