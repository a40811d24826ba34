"""What watcher reads on a page, what it ignores, and why: for `watcher explain` and the web page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from watcher import kinds
from watcher import volatility as vol
from watcher.config import Config
from watcher.models import Extracted, Snapshot, Source
from watcher.normalise import masked_by
from watcher.store import Store


@dataclass(frozen=True)
class BlockNote:
    text: str
    path: str
    notes: tuple[str, ...]  # why parts of it cannot make a change, if any

    @property
    def watched(self) -> bool:
        return not any(n.startswith(("ignored", "learned", "site")) for n in self.notes)


@dataclass(frozen=True)
class Explanation:
    source: str
    url: str
    region: str  # where the text was read from
    title: str
    blocks: tuple[BlockNote, ...]
    ignored: tuple[tuple[str, str], ...]  # (reason, text) of regions dropped by extraction
    comparisons: int = 0
    learned_slots: int = 0
    site_rules: tuple[str, ...] = field(default_factory=tuple)


def block_notes(side: vol.Side, learned: vol.Learned) -> tuple[BlockNote, ...]:
    """Each block with the rules and learned volatility that apply to it. Pure."""
    notes = []
    for i, text in enumerate(side.blocks):
        path = side.path(i)
        why = [f"masked: {', '.join(rules)}" for rules in [masked_by(text)] if rules]
        shape = vol.shape(path, text)
        if learned.host and vol.host_volatile(learned, path):
            why.append("site template churn: this element turns over on most pages of the site")
        elif shape and vol.host_volatile(learned, shape):
            why.append("site rotation: blocks of this shape are swapped on most pages of the site")
        text_key = vol.text_key(side, i)
        if vol.boilerplate(learned, text_key):
            why.append("site boilerplate: this text came to or left most pages of the site at once")
        elif vol.site_known(learned, text_key):
            why.append("site rotation: this text comes to some pages of the site and leaves others")
        slot = f"{path}|{vol.anchor(side, i)}"
        if f"alt:{slot}" in learned.slots:
            why.append(
                "learned alternating: this slot went back to a wording it held before, "
                "so its wordings are volatile (a changed amount or date still alerts)"
            )
        elif vol.slot_volatile(learned, slot):
            why.append("learned volatile: replaced on most checks of this source")
        notes.append(BlockNote(text, path, tuple(why)))
    return tuple(notes)


def read_notes(
    version: Snapshot | Extracted,
    memory: tuple[int, Mapping[str, float]],
    host: Mapping[str, tuple[float, float]],
) -> tuple[tuple[BlockNote, ...], vol.Learned]:
    """A version of a page (stored or just fetched) with what its source and site taught, as
    notes per block, and what is known: the one recipe `watcher explain` and the web app share."""
    comparisons, slots = memory
    learned = vol.Learned(comparisons, slots, host)
    return block_notes(vol.side(version), learned), learned


async def explain(config: Config, source: Source) -> Explanation:
    """Fetch `source` now and say what is extracted, what is ignored and why."""
    from watcher.egress import Egress  # the notes above serve the web app, which fetches nothing

    store = Store.open(config.settings.state_dir, config.settings.database_url)
    try:
        memory = store.learned(source.name)
        host = store.host_evidence(source.host)
    finally:
        store.close()
    async with Egress(config.settings.egress) as egress:
        fetched = await egress.fetch(source.url)
    extracted = kinds.read(fetched, source, explain=True)
    notes, learned = read_notes(extracted, memory, host)
    region = f"select {', '.join(source.select)}" if source.select else "the page's main region"
    if source.exclude:
        region += f", minus {', '.join(source.exclude)}"
    site_rules = tuple(
        sorted(k for k in host if not k.startswith("text:") and vol.host_volatile(learned, k))
    )
    return Explanation(
        source=source.name,
        url=fetched.final_url,
        region=region,
        title=extracted.title,
        blocks=notes,
        ignored=extracted.ignored,
        comparisons=learned.comparisons,
        learned_slots=sum(
            1 for k in learned.slots if not vol.is_memory(k) and vol.slot_volatile(learned, k)
        ),
        site_rules=site_rules,
    )
