"""Facts in a change's text: money amounts, dates and deadlines, named documents, organisations. Pure.

Each fact keeps its span in the text it came from, so a page or an alert can quote it exactly.
UK formats: £1.5bn, £200m, £27 million, £45,000 (and $, €, "45,000 pounds"); 11 May 2023, 11th May, 11/05/2023 (day first),
May 2023, "by the end of the year".
"""

from __future__ import annotations

import re
from datetime import date, datetime

from watcher import patterns
from watcher.models import Deadline, Evidence, Fact

# The money and date patterns are shared with normalise.py (watcher/patterns.py).
MONTHS = patterns.MONTHS
SCALE = patterns.SCALE
MONEY = patterns.MONEY_AMOUNT
DATE_DMY = patterns.DATE_DMY
DATE_MDY = patterns.DATE_MDY
DATE_NUM = patterns.DATE_NUM
DATE_ISO = patterns.DATE_ISO
MONTH_YEAR = patterns.MONTH_YEAR
VAGUE = re.compile(
    r"\b(?:by|before|until)\s+the\s+end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:year|month|(?:19|20)\d{2}|spring|summer|autumn|winter)\b"
    r"|\b(?:later|early|earlier)\s+(?:this|next)\s+year\b|\bin\s+the\s+coming\s+(?:weeks|months)\b",
    re.I,
)
DEADLINE_CUE = re.compile(
    r"(?:clos(?:e|es|ing|ed)|deadline|due|responses?\s+(?:by|before)|respond\s+by|submit\w*\s+by|"
    r"ends?|until|no\s+later\s+than|by)\s*(?:date\s*)?(?:is|was|for\s+\w+(?:\s+\w+){0,4}\s+is|on|at|:)?\s*"
    r"(?:\d{1,2}(?::\d{2})?\s?(?:am|pm)\s+(?:on\s+)?)?(?:the\s+)?(?:\w+day,?\s+)?$",
    re.I,
)
DOC_WORDS = (
    r"Strategy|Framework|Review|Plan|Programme|Bill|Act|Guidance|Report|Fund|Consultation|"
    r"White\s+Paper|Green\s+Paper|Standards|Dashboard|Pathfinder|Reforms?|Response|Regulations"
)
CAP = r"(?:[A-Z][\w’'-]*|of|for|the|on|in|to|&)"
DOCUMENT = re.compile(rf"\b(?:[A-Z][\w’'-]*\s+)(?:{CAP}\s+){{0,6}}(?:{DOC_WORDS})\b")
# Names that carry punctuation a title-case pattern cannot span; a default, extended per team later.
KNOWN_NAMES = (
    "Stable Homes, Built on Love",
    "Championing Kinship Care",
    "Families First for Children",
    "Keeping Children Safe in Education",
    "Working Together to Safeguard Children",
)
KNOWN = re.compile("|".join(re.escape(n) for n in KNOWN_NAMES), re.I)
QUOTED = re.compile(r"[“\"‘']([A-Z][^“”\"‘’']{3,80}?)[”\"’'](?!\w)")
ORG = re.compile(
    r"\b(?:Department\s+(?:for|of)\s+(?:[A-Z][\w,]*(?:\s+(?:and\s+)?[A-Z][\w]*)*)|"
    r"Ministry\s+of\s+[A-Z]\w+(?:\s+(?:and\s+)?[A-Z]\w+)*|"
    r"(?:HM\s+)?Treasury|Ofsted|Cabinet\s+Office|Home\s+Office|Local\s+Government\s+Association|"
    r"(?:[A-Z][\w’'-]*\s+){1,4}(?:Council|Foundation|Trust|Network|Association|Alliance|Commission|Group|Charity|Society))\b"
    r"|\b(?:DfE|DHSC|DLUHC|MHCLG|LGA|ADCS|NSPCC|CoramBAAF|Become|Kinship)\b"
)


def _money(text: str) -> list[Fact]:
    out: list[Fact] = []
    signed = list(MONEY.finditer(text))
    worded = [
        m
        for m in patterns.MONEY_IN_WORDS.finditer(text)
        if not any(m.start() < s.end() and s.start() < m.end() for s in signed)
    ]
    for m in sorted(signed + worded, key=lambda m: m.start()):
        number = float(m.group("num").replace(",", ""))
        scale = SCALE.get((m.group("scale") or "").lower(), 1.0)
        out.append(
            Fact(
                "money",
                m.group(0).strip(),
                m.start(),
                m.start() + len(m.group(0).rstrip()),
                f"{number * scale:.0f}",
            )
        )
    return out


def _iso(year: str | None, month: int, day: int) -> str | None:
    if year and len(year) == 2:
        year = "20" + year
    try:
        if year:
            return date(int(year), month, day).isoformat()
        date(2000, month, day)  # a leap year, so 29 February stands
        return f"--{month:02d}-{day:02d}"
    except ValueError:
        return None


