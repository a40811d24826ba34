"""Rules-only scores from GOV.UK wording: the page-type decision list, cue phrases in each
sentence, the title and the URL path. Pure.

The first classifier (issue 5). With a model, these scores are features the model weighs; without
one, they rank the categories themselves.
"""

from __future__ import annotations

import re

from watcher.classify.evidence import extract_facts, sentences
from watcher.classify.pagetype import page_type

IC = re.I
CUES: dict[str, tuple[re.Pattern[str], ...]] = {
    "strategy": (
        re.compile(r"\b(?:national\s+)?strateg(?:y|ies)\b", IC),
        re.compile(r"\bpolicy\s+paper\b|\b(?:white|green)\s+paper\b", IC),
        re.compile(
            r"\bimplementation\s+(?:plan|strategy)\b|\bplan\s+for\s+\w+(?:\s+\w+){0,3}\s+reform\b",
            IC,
        ),
        re.compile(
            r"\bsets?\s+out\s+(?:its|the|our|their)\s+(?:plans?|vision|approach|ambitions?)\b", IC
        ),
    ),
    "consultation_open": (
        re.compile(
            r"\b(?:launch(?:ed|es)?|open(?:ed|s)?)\b[^.]{0,60}\b(?:consultations?|call\s+for\s+evidence)\b",
            IC,
        ),
        re.compile(
            r"\b(?:consultations?|call\s+for\s+evidence)\b[^.]{0,40}\b(?:is\s+open|opens|closes|will\s+close|runs\s+until)\b",
            IC,
        ),
        re.compile(
            r"\bdeadline\s+for\s+respon\w+|\brespond\s+(?:by|before|online)\b|\bhave\s+your\s+say\b",
            IC,
        ),
        re.compile(
            r"\b(?:seeking|inviting|welcomes?)\s+(?:your\s+)?(?:views|evidence|responses)\b", IC
        ),
    ),
    "consultation_outcome": (
        re.compile(r"\bconsultation\s+(?:has\s+)?(?:closed|concluded|outcome|response)\b", IC),
        re.compile(
            r"\bgovernment(?:['’]s)?\s+response\b|\bresponse\s+to\s+(?:the|this|our)\s+consultation\b",
            IC,
        ),
        re.compile(r"\b(?:summary|analysis)\s+of\s+(?:the\s+)?responses\b", IC),
    ),
    "funding": (
        re.compile(
            r"\b(?:backed|funded)\s+by\s+£|\bworth\s+£|\b(?:investment|injection|allocation)\s+of\s+(?:around\s+)?£",
            IC,
        ),
        re.compile(
            r"£[\d.,]+\s*(?:bn|billion|m|million)?\s+(?:of\s+)?(?:new\s+)?(?:funding|investment|grants?)\b",
            IC,
        ),
        re.compile(
            r"\b(?:grant|fund(?:ing)?)\s+(?:scheme|programme|round|competition)\b|\bapply\s+for\s+(?:a\s+)?(?:grant|funding)\b",
            IC,
        ),
    ),
    "guidance": (
        re.compile(
            r"\b(?:statutory\s+)?guidance\s+(?:has\s+been\s+|was\s+)?(?:updated|published|revised|amended)\b",
            IC,
        ),
        re.compile(r"\b(?:updated|new|revised|statutory)\s+guidance\b", IC),
        re.compile(r"\b(?:local\s+authorities|providers|you)\s+(?:must|should)\b", IC),
    ),
    "report": (
        re.compile(
            r"\b(?:final\s+)?report\s+(?:was\s+|has\s+been\s+)?(?:published|finds|found|shows|sets\s+out)\b",
            IC,
        ),
        re.compile(
            r"\bpublished\s+(?:its|their|the)\s+(?:final\s+)?(?:report|review|evaluation|research|statistics)\b",
            IC,
        ),
        re.compile(
            r"\b(?:official\s+)?statistics\b|\b(?:research|evaluation)\s+(?:report|findings)\b|\bsurvey\s+(?:found|finds)\b",
            IC,
        ),
    ),
    "legislation": (
        re.compile(
            r"\b(?:bill|act)\s+(?:receives?|received|has\s+received)\s+royal\s+assent\b|\bsecond\s+reading\b",
            IC,
        ),
        re.compile(
            r"\bstatutory\s+instrument\b|\bregulations\s+(?:come|came)\s+into\s+force\b|\b[A-Z]\w+\s+Bill\b"
        ),
    ),
    "news": (
        re.compile(r"\b(?:said|says|added|commented)\b[:,]?|[“\"][^”\"]{20,}[”\"]", IC),
        re.compile(
            r"\b(?:welcomes?d?|reacts?|reaction|responds?\s+to|urges?|calls?\s+(?:on|for)|criticis\w+)\b",
            IC,
        ),
        re.compile(r"\bpress\s+release\b|\bnews\s+story\b|\bannounced\s+today\b", IC),
    ),
}
TITLE_CUES: dict[str, re.Pattern[str]] = {
    "strategy": re.compile(r"\bstrateg|\bplan\b|\bpolicy\s+paper\b|white\s+paper", IC),
    "consultation_open": re.compile(r"\bconsultation\b|\bcall\s+for\s+evidence\b", IC),
    "consultation_outcome": re.compile(r"\bresponse\b|\boutcome\b", IC),
    "funding": re.compile(r"\bfund|\bgrant", IC),
    "guidance": re.compile(r"\bguidance\b|\bguide\b", IC),
    "report": re.compile(r"\breport\b|\bstatistics\b|\bresearch\b|\breview\b", IC),
    "news": re.compile(
        r"\breaction\b|\bresponds?\b|\bsaying\b|\bsays\b|\bcomment|\bnews\b|\bfeature", IC
    ),
}
URL_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/consultations?/|/calls?-for-evidence/"), "consultation_open"),
    (re.compile(r"/guidance/|/guide/"), "guidance"),
    (re.compile(r"/statistics/|/research/"), "report"),
    (re.compile(r"/news/|/world-location-news/|/speeches/|/press-releases?/|/blog/"), "news"),
)


