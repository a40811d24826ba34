"""Source kinds: each turns a fetched response into the blocks watcher compares.

`read` picks the source's kind from the registry; add a kind by subclassing `Kind` with a
`__kind__` name and a docstring in a module imported here (see docs in `base`).
"""

from __future__ import annotations

from watcher.kinds import feed as _feed  # noqa: F401  (defining a kind registers it)
from watcher.kinds import govuk as _govuk  # noqa: F401
from watcher.kinds import govuk_search as _govuk_search  # noqa: F401
from watcher.kinds import listing as _listing  # noqa: F401
from watcher.kinds import page as _page  # noqa: F401
from watcher.kinds import pdf as _pdf  # noqa: F401
from watcher.kinds import sitemap as _sitemap  # noqa: F401
from watcher.kinds.base import Kind, UnknownKind, kind, kinds
from watcher.models import Extracted, Fetched, Source

__all__ = ["Kind", "UnknownKind", "kind", "kinds", "read"]


def read(fetched: Fetched, source: Source, explain: bool = False) -> Extracted:
    """The readable blocks of a fetched response, by the source's kind."""
    return kind(source.kind).read(fetched, source, explain=explain)
