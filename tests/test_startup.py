"""`watcher check` starts fast: the command line imports none of the heavy libraries a pass may
not need (they are imported when first used)."""

from __future__ import annotations

import subprocess
import sys

# Each costs 20-60 ms to import; a pass of 304s needs none of them (requests comes with Apprise,
# at the first alert sent).
DEFERRED = ("apprise", "requests", "bs4", "soupsieve", "pypdf", "feedparser")


def test_the_command_line_imports_no_heavy_library_before_it_is_needed() -> None:
    code = (
        "import sys, watcher.cli, watcher.runtime, watcher.scheduler; "
        f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""


def test_reading_a_page_without_selectors_needs_no_beautifulsoup() -> None:
    """Pages are read from an lxml tree; bs4 (and soupsieve) load only for `select`/`exclude`,
    the listing kind and discover."""
    code = (
        "import sys; from datetime import timedelta; from watcher import kinds; "
        "from watcher.models import Fetched, Source, Validators; "
        "body = b'<html><body><main><h1>Kinship</h1><p>A new allowance.</p></main></body></html>'; "
        "f = Fetched(url='http://127.0.0.1/', final_url='http://127.0.0.1/', status=200, "
        "not_modified=False, content_type='text/html', body=body, text=body.decode(), "
        "validators=Validators(), duration_ms=0, redirected=False); "
        "e = kinds.read(f, Source(name='p', url='http://127.0.0.1/', every=timedelta(hours=1))); "
        "assert e.blocks, e; "
        "print(','.join(m for m in ('bs4', 'soupsieve') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""
