"""Values passed between pipeline stages. Frozen, typed, no behaviour beyond small derived views."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class Source:
    """One watched page, as configured in `sources.toml`."""

    name: str
    url: str
    every: timedelta
    tags: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    order_matters: bool = False  # a reordered list counts as a change
    kind: str = "page"  # how a fetched response becomes blocks: a name in `watcher.kinds`
    # A search's filters as (key, value) pairs, e.g. ("filter_organisations", "department-for-
    # education"), ("filter_content_store_document_type", "open_consultation"), ("q", "kinship").
    query: tuple[tuple[str, str], ...] = ()
    prefix: str = ""  # sitemap: only URLs whose path starts with this
    follow: bool = False  # each new publication becomes a watched source of its own
    # No change for this long (from the last change, or the baseline) is worth one alert.
    expect_change_within: timedelta | None = None

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True)
class Validators:
    """The server's own cache validators, sent back verbatim on the next fetch."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Fetched:
    """What came back from one successful HTTP exchange (2xx or 304)."""

    url: str
    final_url: str
    status: int
    not_modified: bool
    content_type: str
    body: bytes
    text: str
    validators: Validators
    duration_ms: int
    redirected: bool = False


@dataclass(frozen=True)
class Item:
    """One publication a listing-style source names (a feed entry, a search result, a sitemap URL,
    a link in a listing page). Its URL is its identity: a new URL is a new publication."""

    url: str  # absolute
    title: str = ""
    updated: str = ""  # when the source says it was published or last updated (ISO), "" if not
    summary: str = ""
    organisations: tuple[str, ...] = ()  # e.g. ("Department for Education",)
    document_type: str = ""  # as the publisher states it, e.g. "open_consultation"


@dataclass(frozen=True)
class Attachment:
    """A document published as part of a page (a PDF of a consultation, a response), watched
    with it."""

    url: str  # absolute
    title: str = ""
    content_type: str = ""  # as the publisher states it, e.g. "application/pdf"


@dataclass(frozen=True)
class Extracted:
    """A page reduced to its readable blocks, one line each."""

    title: str
    blocks: tuple[str, ...]
    paths: tuple[str, ...] = ()  # per block: the element kinds above it, e.g. "main/article/p"
    ignored: tuple[tuple[str, str], ...] = ()  # (reason, text) of dropped regions, when asked
    metadata: tuple[tuple[str, str], ...] = ()  # what the publisher states: govuk:format, ...
    items: tuple[Item, ...] = ()  # a listing-style kind: the publications it names, in order
    attachments: tuple[Attachment, ...] = ()  # documents published with the page
    note: str = ""  # the publisher's own note on its latest change ("Published the response")
    links: tuple[tuple[str, str], ...] = ()  # (href as written, anchor text) in what was read

    @property
    def text(self) -> str:
        return "\n".join(self.blocks)


@dataclass(frozen=True)
class WordOp:
    """One run of words inside a changed block: kept, inserted or deleted."""

    op: str  # "equal" | "insert" | "delete"
    text: str


@dataclass(frozen=True)
class Hunk:
    """One region where the block sequences differ."""

    op: str  # "insert" | "delete" | "replace"
    before: tuple[str, ...]
    after: tuple[str, ...]
    words: tuple[tuple[WordOp, ...], ...] = ()  # one line of word marks per paired block
    at_before: int = 0  # index of the hunk's first block in the old sequence
    at_after: int = 0  # ... and in the new one


@dataclass(frozen=True)
class Diff:
    """Blocks before and after, compared."""

    hunks: tuple[Hunk, ...]

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(line for h in self.hunks for line in h.after)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(line for h in self.hunks for line in h.before)

    def __bool__(self) -> bool:
        return bool(self.hunks)


@dataclass(frozen=True)
class Snapshot:
    """A page's extracted text, addressed by the hash of that text."""

    hash: str
    title: str
    text: str
    paths: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()  # as extracted; not stored
    note: str = ""  # the publisher's note on its latest change, as extracted; not stored
    links: tuple[tuple[str, str], ...] = ()  # (href, anchor text), as extracted; for stories
    documents: tuple[str, ...] = ()  # titles of documents published with it; for stories


