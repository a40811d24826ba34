"""Staleness: which sources expected to change have not, and the one alert each way."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from watcher.models import Source
from watcher.notify.policy import staleness_change
from watcher.store.codec import iso, parse_iso
from watcher.store.connection import Connection


class StalenessStore(Connection):
    """`sources.stale_since` (m013): set with the staleness alert, cleared with the next change."""

    def queue_staleness(
        self, now: datetime, sources: Sequence[Source], targets: Mapping[str, Sequence[str]]
    ) -> list[tuple[str, str]]:
        """Queue the staleness alerts `staleness_change` decides, for each source's targets
        (those routed anything from it); returns (source, state) for each source that moved.

        Decided and written in one transaction with the state read inside it, so two processes
        on one state (the daemon and a `watcher check`) never both queue the same alert."""
        within = {s.name: s.expect_change_within for s in sources}
        watched = [name for name, w in within.items() if w is not None]
        moved: list[tuple[str, str]] = []
        with self.transaction() as c:
            rows = c.execute(
                "SELECT name, last_change_at, baseline_at, last_success_at, stale_since, health "  # noqa: S608
                "FROM sources WHERE stale_since IS NOT NULL "
                f"OR {self.any_of('name')}",
                (self.listed(watched),),
            ).fetchall()
            at = iso(now)
            for name, last_change, baseline, last_success, stale_since, health in rows:
                if name not in within:
                    continue  # not in this config (or a publication it follows): left as it is
                decision = staleness_change(
                    within[name],
                    parse_iso(last_change),
                    parse_iso(baseline),
                    parse_iso(last_success),
                    parse_iso(stale_since),
                    health == "failing",
                    now,
                )
                if decision is None:
                    continue
                written = c.execute(
                    "UPDATE sources SET stale_since = ?, stale_at = ? "
                    "WHERE name = ? AND stale_since IS NOT DISTINCT FROM ?",
                    (
                        iso(decision.stale_since) if decision.stale_since else None,
                        at if decision.stale_since else None,
                        name,
                        stale_since,
                    ),
                ).rowcount
                if not written:
                    continue
                moved.append((name, decision.state))
                if decision.state == "cleared":
                    continue
                payload = json.dumps(decision.payload)
                c.executemany(
                    "INSERT INTO outbox (change_id, source, target, kind, payload, created_at, "
                    "next_attempt_at) VALUES (NULL,?,?,'stale',?,?,?)",
                    [(name, t, payload, at, at) for t in targets.get(name, ())],
                )
        return moved
