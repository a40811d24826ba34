"""Checking one source end to end: fetch, extract, diff, judge, then one transaction in the store.

A check has two halves. `observe` does the I/O and the pure work up to a raw diff; `settle`
judges that diff against what was learned and writes the outcome. A pass over many sources
observes them all first, so a site's template churn is known before any page of it is judged.
"""

from __future__ import annotations

from watcher.clock import Clock, utcnow
from watcher.pipeline.alerting import Alerting
from watcher.pipeline.change import describe
from watcher.pipeline.checker import Checker
from watcher.pipeline.observed import (
    HostEvidence,
    Observed,
    changed_evidence,
    digest,
    gone,
)

__all__ = [
    "Alerting",
    "Checker",
    "Clock",
    "HostEvidence",
    "Observed",
    "changed_evidence",
    "describe",
    "digest",
    "gone",
    "utcnow",
]
