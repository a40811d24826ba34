"""Minor edits: what changed is spelling, spacing, punctuation or a "last updated" stamp. Pure.

A minor edit is recorded as a change of category "minor" and alerts no one unless a route asks
for that category. The test is narrow on purpose, since a missed change is the worst failure: a
word added or dropped ("will not fund"), a digit changed, or any word rewritten beyond a typo
makes the change an ordinary one.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from watcher.patterns import MONTH

STAMP_DATE = (
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTH})\s+\d{{4}}|(?:{MONTH})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
)
# "Last updated 3 May 2027", "Page last reviewed: 03/05/2027", "Updated on May 3, 2027"
STAMP = re.compile(
    rf"\b(?:page\s+)?(?:last\s+)?(?:updated|reviewed|modified)(?:\s+on)?\s*:?\s*(?:{STAMP_DATE})"
    rf"(?:\s*(?:at\s+)?\d{{1,2}}[:.]\d{{2}}\s*(?:[ap]\.?m\.?)?)?",
    re.I,
)
# Punctuation, except between digits ("£9.5m", "1,200"), where it is part of a number.
PUNCTUATION = re.compile(r"(?<!\d)[^\w\s£$€%]|[^\w\s£$€%](?!\d)")
TYPO_RATIO = 0.8  # a misspelt word keeps at least this share of its letters in order
MAX_TYPOS = 2


def _plain(text: str) -> str:
    text = STAMP.sub(" <stamp> ", text)
    return " ".join(PUNCTUATION.sub(" ", text).casefold().split())


def is_minor(added: str, removed: str) -> bool:
    """Whether a change's added and removed text differ only in typos, case, spacing,
    punctuation or a "last updated" stamp."""
    a, r = _plain(added), _plain(removed)
    if a == r:
        return True
    wa, wr = a.split(), r.split()
    if len(wa) != len(wr):
        return False
    typos = [(x, y) for x, y in zip(wa, wr, strict=True) if x != y]
    return len(typos) <= MAX_TYPOS and all(
        not any(ch.isdigit() for ch in x + y)
        and SequenceMatcher(None, x, y, autojunk=False).ratio() >= TYPO_RATIO
        for x, y in typos
    )
