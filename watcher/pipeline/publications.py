"""Listing-style sources (feeds, searches, sitemaps, listings) and documents published with a page.

Observe: which items the source names that it never named before, and of those, which no source
has reported yet; each of these is fetched (through egress, so politely) and read through its own
kind. Settle: each becomes a `Publication`, with a classified change for a new one and for an
item whose stated date moved; the store decides "new" against every source, so one publication
reached through several sources is recorded and alerted on once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from watcher import classify, kinds, topics
from watcher.diff import diff_blocks, summarise
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.models import (
    Attachment,
    Change,
    Deadline,
    Delivery,
    Diff,
    Extracted,
    Item,
    Outcome,
    Publication,
    Snapshot,
    Source,
)
from watcher.pipeline.alerting import Alerting
from watcher.pipeline.observed import Observed, ReadItem, digest
from watcher.urls import GOVUK_HOSTS, canonical_url

# Who hears of a publication's change: by its categories (label, confidence) and its topics.
# The classifier, and the topics a publication's text is tagged with.
Judges = tuple[classify.Classifier, Sequence[topics.Topic]]
Route = Callable[[Sequence[tuple[str, float]], Sequence[str]], list[Delivery]]
MAX_ATTACHMENTS = 10  # documents read with one page; more are listed, not read
MAX_BLOCKS = 60  # of a new publication's text, kept in its change


def item_source(parent: Source, url: str, govuk_base: str, content_type: str = "") -> Source:
    """A publication as a source of its own: GOV.UK through the Content API, a PDF as a PDF."""
    known = kinds.names()
    host = (urlsplit(url).hostname or "").lower()
    if host in GOVUK_HOSTS and "govuk" in known:
        kind = "govuk"
    elif "pdf" in content_type and "pdf" in known:
        kind = "pdf"
    else:
        kind = "page"
    return Source(name=f"{parent.name}-item", url=url, every=parent.every, kind=kind)


async def read_item(egress: Egress, parent: Source, item: Item, govuk_base: str) -> ReadItem:
    """Fetch one new publication and read it; a failure keeps the item, with what went wrong."""
    source = item_source(parent, item.url, govuk_base)
    try:
        fetched = await egress.fetch(kinds.kind(source.kind).locate(source, govuk_base))
        if source.kind == "page" and "pdf" in fetched.content_type:
            source = item_source(parent, item.url, govuk_base, fetched.content_type)
        extracted = await asyncio.to_thread(kinds.read, fetched, source)
    except (FetchError, ExtractError) as exc:
        return ReadItem(item, problem=str(exc))
    return ReadItem(item, extracted, fetched.final_url)


async def read_new(
    egress: Egress,
    source: Source,
    extracted: Extracted,
    reported: Mapping[str, str],
    known: Callable[[str], bool],
    govuk_base: str,
    limit: int,
) -> tuple[tuple[ReadItem, ...], bool]:
    """The items `source` names for the first time, those no source reported read in full (at
    most `limit`); and whether some had to wait for the next pass."""
    fresh = [i for i in extracted.items if canonical_url(i.url) not in reported]
    unread = [i for i in fresh if not known(i.url)]
    chosen = unread[:limit]
    results = await asyncio.gather(*(read_item(egress, source, i, govuk_base) for i in chosen))
    seen = [ReadItem(i) for i in fresh if i not in chosen and i not in unread]
    return (*results, *seen), len(unread) > limit


async def read_attachments(
    egress: Egress, source: Source, extracted: Extracted, govuk_base: str
) -> Extracted:
    """A page with the text of the documents published with it (PDFs and HTML publications;
    images and other files stay listed by name), each document's blocks under a heading naming
    it, and in a PDF each paragraph marked with its page. A document that cannot be read makes
    the check fail: its text missing this time is not a change."""
    readable = [a for a in extracted.attachments if _readable(a)][:MAX_ATTACHMENTS]
    if not readable:
        return extracted
    blocks = list(extracted.blocks)
    paths = list(extracted.paths or ("",) * len(blocks))
    for n, attachment in enumerate(readable, 1):
        document = await _attachment(egress, source, attachment, govuk_base)
        blocks.append(f"Text of {attachment.title or attachment.url}:")
        paths.append(f"attachment{n}")
        blocks += document.blocks
        paths += [f"attachment{n}/{p}" for p in (document.paths or ("",) * len(document.blocks))]
    return replace(extracted, blocks=tuple(blocks), paths=tuple(paths))


def _readable(attachment: Attachment) -> bool:
    kind = attachment.content_type.lower()
    path = urlsplit(attachment.url).path.lower()
    return (
        "pdf" in kind or "html" in kind or path.endswith(".pdf") or (not kind and "." not in path)
    )


async def _attachment(
    egress: Egress, parent: Source, attachment: Attachment, govuk_base: str
) -> Extracted:
    try:
        fetched = await egress.fetch(attachment.url)
        kind = item_source(parent, attachment.url, govuk_base, fetched.content_type)
        if kind.kind == "govuk":  # an HTML publication on GOV.UK is read as the page it is
            kind = replace(kind, kind="page")
        return await asyncio.to_thread(kinds.read, fetched, kind)
    except (FetchError, ExtractError) as exc:
        raise ExtractError(
            exc.reason,
            f"attachment {attachment.title or attachment.url!r} could not be read: {exc}",
        ) from None


def publications(
    source: Source,
    items: Sequence[ReadItem],
    updated: Sequence[tuple[Item, str, str]],
    before: str,
    at: datetime,
    classifier: classify.Classifier,
    route: Route,
    followed: Sequence[topics.Topic] = (),
) -> list[Publication]:
    """What a listing's check tells the store: each item it names for the first time (read, or
    only named when another source reported it already), and each item whose date moved."""
    out = []
    for read in items:
        if read.extracted is None and not read.problem:
            out.append(Publication(read.item, "seen"))
            continue
        out.append(_new(source, read, before, at, (classifier, followed), route))
    for item, old_block, new_block in updated:
        out.append(
            _updated(source, item, old_block, new_block, before, at, (classifier, followed), route)
        )
    return out


def _new(
    source: Source,
    read: ReadItem,
    before: str,
    at: datetime,
    judges: Judges,
    route: Route,
) -> Publication:
    item, extracted = read.item, read.extracted
    title = (extracted.title if extracted else "") or item.title or item.url
    lead = [item.summary] if item.summary else []
    blocks = tuple(extracted.blocks[:MAX_BLOCKS]) if extracted else tuple(lead or [title])
    stated = extracted.metadata if extracted else ()
    metadata = dict(stated)
    if item.document_type and "govuk:document-type" not in metadata:
        metadata["govuk:document-type"] = item.document_type
    text = "\n".join(blocks)
    snapshot = Snapshot(
        hash=digest(text),
        title=title,
        text=text,
        paths=extracted.paths[:MAX_BLOCKS] if extracted else (),
        links=extracted.links if extracted else (),
        documents=tuple(a.title for a in extracted.attachments if a.title) if extracted else (),
    )
    diff = diff_blocks((), blocks)
    change, deadlines = _classified(
        source, read.url or item.url, title, diff, metadata, before, snapshot.hash, at, judges
    )
    orgs = ", ".join(item.organisations) or ", ".join(
        v for k, v in stated if k == "govuk:organisation"
    )
    said = f"New publication{f' from {orgs}' if orgs else ''}: {title}"
    if read.problem:
        said += f" (not read: {read.problem})"
    change = replace(change, summary=said)
    categories = change.evidence.categories if change.evidence else ()
    return Publication(
        item=replace(item, title=item.title or title),
        event="new",
        change=change,
        snapshot=snapshot,
        deliveries=tuple(route([(c[0], c[1]) for c in categories], [t for t, _ in change.topics])),
        deadlines=deadlines,
        category=change.category,
        follow=(
            Source(
                name=f"{source.name}-{_slug(title)}",
                url=read.url or item.url,
                every=source.every,
                kind=item_source(source, read.url or item.url, "").kind,
            )
            if source.follow and extracted is not None
            else None
        ),
    )


def _updated(
    source: Source,
    item: Item,
    old_block: str,
    new_block: str,
    before: str,
    at: datetime,
    judges: Judges,
    route: Route,
) -> Publication:
    text = "\n".join(b for b in (new_block, item.summary) if b)
    snapshot = Snapshot(hash=digest(text), title=item.title, text=text)
    diff = diff_blocks((old_block,), (new_block,))
    metadata = {"govuk:document-type": item.document_type} if item.document_type else {}
    change, deadlines = _classified(
        source,
        item.url,
        item.title or item.url,
        diff,
        metadata,
        before,
        snapshot.hash,
        at,
        judges,
    )
    change = replace(change, summary=f"Updated {item.updated}: {item.title or item.url}")
    categories = change.evidence.categories if change.evidence else ()
    return Publication(
        item=item,
        event="updated",
        change=change,
        snapshot=snapshot,
        deliveries=tuple(route([(c[0], c[1]) for c in categories], [t for t, _ in change.topics])),
        deadlines=deadlines,
        category=change.category,
    )


def _classified(
    source: Source,
    url: str,
    title: str,
    diff: Diff,
    metadata: Mapping[str, str],
    before: str,
    after: str,
    at: datetime,
    judges: Judges,
) -> tuple[Change, tuple[Deadline, ...]]:
    classifier, followed = judges
    categories = classifier(
        "\n".join(diff.added), title=title, url=url, removed="", metadata=dict(metadata)
    )
    evidence = replace(
        classify.gather(diff.added),
        categories=tuple((c.label, c.confidence, c.sentence) for c in categories),
        decided_by=categories[0].decided_by if categories else "",
    )
    change = Change(
        source=source.name,
        url=url,
        detected_at=at,
        before=before,
        after=after,
        diff=diff,
        title=title,
        summary=summarise(diff),
        category=categories[0].label if categories else None,
        evidence=evidence,
        topics=topics.tag(followed, diff.added, diff.removed),
    )
    return change, tuple(classify.deadlines(evidence, at))


def updated_items(
    previous: Snapshot | None, extracted: Extracted, reported: Mapping[str, str]
) -> list[tuple[Item, str, str]]:
    """Items this source named before with another date: each with its old and new block."""
    if previous is None:
        return []
    old_blocks = previous.text.split("\n")
    out = []
    for item in extracted.items:
        stated = reported.get(canonical_url(item.url))
        if stated is None or not item.updated or stated == item.updated:
            continue
        old = next((b for b in old_blocks if item.url in b), "")
        new = next((b for b in extracted.blocks if item.url in b), item.title)
        if old and old != new:
            out.append((item, old, new))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"


def listing_outcome(
    observed: Observed,
    classifier: classify.Classifier,
    alerting: Alerting,
    followed: Sequence[topics.Topic] = (),
) -> tuple[Outcome, list[Publication]]:
    """A listing's check: what it says of each publication (at its first check, only what it
    names), and its outcome: changed when there is news, never for its own text alone."""
    source, snapshot, before = observed.source, observed.snapshot, observed.state.snapshot_hash
    if before is None:
        return Outcome.baseline, [Publication(r.item, "seen") for r in observed.items]

    def route(categories: Sequence[tuple[str, float]], tagged: Sequence[str]) -> list[Delivery]:
        at, thresholds = observed.started_at, classifier.thresholds()
        return alerting.deliveries(source, categories, at, thresholds, tagged)

    found = publications(
        source,
        observed.items,
        observed.updated,
        before,
        observed.started_at,
        classifier,
        route,
        followed,
    )
    if any(p.change is not None for p in found):
        return Outcome.changed, found
    quiet = snapshot is not None and snapshot.hash == before
    return (Outcome.unchanged if quiet else Outcome.volatile), found
