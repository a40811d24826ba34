"""The checker: one source's check in two halves, `observe` (I/O up to a compared diff) and
`settle` (judge, classify, then one transaction in the store)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from watcher import classify, kinds
from watcher import volatility as vol
from watcher.clock import Clock, utcnow
from watcher.config import Settings
from watcher.diff import diff_blocks
from watcher.egress import Egress
from watcher.errors import ExtractError, FetchError
from watcher.models import (
    Change,
    CheckRecord,
    CheckResult,
    Delivery,
    Extracted,
    Outcome,
    Publication,
    Source,
)
from watcher.normalise import mask
from watcher.pipeline import publications as pubs
from watcher.pipeline.alerting import Alerting
from watcher.pipeline.change import describe
from watcher.pipeline.learning import learn_from_refetch
from watcher.pipeline.observed import (
    HostEvidence,
    Observed,
    ReadItem,
    Received,
    StartMark,
    changed_evidence,
    digest,
    gone,
    moved_away,
    snapshot_of,
)
from watcher.pipeline.parsing import Limits, Parser, Ticket
from watcher.store import Store
from watcher.topics import Topic

log = logging.getLogger("watcher.pipeline")  # the name it logged under before the split
# Pages read and compared at once, in a pass or the daemon: enough to keep both cores and the
# fetches busy, few enough that a pass's memory does not grow with its number of sources.
PARSING = 8


@dataclass
class Checker:
    """Holds the long-lived parts a check needs; `check` runs one source once."""

    egress: Egress
    store: Store
    clock: Clock = utcnow
    # Fetch a source once more at its first change since the baseline, to learn what varies.
    learn_on_first_check: bool = True
    classifier: classify.Classifier = field(default_factory=classify.Classifier.shipped)
    alerting: Alerting = field(default_factory=Alerting)  # the one list of targets to alert
    govuk_base: str = Settings.govuk_base  # where GOV.UK's APIs are read
    new_per_pass: int = Settings.new_per_pass  # new publications read per listing and pass
    follow_max: int = Settings.follow_max  # sources `follow = true` may add, in all
    parsing: int = PARSING  # pages read and compared at once
    parser: Parser = field(default_factory=Parser)  # threads, or processes when configured
    topics: tuple[Topic, ...] = ()  # the [[topic]] tables each change is tagged with
    _slots: tuple[asyncio.AbstractEventLoop, Limits] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def targets(self) -> Sequence[str]:
        """The targets alerts may go to (those with a URL set)."""
        return self.alerting.targets

    async def check(self, source: Source) -> CheckResult:
        """Observe and settle one source, with the site evidence stored so far."""
        return self.settle_all([await self.observe(source)])[0]

    def settle_all(
        self, observed: Sequence[Observed], quiet: Mapping[str, int] | None = None
    ) -> list[CheckResult]:
        """Settle observed sources, a site's comparisons judged once what they teach about the
        site is folded in (template churn seen across its pages is known to each); `quiet` counts
        its pages a pass settled already, unchanged. Only evidence the fold moved is written."""
        learned = self.store.learned  # read for comparisons only: a 304 or a baseline needs none
        memory = {
            o.source.name: learned(o.source.name) if o.site_bound else (0, {}) for o in observed
        }
        hosts: dict[str, tuple[HostEvidence, HostEvidence]] = {}
        for host in dict.fromkeys(o.source.host for o in observed if o.site_bound):
            stored = self.store.host_evidence(host)
            site = [o for o in observed if o.source.host == host]
            pages = [
                vol.Page(obs, memory[o.source.name][1], memory[o.source.name][0])
                for o in site
                for obs in (o.observation, o.learned_now)
                if obs is not None
            ]
            calm = sum(1 for o in site if o.quiet) + (quiet or {}).get(host, 0)
            hosts[host] = (stored, vol.host_fold(stored, pages, calm))
        # One write transaction (a savepoint per check, so one failed write loses only its own
        # rows); a check that compared nothing reads no site evidence.
        with self.store.batch():
            folded = {host: evidence for host, (_, evidence) in hosts.items()}
            results = [
                self.settle(o.unparked(), folded.get(o.source.host, {}), memory[o.source.name])
                for o in observed
            ]
            for host, (was, now) in hosts.items():
                self.store.save_host_evidence(host, changed_evidence(was, now), gone(was, now))
        return results

    async def observe(self, source: Source) -> Observed:
        """Fetch, read and compare one source, writing nothing; the page's bytes and parsed
        document are let go before it returns (only its text and comparison flow on)."""
        t0 = time.monotonic()
        base = Observed(source, self.clock(), t0, self.store.state(source.name))
        kind = kinds.kind(source.kind)
        read = await self._read(base, kind)
        if isinstance(read, Observed):
            return read  # ended once received: an error, a 304, the same bytes
        base, extracted = read
        try:
            extracted = await pubs.read_attachments(self.egress, source, extracted, self.govuk_base)
        except ExtractError as exc:
            received = base.received
            assert received is not None
            result = base.failed(exc.reason, str(exc), received.status, received.size)
            return replace(base, result=result)
        return await self._compared(replace(base, snapshot=snapshot_of(extracted)), kind, extracted)

    async def _read(
        self, base: Observed, kind: kinds.Kind
    ) -> Observed | tuple[Observed, Extracted]:
        """The page fetched and read, its bytes let go: back-pressured, so at most
        `2 * parsing` pages are held fetched and unread whatever the pass's size."""
        source, state = base.source, base.state
        limits = self._limits()
        ticket = Ticket(limits.room)
        try:
            located = kind.locate(source, self.govuk_base)
            start = StartMark(self.clock)
            try:
                # Validators are only worth sending when we hold the text they vouch for.
                validators = state.validators if state.snapshot_hash else None
                fetched = await self.egress.fetch(
                    located, validators, admit=ticket.take, on_start=start
                )
            except FetchError as exc:
                base = start.applied(base)
                return replace(base, result=base.failed(exc.reason, str(exc), exc.status))
            base = start.applied(base)
            base = replace(base, received=Received.of(fetched))
            moved = moved_away(replace(source, url=located), fetched)
            if moved:
                # The address now leads to another page: what is there is not the watched
                # page's next version, so it is a failed check (and a health alert), never a
                # change.
                why = f"{moved}; if the page moved for good, update this source's url"
                failed = base.failed("moved", why, fetched.status)
                return replace(base, received=None, result=failed)
            if fetched.not_modified:
                result = replace(base.ended(Outcome.not_modified), status=304, bytes=0)
                return replace(base, result=result)
            base = replace(base, body_hash=digest(fetched.body))
            if state.snapshot_hash and base.body_hash == state.body_hash and not kind.documents:
                # Same bytes as last time: skip parsing, the expensive part of a pass.
                return replace(base, result=base.ended(Outcome.unchanged))
            try:
                # Parsing is CPU work of up to seconds: off the event loop, so the web app and
                # other checks sharing it keep answering; at most `parsing` pages at once.
                async with limits.parsing:
                    extracted = await self.parser.read(fetched, source)
            except ExtractError as exc:
                size = len(fetched.body)
                result = base.failed(exc.reason, str(exc), fetched.status, size)
                return replace(base, result=result)
            return base, extracted
        finally:
            ticket.release()

    async def _compared(
        self, observed: Observed, kind: kinds.Kind, extracted: Extracted
    ) -> Observed:
        """The read page against the stored version: its diff and comparison, and at its first
        change what a second fetch shows varies."""
        source, state = observed.source, observed.state
        if kind.lists:
            return await self._listed(observed, extracted)
        if state.snapshot_hash is None:
            return observed  # the baseline; what varies is learned at its first change
        assert observed.snapshot is not None
        if observed.snapshot.hash == state.snapshot_hash:
            # The same text: nothing flows on to settle but the check itself.
            return replace(observed, snapshot=None, result=observed.ended(Outcome.unchanged))
        previous = self.store.snapshot(state.snapshot_hash)
        old = vol.side(previous)
        diff = diff_blocks(old.blocks, extracted.blocks, key=mask)
        comparison = vol.compare(old, vol.side(extracted), diff, source.order_matters)
        del extracted  # the snapshot and the comparison hold all that settle reads
        observed = replace(
            observed,
            previous_title=previous.title if previous else "",
            diff=diff,
            comparison=comparison,
            observation=vol.observe(comparison),
        )
        if (
            self.learn_on_first_check
            and not kind.documents  # an API answer does not rotate; its documents are not refetched
            and self.store.learned(source.name)[0] == 0
        ):
            # The first change since the baseline, and nothing learned yet: fetch once more.
            url = kind.locate(source, self.govuk_base)
            again = await learn_from_refetch(
                self.egress, observed, url, self.parser, self._limits()
            )
            observed = replace(observed, learned_now=again)
        return observed

    def _limits(self) -> Limits:
        """The bounds on pages read and held at once, made for the running loop (a checker
        outlives none, but a semaphore must not be shared between loops)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, Limits.of(self.parsing))
        return self._slots[1]

    async def _listed(self, observed: Observed, extracted: Extracted) -> Observed:
        """A listing-style source: the items it names for the first time, read through their
        own kinds when no source reported them yet (at its first check, only named)."""
        source = observed.source
        if observed.state.snapshot_hash is None:
            return replace(observed, items=tuple(ReadItem(i) for i in extracted.items))
        reported = self.store.reported(source.name)
        previous = self.store.snapshot(observed.state.snapshot_hash)
        items, waiting = await pubs.read_new(
            self.egress,
            source,
            extracted,
            reported,
            self.store.publication_known,
            self.govuk_base,
            self.new_per_pass,
        )
        updated = tuple(pubs.updated_items(previous, extracted, reported))
        return replace(observed, items=items, updated=updated, waiting=waiting)

    def settle(
        self, observed: Observed, host: HostEvidence, memory: tuple[int, Mapping[str, float]]
    ) -> CheckResult:
        """Judge the observed comparison and write the check's rows in one transaction."""
        source, received = observed.source, observed.received
        if observed.result is not None:
            if observed.result.outcome == Outcome.error:
                return self._record_failure(observed.result, source)
            validators = received.validators if received else None
            record = CheckRecord(validators=validators, body_hash=observed.body_hash)
            return self._done(observed.result, source, record)
        assert received is not None and observed.snapshot is not None
        snapshot = observed.snapshot

        def result(outcome: Outcome, change: Change | None = None) -> CheckResult:
            assert received is not None
            return CheckResult(
                source.name,
                outcome,
                observed.started_at,
                self._ms(observed),
                status=received.status,
                bytes=received.size,
                change=change,
                waited_ms=observed.waited_ms,
            )

        if kinds.kind(source.kind).lists:
            return self._settle_listing(observed, result)
        comparisons, slots = memory
        learned = vol.Learned(comparisons, slots, host)
        kept = CheckRecord(validators=received.validators, body_hash=observed.body_hash)
        if observed.state.snapshot_hash is None:
            record = replace(kept, snapshot=snapshot, slots=learned.slots, memory=slots)
            return self._done(result(Outcome.baseline), source, record)
        if observed.comparison is None or observed.observation is None:
            return self._done(result(Outcome.unchanged), source, kept)

        learned = vol.learn(learned, observed.observation)
        if observed.learned_now is not None:
            # What this check's two fetches taught, learned in the order they were fetched (the
            # baseline to the first, then the first to the second), before judging.
            learned = vol.learn(learned, observed.learned_now, weight=vol.SLOT_MIN_REPLACED)
        verdict = vol.judge(observed.comparison, learned)
        record = replace(
            kept,
            snapshot=snapshot,
            slots=learned.slots,
            memory=slots,
            comparisons=learned.comparisons,
            suppressed=len(verdict.suppressed),
        )
        if not verdict.diff:
            return self._done(result(Outcome.volatile), source, record)
        change = describe(observed, verdict.diff, self.classifier, self.topics)
        found = classify.deadlines(change.evidence, observed.started_at) if change.evidence else []
        record = replace(record, deadlines=tuple(found))
        return self._done(result(Outcome.changed, change), source, record)

    def _settle_listing(
        self, observed: Observed, result: Callable[[Outcome], CheckResult]
    ) -> CheckResult:
        """A listing's check: what it says of each publication, and no change of its own text
        (an item falling off the bottom of a listing is not news)."""
        source, received, snapshot = observed.source, observed.received, observed.snapshot
        assert received is not None and snapshot is not None
        # More new items than a pass reads: parse the same bytes again next time.
        body_hash = None if observed.waiting else observed.body_hash
        record = CheckRecord(validators=received.validators, body_hash=body_hash, snapshot=snapshot)
        outcome, found = pubs.listing_outcome(observed, self.classifier, self.alerting, self.topics)
        return self._done(result(outcome), source, record, found)

    def _ms(self, observed: Observed) -> int:
        return int((time.monotonic() - observed.t0) * 1000)

    def _record_failure(self, result: CheckResult, source: Source) -> CheckResult:
        self.store.record(result, health=self.alerting.health(source))
        return result

    def _done(
        self,
        result: CheckResult,
        source: Source,
        record: CheckRecord,
        publications: Sequence[Publication] = (),
    ) -> CheckResult:
        alerting = self.alerting
        deliveries: list[Delivery] = []
        if result.change is not None:
            thresholds = self.classifier.thresholds()
            deliveries = alerting.of_change(source, result.change, result.started_at, thresholds)
        change_id = self.store.record(
            result,
            validators=record.validators,
            body_hash=record.body_hash,
            snapshot=record.snapshot,
            targets=deliveries,
            health=alerting.health(source),
            slots=changed_evidence(record.memory, record.slots),
            forget=gone(record.memory, record.slots),
            comparisons=record.comparisons,
            suppressed=record.suppressed,
            deadlines=record.deadlines,
            publications=publications,
            follow_max=self.follow_max,
        )
        log.info(
            "checked",
            extra={
                "source": result.source,
                "outcome": result.outcome,
                "duration_ms": result.duration_ms,
                "waited_ms": result.waited_ms,
                "change_id": change_id,
                "suppressed": record.suppressed or None,
            },
        )
        return replace(result, change_id=change_id) if change_id is not None else result
