"""Classification of changes and the evidence behind it: pure, no I/O at classify time."""

from watcher.classify.evidence import Fact, extract_facts

__all__ = ["Fact", "extract_facts"]
