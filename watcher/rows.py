"""What the store gives back: one frozen dataclass per kind of row, decoded in store/codec.py.

Pure values, so policy, rendering and the web app can take them without importing the store.
Timestamps stay the ISO-8601 UTC text they are stored as: it sorts as time does, and every surface
that shows one formats it from that text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from watcher.models import Diff, Evidence

# Search snippets mark each match between these (private-use) characters; surfaces style them.
MATCH_OPEN = "\ue000"
MATCH_CLOSE = "\ue001"


@dataclass(frozen=True)
class ReviewRow:
    id: int
    change_id: int
    state: str
    note: str
    reviewer: str
    at: str


@dataclass(frozen=True)
class CorrectionRow:
    """A staff correction of a change's category; with the change's text for retraining."""

    id: int
    change_id: int
    previous: str | None
    label: str
    reviewer: str
    note: str
    created_at: str
    title: str = ""
    url: str = ""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeadlineRow:
    """A closing date found in a change; the web's list adds the change's title and days left."""

    id: int
    change_id: int
    source: str
    due: str  # ISO date
    text: str
    sentence: str
    created_at: str
    reminded: tuple[int, ...] = ()
    title: str = ""
    url: str = ""
    days_left: int | None = None


@dataclass(frozen=True)
class ChangeRow:
    """A stored change, its JSON columns decoded."""

    id: int
    source: str
    url: str
    detected_at: str
    before_hash: str
    after_hash: str
    check_id: int
    title: str
    summary: str
    category: str | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    diff: Diff
    suppressed: int = 0
    evidence: Evidence = field(default_factory=Evidence)
    corrected_by: str | None = None
    review_state: str | None = None
    kind: str = "edit"  # "edit" of a watched page, or a "publication" arriving, or its "update"
    topics: tuple[tuple[str, str], ...] = ()  # (topic name, the sentence that matched)

    corrected_at: str | None = None  # when staff last corrected the category (ISO)

    @property
    def confidence(self) -> float | None:
        """The main category's confidence, as the classifier gave it; none once staff have
        corrected the category (the score was for the label they replaced)."""
        if self.corrected_by:
            return None
        return self.evidence.categories[0][1] if self.evidence.categories else None

    @property
    def sentence(self) -> str | None:
        """The sentence that best says what changed: the main category's, else the first."""
        first = self.evidence.categories[0][2] if self.evidence.categories else ""
        return first or (self.evidence.sentences[0] if self.evidence.sentences else None)


@dataclass(frozen=True)
class ChangeDetail(ChangeRow):
    """A change with its review history, corrections and deadlines, for its own page."""

    reviews: tuple[ReviewRow, ...] = ()
    corrections: tuple[CorrectionRow, ...] = ()
    deadlines: tuple[DeadlineRow, ...] = ()


@dataclass(frozen=True)
class TimelineItem:
    """A change as a list shows it, without its diff."""

    id: int
    source: str
    url: str
    detected_at: str
    title: str
    summary: str
    category: str | None
    review_state: str | None
    corrected_by: str | None
    confidence: float | None  # none once corrected: the classifier's score was for another label
    sentence: str | None
    topics: tuple[tuple[str, str], ...] = ()  # (topic name, the sentence that matched)
    corrected_at: str | None = None


@dataclass(frozen=True)
class SearchHit:
    id: int
    source: str
    url: str
    detected_at: str
    title: str
    category: str | None
    review_state: str | None
    snippet: str


@dataclass(frozen=True)
class SnapshotHit:
    hash: str
    title: str
    snippet: str
    source: str | None
    stored_at: str = ""  # when this version was first stored (ISO)
    current: bool = False  # the source's version as last read, not an older one


@dataclass(frozen=True)
class PublicationRow:
    """A publication, once however many sources named it, and the sources that did."""

    id: int
    url: str  # canonical: the key that makes it one publication
    link: str  # the address as first named, to show and follow
    title: str
    first_seen_at: str
    change_id: int | None
    category: str | None
    organisations: tuple[str, ...] = ()
    document_type: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceRow:
    """A watched source's state as the store keeps it."""

    name: str
    url: str
    tags: tuple[str, ...]
    added_at: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    snapshot_hash: str | None = None
    last_check_at: str | None = None
    last_success_at: str | None = None
    last_change_at: str | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    error_streak: int = 0
    comparisons: int = 0
    health: str = "ok"
    kind: str | None = None  # how it was last read; None: before kinds were recorded (a page)
    changes: int = 0  # how many changes it has had, where a read counts them


@dataclass(frozen=True)
class CheckRow:
    id: int
    source: str
    started_at: str
    duration_ms: int
    status: int | None
    bytes: int
    outcome: str
    error_reason: str | None
    error: str | None
    suppressed: int = 0


@dataclass(frozen=True)
class OutboxRow:
    """An alert waiting to go (or sent, or dead): what delivery needs to send it."""

    id: int
    change_id: int | None
    target: str
    attempts: int
    kind: str = "change"
    deadline_id: int | None = None
    days: int | None = None
    mode: str = "immediate"
    source: str | None = None
    payload: str = "{}"
    status: str = "pending"
    created_at: str = ""
    next_attempt_at: str = ""
    sent_at: str | None = None
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_at: str | None = None


@dataclass(frozen=True)
class LoginFailures:
    """What is known about one client's (or, as "*", everyone's) failed logins."""

    client: str
    failures: int = 0
    last_at: datetime | None = None
    next_at: datetime | None = None
    locked: bool = False
