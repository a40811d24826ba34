"""Classification of changes and the evidence behind it: pure, no I/O at classify time."""

from watcher.classify.evidence import deadlines, extract_facts, gather
from watcher.models import Deadline, Evidence, Fact

__all__ = ["Deadline", "Evidence", "Fact", "deadlines", "extract_facts", "gather"]
