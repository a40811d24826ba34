"""The seam between a fetched response and readable blocks: a kind of source, by name.

Each kind is a small subclass of `Kind` with a `__kind__` name and a docstring, which
`watcher sources --kinds` shows to users (its first paragraph). Defining the subclass registers
it, as urlwatch registers its filters. Kinds are pure: they read what egress fetched and do no
I/O of their own.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from watcher.errors import ConfigError
from watcher.models import Extracted, Fetched, Source

_KINDS: dict[str, type[Kind]] = {}
# The module defining each kind, imported when the kind is first used: a pass over pages never
# pays for pypdf or feedparser, and `watcher check` starts without them. A new kind adds its
# line here (tests/test_kinds.py checks each module defines the kind it is listed for).
MODULES = {
    "feed": "watcher.kinds.feed",
    "govuk": "watcher.kinds.govuk",
    "govuk-search": "watcher.kinds.govuk_search",
    "listing": "watcher.kinds.listing",
    "page": "watcher.kinds.page",
    "pdf": "watcher.kinds.pdf",
    "sitemap": "watcher.kinds.sitemap",
}


class UnknownKind(ConfigError):
    """A source names a kind watcher does not have; the message lists the kinds it has."""

    def __init__(self, name: str) -> None:
        known = ", ".join(names()) or "(none)"
        super().__init__(f"source kind {name!r} is not known; the kinds are: {known}")
        self.name = name


class Kind:
    """A kind of source: how a fetched response becomes the blocks watcher compares."""

    __kind__: ClassVar[str] = ""
    # A listing-style kind (feed, search, sitemap, listing): its items are publications, and a
    # new item is news in itself; the pipeline reads each new one through its own kind.
    lists: ClassVar[bool] = False
    # Its pages carry documents (attachments) the pipeline reads with them: the same bytes of the
    # page do not mean the same text, so the page is read every time.
    documents: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("__kind__", "")
        if not name:
            return  # an abstract helper class, not a kind users can name
        if name in _KINDS:
            raise TypeError(f"source kind {name!r} is defined twice")
        _KINDS[name] = cls

    def locate(self, source: Source, govuk_base: str) -> str:
        """The URL to fetch for `source` (its own URL unless the kind reads an API instead).
        `govuk_base` is the GOV.UK site the APIs are read from: `[govuk] base_url`, by default
        https://www.gov.uk, a loopback server in tests."""
        return source.url

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        """The readable blocks of `fetched`; with `explain`, what was ignored and why too."""
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the kind's docstring, on one line: what users are shown."""
        doc = (cls.__doc__ or "").strip()
        return " ".join(doc.split("\n\n", 1)[0].split())


def names() -> list[str]:
    """The name of every kind, in order, without importing their modules."""
    return sorted({*MODULES, *_KINDS})


def kinds() -> dict[str, type[Kind]]:
    """Every registered kind by name, in name order (importing every kind's module)."""
    for module in MODULES.values():
        importlib.import_module(module)
    return dict(sorted(_KINDS.items()))


def kind(name: str) -> Kind:
    """The kind called `name`; `UnknownKind` (naming the kinds there are) if there is none."""
    if name not in _KINDS and name in MODULES:
        importlib.import_module(MODULES[name])
    try:
        return _KINDS[name]()
    except KeyError:
        raise UnknownKind(name) from None
