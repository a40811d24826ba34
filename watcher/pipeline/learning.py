"""Learning what varies on a page by fetching it twice: whatever differs between two fetches
moments apart is volatile (a clock, a rotating story), not an edit."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from watcher import kinds
from watcher import volatility as vol
from watcher.diff import diff_blocks
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.models import Extracted
from watcher.normalise import mask
from watcher.pipeline.observed import Observed, Received, digest, snapshot_of


async def learn_from_refetch(egress: Egress, observed: Observed, first: Extracted) -> Observed:
    """Fetch a new source once more: whatever differs between two fetches is volatile."""
    try:
        again = await egress.fetch(observed.source.url)
        if digest(again.body) == observed.body_hash:
            return observed  # same bytes: nothing to learn, nothing to parse
        second = await asyncio.to_thread(kinds.read, again, observed.source)
    except (FetchError, ExtractError):
        return observed  # the first fetch stands as the baseline; learning waits
    if second.text == first.text:
        return observed
    diff = diff_blocks(first.blocks, second.blocks, key=mask)
    return replace(
        observed,
        received=Received.of(again),
        body_hash=digest(again.body),
        snapshot=snapshot_of(second),
        learned_now=vol.observe(vol.compare(vol.side(first), vol.side(second), diff)),
    )
