"""Classification of changes and the evidence behind it: pure, no I/O at classify time."""

from watcher.classify.evidence import deadlines, extract_facts, gather
from watcher.classify.rules import LABELS, Category, classify
from watcher.models import Deadline, Evidence, Fact

__all__ = [
    "LABELS",
    "Category",
    "Deadline",
    "Evidence",
    "Fact",
    "classify",
    "deadlines",
    "extract_facts",
    "gather",
]