@dataclass(frozen=True)
class Fact:
    """One extracted fact: what kind, the exact text and where it sits, and its normalised value."""

    kind: str  # money | date | deadline | document | organisation
    text: str
    start: int
    end: int
    value: str = ""  # money: pounds as a number string; dates: ISO (year may be missing: --MM-DD)


@dataclass(frozen=True)
class Evidence:
    """What a change says, quoted: the sentences that carry facts, and the facts."""

    sentences: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()  # spans are within the sentence of the same index in `of`
    of: tuple[int, ...] = ()  # for each fact, the index of its sentence
    categories: tuple[tuple[str, float, str], ...] = ()  # (label, confidence, triggering sentence)
    decided_by: str = ""  # what named the main category: "text", or "metadata: govuk:format=..."


@dataclass(frozen=True)
class Deadline:
    """A closing date found in a change."""

    due: str  # ISO date
    text: str  # as written, e.g. "11 May 2023"
    sentence: str


@dataclass(frozen=True)
class Change:
    """A detected change, ready to be stored and alerted on."""

    source: str
    url: str
    detected_at: datetime
    before: str  # snapshot hash
    after: str  # snapshot hash
    diff: Diff
    title: str
    summary: str
    category: str | None = None
    evidence: Evidence | None = None
    topics: tuple[tuple[str, str], ...] = ()  # (topic name, the sentence that matched)


@dataclass(frozen=True)
class Publication:
    """What a listing-style source's check learned of one publication it names.

    `event` is "new" (no source had named it), "updated" (this source gives it a later date) or
    "seen" (named before, or at a source's first check: linked to the source, no alert). The
    store decides "new" against every source inside its transaction, so a publication reached
    through several sources in one pass is recorded and alerted on once.
    """

    item: Item
    event: str
    change: Change | None = None  # the alert-worthy change, for "new" and "updated"
    snapshot: Snapshot | None = None  # the publication's own text, which the change points at
    deliveries: tuple[Delivery, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    category: str | None = None
    follow: Source | None = None  # with `follow = true`: the source to add for it


class Outcome(StrEnum):
    """How one check of a source ended. Stored, logged and shown as its plain value ("changed")."""

    baseline = "baseline"  # the first check: the text every later check is compared with
    unchanged = "unchanged"  # fetched, and the text is the same
    not_modified = "not_modified"  # the server answered 304 to our validators
    changed = "changed"  # a change worth reading
    volatile = "volatile"  # the text changed, but only where it changes by nature
    error = "error"  # the fetch or the extraction failed


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one source once."""

    source: str
    outcome: Outcome
    started_at: datetime  # when the fetch started, its waits over
    duration_ms: int  # from the fetch's start: the check itself, without the waits
    status: int | None = None
    bytes: int = 0
    error_reason: str | None = None
    error: str | None = None
    change: Change | None = None
    change_id: int | None = None
    waited_ms: int = 0  # before the fetch: the host's turn (politeness), room to read, a slot


@dataclass(frozen=True)
class CheckRecord:
    """What settling a check writes beside its result: the state to keep for the next check.

    `slots` is what the source has learned after this check and `memory` what it had learned
    before; only the entries that differ are written, and those `memory` has but `slots` has not
    are forgotten.
    """

    validators: Validators | None = None
    body_hash: str | None = None
    snapshot: Snapshot | None = None
    slots: Mapping[str, float] = field(default_factory=dict)
    memory: Mapping[str, float] = field(default_factory=dict)
    comparisons: int | None = None
    suppressed: int = 0  # blocks judged volatile or only moved
    deadlines: tuple[Deadline, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One target's copy of a change's alert: immediate, or held for a digest until `due`."""

    target: str
    mode: str
    due: datetime


@dataclass(frozen=True)
class SourceState:
    """What the store remembers about a source between checks."""

    validators: Validators = field(default_factory=Validators)
    body_hash: str | None = None
    snapshot_hash: str | None = None
    last_check_at: datetime | None = None
    error_streak: int = 0


@dataclass(frozen=True)
class EgressPolicy:
    """Limits for every outbound request, from `[watcher]` and `[egress]` in sources.toml."""

    user_agent: str
    timeout: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host_gap: float = 2.0
    per_host_concurrency: int = 1  # requests in flight to one host at once
    concurrency: int = 4
    allow_cidrs: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