PAGE_TYPE_WEIGHT = {"stated": 6.0, "high": 3.0, "low": 1.5}
FACT_BACKED = (("consultation_open", "deadline"), ("funding", "money"))
FACT_WEIGHT = 1.5
CONSULTATION_STATES = {
    "consultation_open": "consultation_outcome",
    "consultation_outcome": "consultation_open",
}


def wording_scores(
    text: str,
    title: str = "",
    url: str = "",
    description: str = "",
    said: tuple[str, str] | None = None,
    change: bool = False,
    kind: tuple[str, str, str] | bool | None = True,
) -> tuple[dict[str, float], dict[str, str]]:
    """Each category's score and the first sentence that cued it (`kind`: the page type when
    already known, True to find it)."""
    scores: dict[str, float] = {}
    found: dict[str, str] = {}
    if kind is True or kind is False:
        kind = page_type(title, description, text)
    if said is not None:
        kind = (said[0], "stated", said[1])
    if kind is not None:
        label, strength, _ = kind
        scores[label] = PAGE_TYPE_WEIGHT[strength]
    for sentence in sentences(text):
        fired = []
        for label, cues in CUES.items():
            hits = sum(1 for cue in cues if cue.search(sentence))
            if hits:
                scores[label] = scores.get(label, 0.0) + min(hits, 2)
                found.setdefault(label, sentence)
                fired.append(label)
        # What a policy officer acts on: a closing date for responses, an amount of funding.
        # The sentence that states one outweighs what the page's title suggests.
        # Only for a change: a whole page is better judged by what kind of page it is.
        kinds = {f.kind for f in extract_facts(sentence)} if change and fired else set()
        for label, fact_kind in FACT_BACKED:
            if label in fired and fact_kind in kinds:
                scores[label] += FACT_WEIGHT
    for label, cue in TITLE_CUES.items():
        if title and cue.search(title):
            scores[label] = scores.get(label, 0.0) + 1.5
    for cue, label in URL_CUES:
        if cue.search(url):
            scores[label] = scores.get(label, 0.0) + 1.0
    if kind is not None and kind[1] != "low" and kind[0] in CONSULTATION_STATES:
        # The page's own banner ("This consultation closes at...", "Read the full outcome")
        # settles open versus outcome; the other state's cues are only the word "consultation".
        other = CONSULTATION_STATES[kind[0]]
        if other in scores:
            scores[kind[0]] = scores.get(kind[0], 0.0) + scores.pop(other) / 2
    return scores, found
