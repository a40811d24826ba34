"""Masks for text that is volatile by nature, so it cannot make a change. Pure.

Each rule names a kind of volatility, not a site: clock readings with seconds, "3 minutes ago",
counters of views or comments, opaque tokens and hashes, cache-busting query strings. The mask
is used only to compare blocks; what is stored and shown is the page's own text.

Money, dates, deadlines and other numbers are never masked: they are what matters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from watcher import patterns

COUNTED = (
    r"comments?|views?|page\s?views|shares?|likes?|reads?|replies|repl(?:y|ies)|followers?|reactions?|"
    r"retweets?|reposts?|votes?|visitors?|subscribers?|downloads?|clicks?|hits|impressions|"
    r"people\s+(?:reading|viewing|online)|online|watching"
)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]


RULES: tuple[Rule, ...] = (
    # "[p. 3] " before a PDF's paragraph (kinds/pdf.py): a paragraph moved to another page by an
    # edit above it is the same paragraph.
    Rule("pdf-page", re.compile(r"^\[p\. \d{1,5}\] "), ""),
    # 12:04:59, 12:04:59.123, 2026-11-23T12:04:59Z: a reading of the clock, not a deadline.
    Rule(
        "clock",
        re.compile(
            r"(?<!\d)\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?[ap]\.?m\.?)?(?:\s?(?:Z|UTC|GMT|BST|[+-]\d{2}:?\d{2}))?\b",
            re.I,
        ),
        "<clock>",
    ),
    # "Generated at 12:04", "updated 09:30 today": a time after a generation/refresh cue.
    Rule(
        "stamp",
        re.compile(
            r"\b(generated|rendered|cached|refreshed|served|loaded|fetched|built|last\s+updated|updated)(\s+(?:at|on))?\s+\d{1,2}[:.]\d{2}(?:\s?[ap]\.?m\.?)?\b",
            re.I,
        ),
        r"\1 <time>",
    ),
    # "3 minutes ago", "an hour ago", "just now", "posted yesterday" style relative times.
    Rule(
        "ago",
        re.compile(
            r"\b(?:\d+|a|an|one|a few|few|several)\s+(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b|\bjust\s+now\b|\bmoments?\s+ago\b",
            re.I,
        ),
        "<ago>",
    ),
    Rule("ago-short", re.compile(r"\b\d+\s?(?:s|m|h|d|w|mo|y)\s+ago\b", re.I), "<ago>"),
    # Ages told in words on listings: "Published today" becomes "yesterday", then "last week".
    # Only words that age by themselves: "tomorrow" or "next week" state a deadline, and stay.
    Rule(
        "ago-words",
        re.compile(
            r"\b(?:(?:earlier\s+)?today|yesterday|tonight|last\s+night"
            r"|this\s+(?:morning|afternoon|evening|week)|last\s+(?:week|month)"
            r"|(?:a|an|one)\s+(?:day|week|month)\s+ago)\b",
            re.I,
        ),
        "<ago>",
    ),
    # "1,234 views", "12 comments", "Comments (12)", "Views: 1.2k".
    Rule(
        "counter",
        re.compile(rf"\b\d[\d,.]*\s?[kKmM]?\s+(?:{COUNTED})\b", re.I),
        lambda m: "<n> " + m.group(0).split()[-1].lower(),
    ),
    Rule(
        "counter-label",
        re.compile(rf"\b({COUNTED})\s*[:(]\s*\d[\d,.]*\s?[kKmM]?\)?", re.I),
        lambda m: m.group(1).lower() + " <n>",
    ),
    # UUIDs, long hex digests, and long mixed-case/digit tokens (session ids, CSRF, nonces).
    Rule(
        "uuid",
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<token>",
    ),
    Rule("hex", re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b", re.I), "<token>"),
    Rule(
        "token",
        re.compile(
            # 20+ letters and digits, with three upper-case letters or digits after the first
            # character: session ids and nonces look so, words and names do not.
            r"(?<![\w/-])(?=[A-Za-z0-9_]*[a-z])[A-Za-z0-9_](?=(?:[a-z_]*[A-Z0-9]){3})[A-Za-z0-9_]{19,}={0,2}(?![\w/-])"
        ),
        "<token>",
    ),
    # Cache-busting parameters in URLs shown as text: ?v=123, &_=169..., ?cb=abc.
    Rule(
        "cachebust",
        re.compile(
            r"([?&])(?:v|ver|version|_|cb|cachebust(?:er)?|ts|timestamp|t|rand|r|nocache|bust)=[\w.-]+",
            re.I,
        ),
        r"\1",
    ),
)


@lru_cache(maxsize=65536)  # a pass compares, shapes and anchors the same blocks several times
def mask(text: str) -> str:
    """The comparison form of a block: volatile tokens replaced by placeholders."""
    for rule in RULES:
        text = rule.pattern.sub(rule.replace, text)
    return text


def masked_by(text: str) -> list[str]:
    """Names of the rules that change `text` (for `watcher explain`)."""
    hits = []
    for rule in RULES:
        if rule.pattern.search(text):
            hits.append(rule.name)
    return hits


# Shared with classify/evidence.py (watcher/patterns.py).
MONEY = patterns.MONEY_MENTION
DATE = patterns.DATE_MENTION


@lru_cache(maxsize=65536)  # the guard reads every block of both versions of each changed page
def facts(text: str) -> tuple[str, ...]:
    """The money amounts and dates in `text`, in order: what a change must never lose silently."""
    found = [(m.start(), m.group(0).lower()) for m in MONEY.finditer(text)]
    found += [(m.start(), m.group(0).lower()) for m in DATE.finditer(text)]
    return tuple(value for _, value in sorted(found))
