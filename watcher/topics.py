"""Topics a team follows (`[[topic]]` in sources.toml), and which of them a change's text is
about, each with the sentence that says so. Pure.

Matching is on whole words, case-insensitive, with light stemming, so the phrase "foster carer"
matches "Foster carers" and "fostering" matches "fostered": a word loses a possessive, a plural
and an -ing or -ed ending, then a final "e" and a doubled final consonant, and a phrase matches
where its words stand in a row in one sentence. An `exclude` phrase in the same sentence vetoes
that sentence for the topic (another sentence of the change may still match).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from watcher.classify.evidence import sentences

WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
VOWELS = frozenset("aeiouy")
MAX_SENTENCE = 400  # characters of a matching sentence kept as evidence


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A word's light stem: "carers" → "carer", "fostering" → "foster", "homes" → "hom"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.rstrip("'")
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("eed"):  # "agreed" as "agree"
        w = w[:-1]
    elif len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in VOWELS and w[-1].isalpha():
        w = w[:-1]
    return w


def words(text: str) -> tuple[str, ...]:
    """The stemmed words of `text`, in order."""
    return tuple(stem(w) for w in WORD.findall(text.lower()))


@dataclass(frozen=True)
class Topic:
    """A subject the team follows: any phrase or synonym matches, unless an exclude phrase is
    in the same sentence."""

    name: str
    phrases: tuple[str, ...]
    synonyms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _find: tuple[tuple[str, ...], ...] = field(default=(), init=False, repr=False, compare=False)
    _veto: tuple[tuple[str, ...], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        find = tuple(w for w in (words(p) for p in (*self.phrases, *self.synonyms)) if w)
        veto = tuple(w for w in (words(p) for p in self.exclude) if w)
        object.__setattr__(self, "_find", find)
        object.__setattr__(self, "_veto", veto)

    def matches(self, sentence: str) -> bool:
        """Whether `sentence` is about this topic (and names none of its exclusions)."""
        return self.matches_words(words(sentence))

    def matches_words(self, found: Sequence[str]) -> bool:
        """`matches`, for a sentence already cut into stemmed words."""
        return any(_contains(found, p) for p in self._find) and not any(
            _contains(found, p) for p in self._veto
        )


def _contains(found: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    first = phrase[0]
    return any(
        found[i] == first and tuple(found[i : i + n]) == tuple(phrase)
        for i in range(len(found) - n + 1)
    )


def tag(
    topics: Sequence[Topic], added: Iterable[str], removed: Iterable[str] = ()
) -> tuple[tuple[str, str], ...]:
    """Every topic the added or removed text matches, in the configured order, each with the
    first sentence that matched (added text looked at before removed; a heading's or a list
    item's marks left off)."""
    if not topics:
        return ()
    blocks = (" ".join(block.lstrip("#- ").split()) for block in (*added, *removed))
    said = [(s, words(s)) for block in blocks for s in sentences(block)]
    out: list[tuple[str, str]] = []
    for topic in topics:
        sentence = next((s for s, found in said if topic.matches_words(found)), None)
        if sentence is not None:
            out.append((topic.name, _cut(sentence)))
    return tuple(out)


def _cut(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"
