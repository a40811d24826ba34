"""Events stated in a sentence, whoever writes it: a consultation opened, money announced... Pure.

Each cue is the wording of an event, not of one publisher: "has launched a consultation", "bid
for a share of £20 million", "received Royal Assent", written the same way by a department, a
council, a charity or the trade press. A sentence's weight says how decisive it is: how strong
the cue, how early in the text (a lead sentence states what the page is about), and whether it
carries the fact that makes the event real (an amount for funding, a date for a consultation).
These weights are features of the category model, which learns how far to trust each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from watcher.categories import EVENT_CATEGORIES
from watcher.classify.evidence import MONEY, extract_facts, sentences

IC = re.I
EVENT_LABELS = EVENT_CATEGORIES
PUBLISH = (
    r"(?:publish(?:ed|es|ing)?|release[sd]?|launch(?:ed|es)?|unveil(?:ed|s)?|issue[sd]?|"
    r"announce[sd]?|set(?:s|ting)?\s+out|outline[sd]?|reveal(?:ed|s)?|introduce[sd]?|"
    r"adopt(?:ed|s)?|approve[sd]?|updated?|revised?|produced?)"
)
STRONG, MEDIUM, WEAK = 1.0, 0.6, 0.3


def _cue(pattern: str, strength: float, flags: int = IC) -> tuple[re.Pattern[str], float]:
    return re.compile(pattern, flags), strength


CUES: dict[str, tuple[tuple[re.Pattern[str], float], ...]] = {
    "consultation_open": (
        _cue(
            r"\b(?:launch\w*|open\w*|start\w*|begun|began|running|run)\b[^.]{0,60}"
            r"\b(?:consultation|call\s+for\s+evidence|calls\s+for\s+evidence)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:consultation|call\s+for\s+evidence|survey|inquiry)\b[^.]{0,50}"
            r"\b(?:is\s+(?:now\s+)?open|opens|opened|will\s+run|runs\s+(?:for|until)|closes|"
            r"will\s+close|is\s+seeking|seeks|invites|ends\s+on)\b",
            STRONG,
        ),
        _cue(
            r"\bclosing\s+date\b|\bdeadline\s+for\s+(?:responses|submissions|respond\w*|comments)\b"
            r"|\brespon(?:d|ses?)\s+(?:by|before|no\s+later)\b|\bsubmi\w+\s+(?:by|before)\b"
            r"|\bdays?\s+left\s+to\s+respond\b|\bviews\s+by\b",
            STRONG,
        ),
        _cue(
            r"\bhave\s+your\s+say\b|\btell\s+us\s+what\s+you\s+think\b|\b(?:share|give)\s+your\s+views\b"
            r"|\blike\s+your\s+views\b|\b(?:seek\w*|invit\w*|welcom\w*|asking\s+for)\s+(?:your\s+|the\s+)?"
            r"(?:views|responses|comments|evidence|written\s+(?:evidence|submissions)|submissions)\b"
            r"|\byou\s+can\s+(?:now\s+)?respond\b|\brespond\s+to\s+(?:the|this)\s+consultation\b"
            r"|\b(?:is|are)\s+consulting\b|\bconsulting\s+on\b|\bconsultation\s+on\s+(?:the\s+)?proposals?\b",
            MEDIUM,
        ),
    ),
    "consultation_outcome": (
        _cue(
            r"\b(?:\d[\d,]*\s+(?:written\s+)?responses?\s+(?:were|was|have\s+been)\s+received"
            r"|received\s+(?:a\s+total\s+of\s+)?\d[\d,]*\s+responses|there\s+were\s+\d[\d,]*\s+responses)\b"
            r"|\b\d[\d,]*\s+responses\b",
            STRONG,
        ),
        _cue(r"\b(?:summary|analysis)\s+of\s+(?:the\s+)?(?:consultation\s+)?responses\b", STRONG),
        _cue(
            r"\bconsultation\s+(?:response|outcome|results?|report|has\s+(?:now\s+)?closed|closed|"
            r"concluded|ran\s+(?:between|from))\b|\b(?:outcome|results?)\s+of\s+(?:the|this|our)\s+"
            r"(?:\w+\s+)?consultation\b|\bresponses?\s+to\s+(?:the|this|our)\s+(?:\w+\s+)?consultation\b",
            STRONG,
        ),
        _cue(
            r"\b(?:government|council|department)(?:['’]s)?\s+response\b|\bfollowing\s+(?:the|a)\s+"
            r"consultation\b|\bresponses\s+(?:received|were\s+analysed)\b|\bsummaris\w+\s+the\s+responses\b",
            MEDIUM,
        ),
    ),
    "funding": (
        _cue(
            r"\b(?:bid|apply|applications?|applying|eligible)\s+for\s+(?:a\s+share\s+of|funding|"
            r"(?:a\s+)?grants?|the\s+fund|capital|up\s+to\s+£)|\bshare\s+of\s+(?:a\s+|the\s+)?(?:new\s+)?"
            r"(?:over\s+|more\s+than\s+|up\s+to\s+)?£",
            STRONG,
        ),
        _cue(
            r"\b(?:award\w*|receiv\w*|allocat\w*|commit\w*|confirm\w*|invest\w*|pledg\w*|granted|"
            r"made|make|provid\w*|announc\w*|gets?|secured|given|worth|backed\s+by|boost\w*)\b"
            r"[^.]{0,40}£\s?\d",
            STRONG,
        ),
        _cue(
            r"£\s?[\d.,]+\s*(?:bn|billion|m|million|k)?\s+(?:of\s+)?(?:new\s+|additional\s+|extra\s+|"
            r"government\s+|national\s+lottery\s+)?(?:funding|fund|investment|grants?|allocation|boost|"
            r"pot|package|programme|scheme)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:grants?|funding|fund)\s+(?:programme|scheme|stream|round|competition|call|pot)\b"
            r"|\b(?:fund|grants?|funding|bids?|applications?)\s+(?:is|are)\s+(?:now\s+)?open\b"
            r"|\bbids?\s+have\s+opened\b",
            MEDIUM,
        ),
        _cue(r"\bfunding\b|\bgrants?\b|\bfinancial\s+(?:assistance|support)\b", WEAK),
    ),
    "strategy": (
        _cue(
            rf"\b{PUBLISH}\b[^.]{{0,70}}\b(?:strateg(?:y|ies)|white\s+paper|green\s+paper|action\s+plan|"
            r"(?:\w+\s+)?plan|roadmap|vision)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:strategy|white\s+paper|green\s+paper|plan|roadmap)\b[^.]{0,30}\b(?:sets?\s+out|"
            r"outlines?|has\s+been\s+(?:published|launched|adopted|approved)|was\s+(?:published|"
            r"launched|adopted|approved))\b",
            STRONG,
        ),
        _cue(
            r"\b(?:national|new|government['’]?s?|our|council['’]?s?|\d+-year|long[- ]term)\s+(?:\w+\s+){0,3}"
            r"(?:strategy|plan)\b|\bstrategic\s+(?:plan|vision|framework)\b|\b(?:white|green)\s+paper\b",
            MEDIUM,
        ),
        _cue(
            r"\bsets?\s+out\s+(?:its|the|our|their)\s+(?:\w+\s+)?(?:plans?|vision|ambitions?|"
            r"priorities|approach)\b|\bpolicy\s+paper\b",
            MEDIUM,
        ),
    ),
    "guidance": (
        _cue(
            rf"\b{PUBLISH}\b[^.]{{0,60}}\b(?:guidance|guide|code\s+of\s+practice|toolkit|practice\s+note)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:guidance|guide|code\s+of\s+practice)\b[^.]{0,25}\b(?:has\s+been\s+|was\s+|is\s+)?"
            r"(?:published|updated|revised|issued|sets?\s+out|explains|applies|replaces|is\s+for)\b"
            r"|\b(?:this|the)\s+(?:guidance|guide|procedure|chapter|page|document)\s+(?:sets\s+out|"
            r"explains|provides|describes|aims|covers|is\s+(?:for|intended))\b",
            STRONG,
        ),
        _cue(
            r"\b(?:statutory|updated|revised|new|practice|draft|non-statutory)\s+guidance\b", MEDIUM
        ),
        _cue(
            r"\b(?:you|providers|schools|local\s+authorities|practitioners|staff|social\s+workers)\s+"
            r"(?:must|should|will\s+need\s+to|need\s+to)\b|\bif\s+you\b",
            WEAK,
        ),
    ),
    "report": (
        _cue(
            rf"\b{PUBLISH}\b[^.]{{0,60}}\b(?:reports?|research|study|evaluation|statistics|figures|"
            r"data|findings|analysis|survey|inspection|audit|review)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:report|study|research|survey|evaluation|review|analysis|inspection|figures|"
            r"statistics|data|inspectors|findings)\b[^.]{0,30}\b(?:shows?|showed|shown|found|finds|"
            r"reveal\w*|suggests?|highlights?|conclude[sd]?|rated|judged|indicate[sd]?)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:annual|final|interim|inspection|research|evaluation)\s+report\b|\bstatistical\s+"
            r"(?:first\s+)?release\b|\b(?:official|national)\s+statistics\b|\b(?:this|the)\s+(?:report|"
            r"study|review|evaluation|release)\s+(?:provides|presents|sets\s+out|summarises|examines|"
            r"looks\s+at|considers)\b",
            MEDIUM,
        ),
        _cue(r"\bper\s+cent\b|\d%|\byear\s+ending\b", WEAK),
    ),
    "legislation": (
        _cue(
            r"\b(?:bill|act|legislation)\b[^.]{0,60}\b(?:royal\s+assent|(?:first|second|third)\s+reading|"
            r"committee\s+stage|report\s+stage|introduced|laid|enacted|became\s+law|passed|"
            r"signed\s+into\s+law|statute\s+book)\b|\broyal\s+assent\b",
            STRONG,
        ),
        _cue(
            r"\b(?:regulations?|order|rules)\s+(?:\d{4}\s+)?(?:may\s+be\s+cited|comes?\s+into\s+force|"
            r"came\s+into\s+force|were\s+laid|(?:was|were|have\s+been)\s+made)\b|\blaid\s+before\s+"
            r"parliament\b|\bstatutory\s+instruments?\b|\bS\.?I\.?\s+\d{4}/\d+\b|\bexplanatory\s+"
            r"memorandum\b|\bbe\s+it\s+enacted\b|\bcommencement\s+(?:no|order|regulations)\b",
            STRONG,
        ),
        _cue(
            r"\b(?:[A-Z][\w’']+\s+){1,6}(?:Bill|Act\s+\d{4})\b|\bAn\s+Act\s+to\b|\bamendments?\b",
            MEDIUM,
            0,
        ),
    ),
    "news": (
        _cue(
            r"\b(?:responding|responds?|reacting|reacts?|reactions?)\s+to\b|\bin\s+response\s+to\b"
            r"|\bcalled\s+on\b"
            r"|\bcalls?\s+on\b|\burg(?:ed|es)\b|\bwarn(?:ed|s)\b|\bcriticis\w+\b|\bwelcom(?:ed|es)\b",
            MEDIUM,
        ),
        _cue(r"\b(?:said|says|added|commented|told)\b[:,]?|[“\"][^”\"]{20,}[”\"]", WEAK),
    ),
}
# The fact that makes an event real: the amount of a grant, the closing date of a consultation.
BACKED_BY = {"funding": ("money",), "consultation_open": ("deadline", "date")}
LEAD = 3  # the first sentences state what a page is about
TITLE_WEIGHT = 1.0


@dataclass(frozen=True)
class Event:
    """One event stated in one sentence, and how decisive that sentence is."""

    label: str
    sentence: str
    weight: float
    index: int  # the sentence's number in the text (-1: the title)


def _sentence_events(sentence: str, index: int) -> list[Event]:
    found = []
    kinds: set[str] | None = None
    position = 1.0 if index < LEAD else 0.7
    for label, cues in CUES.items():
        strength = max((s for cue, s in cues if cue.search(sentence)), default=0.0)
        if not strength:
            continue
        if label in BACKED_BY:
            if kinds is None:
                kinds = {f.kind for f in extract_facts(sentence)} if _has_fact(sentence) else set()
            if kinds & set(BACKED_BY[label]):
                strength = min(1.0, strength * 1.3)
        found.append(Event(label, sentence, round(strength * position, 3), index))
    return found


def _has_fact(sentence: str) -> bool:
    return bool(MONEY.search(sentence)) or any(ch.isdigit() for ch in sentence)


def events(text: str, title: str = "") -> list[Event]:
    """Every event stated in the title and in each sentence of `text`, in order."""
    out = [
        Event(e.label, e.sentence, TITLE_WEIGHT * e.weight, -1)
        for e in _sentence_events(title, 0)
        if title
    ]
    for index, sentence in enumerate(_sentences(text)):
        out += _sentence_events(sentence, index)
    return out


def _sentences(text: str) -> Iterable[str]:
    for line in text.splitlines():
        yield from sentences(line.lstrip("#- "))


def strongest(found: Iterable[Event]) -> dict[str, Event]:
    """Per label, the most decisive sentence stating it (the earliest among equals)."""
    best: dict[str, Event] = {}
    for event in found:
        if event.index < 0:
            continue  # the title names a topic; evidence is a sentence of the text
        held = best.get(event.label)
        if held is None or event.weight > held.weight:
            best[event.label] = event
    return best


def features(found: Iterable[Event]) -> dict[str, float]:
    """Per label: all sentences together (noisy-or), the lead sentences, the title."""
    missing: dict[str, float] = {}
    lead: dict[str, float] = {}
    title: dict[str, float] = {}
    for e in found:
        if e.index < 0:
            title[e.label] = max(title.get(e.label, 0.0), e.weight)
            continue
        missing[e.label] = missing.get(e.label, 1.0) * (1.0 - 0.8 * e.weight)
        if e.index < LEAD:
            lead[e.label] = max(lead.get(e.label, 0.0), e.weight)
    out = {f"any:{label}": 1.0 - m for label, m in missing.items()}
    out.update({f"lead:{label}": w for label, w in lead.items()})
    out.update({f"title:{label}": w for label, w in title.items()})
    return {k: round(v, 4) for k, v in out.items() if not math.isclose(v, 0.0)}


FEATURE_NAMES = tuple(
    f"{kind}:{label}" for kind in ("any", "lead", "title") for label in EVENT_LABELS
)
