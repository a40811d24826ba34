"""`watcher check` starts fast: the command line imports none of the heavy libraries a pass may
not need (they are imported when first used)."""

from __future__ import annotations

import subprocess
import sys

# Each costs 20-60 ms to import; a pass of 304s needs none of them.
DEFERRED = ("apprise", "bs4", "soupsieve", "pypdf", "feedparser")


def test_the_command_line_imports_no_heavy_library_before_it_is_needed() -> None:
    code = (
        "import sys, watcher.cli, watcher.runtime, watcher.scheduler; "
        f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""