def _dates(text: str) -> list[Fact]:
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], month: int, day: int, year: str | None) -> None:
        if any(m.start() < e and s < m.end() for s, e in taken):
            return
        iso = _iso(year, month, day)
        if iso is None:
            return
        taken.append((m.start(), m.end()))
        found.append(Fact("date", m.group(0), m.start(), m.end(), iso))

    for m in DATE_ISO.finditer(text):
        add(m, int(m.group("month")), int(m.group("day")), m.group("year"))
    for m in DATE_NUM.finditer(text):
        day, month = int(m.group("day")), int(m.group("month"))
        if month > 12 >= day:  # "3/27/2023": an American date, month first
            day, month = month, day
        add(m, month, day, m.group("year"))
    for rx in (DATE_DMY, DATE_MDY):
        for m in rx.finditer(text):
            add(m, MONTHS[m.group("month").lower()[:3]], int(m.group("day")), m.group("year"))
    for m in MONTH_YEAR.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e in taken):
            taken.append((m.start(), m.end()))
            found.append(
                Fact(
                    "date",
                    m.group(0),
                    m.start(),
                    m.end(),
                    f"{m.group('year')}-{MONTHS[m.group('month').lower()[:3]]:02d}",
                )
            )
    for m in VAGUE.finditer(text):
        if not any(m.start() < e and s < m.end() for s, e in taken):
            found.append(Fact("date", m.group(0), m.start(), m.end(), ""))
    # A date after a closing cue ("closes on", "the deadline ... is", "responses by") is a deadline.
    return [
        Fact("deadline", f.text, f.start, f.end, f.value)
        if DEADLINE_CUE.search(text[max(0, f.start - 60) : f.start])
        else f
        for f in found
    ]


def _names(text: str) -> list[Fact]:
    out = [Fact("document", m.group(0), m.start(), m.end()) for m in KNOWN.finditer(text)]
    for m in QUOTED.finditer(text):
        if any(f.start <= m.start(1) < f.end for f in out):
            continue
        words = m.group(1).split()
        if 2 <= len(words) <= 12:
            out.append(Fact("document", m.group(1), m.start(1), m.end(1)))
    for m in DOCUMENT.finditer(text):
        if not any(f.start <= m.start() < f.end for f in out):
            out.append(Fact("document", m.group(0), m.start(), m.end()))
    for m in ORG.finditer(text):
        out.append(Fact("organisation", m.group(0), m.start(), m.end()))
    return out


def extract_facts(text: str) -> tuple[Fact, ...]:
    """Every money amount, date, deadline, named document and organisation in `text`, in order."""
    facts = _money(text) + _dates(text) + _names(text)
    return tuple(sorted(facts, key=lambda f: (f.start, -f.end)))


SENTENCE = re.compile(r"[^.!?;]*(?:[.!?;]+|$)")
CONSULTATION = re.compile(
    r"consult|call for evidence|respon[ds]|submissions?|closes|closing date|deadline", re.I
)


def sentences(text: str) -> list[str]:
    """`text` cut into sentences; the point in "£1.5bn" or "2.5%" does not end one."""
    parts = [p for p in SENTENCE.findall(text) if p]
    out, buf = [], ""
    for k, part in enumerate(parts):
        buf += part
        following = parts[k + 1] if k + 1 < len(parts) else ""
        if re.search(r"\d\.$", buf) and following[:1].isdigit():
            continue
        if buf.strip():
            out.append(buf.strip())
        buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def gather(lines: tuple[str, ...]) -> Evidence:
    """Every sentence of `lines` that carries money, dates or deadlines, with all its facts (pure).

    No cap: every amount and every date is kept, in the order of the text, and a sentence that
    appears twice is kept once. Ranking and caps belong to whatever displays the evidence.
    """
    kept: dict[str, int] = {}
    facts: list[Fact] = []
    of: list[int] = []
    for line in lines:
        for sentence in sentences(line.lstrip("#- ")):
            if sentence in kept:
                continue
            found = extract_facts(sentence)
            if not any(f.kind in ("money", "date", "deadline") for f in found):
                continue
            kept[sentence] = len(kept)
            for fact in found:
                facts.append(fact)
                of.append(kept[sentence])
    return Evidence(tuple(kept), tuple(facts), tuple(of))


def deadlines(evidence: Evidence, detected_at: datetime) -> list[Deadline]:
    """Closing dates in `evidence`: deadline facts in a sentence about responding or consulting.

    A date written without its year ("closes on 11th May") is taken as its next occurrence.
    """
    out = []
    for fact, index in zip(evidence.facts, evidence.of, strict=True):
        sentence = evidence.sentences[index]
        if fact.kind != "deadline" or not fact.value or not CONSULTATION.search(sentence):
            continue
        due = fact.value
        if due.startswith("--"):
            month, day = int(due[2:4]), int(due[5:7])
            year = detected_at.year
            if (month, day) < (detected_at.month, detected_at.day):
                year += 1
            try:
                due = date(year, month, day).isoformat()
            except ValueError:
                continue
        out.append(Deadline(due=due, text=fact.text, sentence=sentence))
    return out
