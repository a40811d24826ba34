"""Staff judgements on changes: review marks and category corrections, both kept as history."""

from __future__ import annotations

from datetime import datetime

from watcher.rows import CorrectionRow, ReviewRow
from watcher.store.codec import iso
from watcher.store.connection import Connection
from watcher.store.schema import REVIEW_STATES

# When a change (as `c`) was last corrected by staff, none if never: a column for its reads.
CORRECTED_AT = (
    "(SELECT max(k.created_at) FROM corrections k WHERE k.change_id = c.id) AS corrected_at"
)


class ReviewStore(Connection):
    """Writes of the web app: a review mark or a correction, each one transaction."""

    def correct(
        self, change_id: int, label: str, reviewer: str, note: str, now: datetime
    ) -> CorrectionRow | None:
        """A staff correction of a change's category: kept as history (for retraining) and made
        the change's category from now on. None when the change already has `label`: nothing
        is recorded ("changed Funding to Funding" says nothing). Raises KeyError when there is
        no such change."""
        with self.transaction() as c:
            row = c.execute("SELECT category FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                raise KeyError(change_id)
            if row[0] == label:
                return None
            at = iso(now)
            kept = c.execute(
                "INSERT INTO corrections (change_id, previous, label, reviewer, note, created_at) "
                "VALUES (?,?,?,?,?,?) RETURNING id",
                (change_id, row[0], label, reviewer, note, at),
            ).fetchone()[0]
            c.execute(
                "UPDATE changes SET category = ?, corrected_by = ? WHERE id = ?",
                (label, reviewer, change_id),
            )
        return CorrectionRow(int(kept or 0), change_id, row[0], label, reviewer, note, at)

    def review(
        self, change_id: int, state: str, reviewer: str, note: str, now: datetime
    ) -> ReviewRow:
        """A staff review mark on a change, kept as history; the latest is the change's state.
        Raises KeyError when there is no such change, ValueError for an unknown state."""
        if state not in REVIEW_STATES:
            raise ValueError(state)
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM changes WHERE id = ?", (change_id,)).fetchone() is None:
                raise KeyError(change_id)
            at = iso(now)
            kept = c.execute(
                "INSERT INTO reviews (change_id, state, note, reviewer, at) VALUES (?,?,?,?,?) "
                "RETURNING id",
                (change_id, state, note, reviewer, at),
            ).fetchone()[0]
            c.execute("UPDATE changes SET review_state = ? WHERE id = ?", (state, change_id))
        return ReviewRow(int(kept or 0), change_id, state, note, reviewer, at)
