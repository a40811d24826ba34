"""Learning what varies on a page by fetching it twice: whatever differs between two fetches
moments apart is volatile (a clock, a rotating story), not an edit.

The second fetch is deferred from a source's first check to the first check whose text differs
from the baseline, and made only while the source has learned nothing: a page that never
changes never pays for it, and a first pass costs one request a page, not two. An edit between
baseline and that check is in both of its fetches, so it is never learned away (recall holds);
what differs between them is learned before the check is judged, so a clock or a rotating story
raises no alert (precision holds as it did with the refetch at the first check).
"""

from __future__ import annotations

import asyncio

from watcher import kinds
from watcher import volatility as vol
from watcher.diff import diff_blocks
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.models import Extracted, Source
from watcher.normalise import mask
from watcher.pipeline.observed import digest


async def learn_from_refetch(
    egress: Egress, source: Source, url: str, body_hash: str, first: Extracted
) -> vol.Observation | None:
    """Fetch `url` once more: what differs from `first` (read from bytes hashing to
    `body_hash`) is volatile. None when nothing differs or the second fetch fails."""
    try:
        again = await egress.fetch(url)
        if digest(again.body) == body_hash:
            return None  # same bytes: nothing to learn, nothing to parse
        second = await asyncio.to_thread(kinds.read, again, source)
    except (FetchError, ExtractError):
        return None  # learning waits for the next change
    del again
    if second.text == first.text:
        return None
    diff = diff_blocks(first.blocks, second.blocks, key=mask)
    return vol.observe(vol.compare(vol.side(first), vol.side(second), diff))
