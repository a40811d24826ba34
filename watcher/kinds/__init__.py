"""Source kinds: each turns a fetched response into the blocks watcher compares.

`read` picks the source's kind from the registry; add a kind by subclassing `Kind` with a
`__kind__` name and a docstring in a module named in `base.MODULES`, which imports it when the
kind is first used (see docs in `base`).
"""

from __future__ import annotations

from watcher.kinds.base import Kind, UnknownKind, kind, kinds, names
from watcher.models import Extracted, Fetched, Source

__all__ = ["Kind", "UnknownKind", "kind", "kinds", "names", "read"]


def read(fetched: Fetched, source: Source, explain: bool = False) -> Extracted:
    """The readable blocks of a fetched response, by the source's kind."""
    return kind(source.kind).read(fetched, source, explain=explain)
