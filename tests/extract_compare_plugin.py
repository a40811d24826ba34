"""A pytest plugin (`-p tests.extract_compare_plugin`) that runs the bs4 reference beside every
extraction the tests make and writes one line per call to $WATCHER_COMPARE_EXTRACT: "same", or
the difference. Loaded before the test modules, so their `from watcher.extract import extract`
picks up the comparing function."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import Any

import watcher.extract
from tests.extract_compare import difference

_original = watcher.extract.extract
_record = os.environ.get("WATCHER_COMPARE_EXTRACT", "")


def compared(
    html: str, select: Iterable[str] = (), exclude: Iterable[str] = (), explain: bool = False
) -> Any:
    """watcher.extract.extract, with the reference run beside it and the outcome recorded."""
    select, exclude = tuple(select), tuple(exclude)
    if len(html) < 2_000_000:  # the multi-megabyte pages are refused unparsed by both
        diff = difference(html, select, exclude)
        with open(_record, "a", encoding="utf-8") as out:
            out.write("same\n" if not diff else f"DIFF {html[:100]!r}: {diff!r}\n")
    return _original(html, select, exclude, explain)


watcher.extract.extract = compared  # type: ignore[assignment]
for name in ("watcher.kinds.page", "watcher.kinds.govuk"):
    importlib.import_module(name).extract = compared
