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

from watcher import volatility as vol
from watcher.diff import diff_blocks
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.normalise import mask
from watcher.pipeline.observed import Observed, digest
from watcher.pipeline.parsing import Limits, Parser, Ticket


async def learn_from_refetch(
    egress: Egress, observed: Observed, url: str, parser: Parser, limits: Limits
) -> vol.Observation | None:
    """Fetch `url` once more: what differs from the page just read and compared (`observed`)
    is volatile. None when nothing differs or the second fetch fails. The second answer is held
    and read within the same bounds as every page of the pass."""
    source, first, body_hash = observed.source, observed.snapshot, observed.body_hash
    assert first is not None and body_hash is not None
    ticket = Ticket(limits.room)
    try:
        again = await egress.fetch(url, admit=ticket.take)
        if digest(again.body) == body_hash:
            return None  # same bytes: nothing to learn, nothing to parse
        async with limits.parsing:
            second = await parser.read(again, source)
    except (FetchError, ExtractError):
        return None  # learning waits for the next change
    finally:
        ticket.release()
    del again
    if second.text == first.text:
        return None
    old = vol.side(first)
    diff = diff_blocks(old.blocks, second.blocks, key=mask)
    return vol.observe(vol.compare(old, vol.side(second), diff))
