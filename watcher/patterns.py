"""Money and date patterns: one set, read by normalise (the facts a change must not lose
silently) and classify/evidence (the facts an alert quotes, with their values). Pure.

Each accepts what either module accepted before they shared this: amounts in pounds, dollars or
euros, written with a sign (£1.5bn, $200m, €27 million) or in words (45,000 pounds); month
names short or long ("Sep", "Sept", "September").
"""

from __future__ import annotations

import re

CURRENCY = r"[£$€]"
CURRENCY_WORDS = r"pounds|euros|dollars"
SCALE = {"bn": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}
SCALE_WORDS = r"bn|billion|m|million|k|thousand"
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

# Any mention of money or a date, as loosely as it is written: the guard compares these lists.
MONEY_MENTION = re.compile(
    rf"{CURRENCY}\s?\d[\d,.]*(?:\s?(?:billion|bn|million|m|thousand|k)\b)?|\b\d[\d,.]*\s?(?:{CURRENCY_WORDS})\b",
    re.I,
)
DATE_MENTION = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\b(?:\s+\d{{4}})?|\b{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b(?:19|20)\d{2}\b",
    re.I,
)

# Amounts with their value (`num` times `scale`) and the period they cover, for evidence.
NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
PERIOD = (
    r"(?:\s+(?:over|across|during|in|for)\s+(?:the\s+)?(?:next\s+|coming\s+|first\s+)?"
    r"(?:\w+\s+)?(?:years?|months?|weeks?|spending\s+review(?:\s+period)?|parliament)"
    r"|\s+(?:a|per|each|every)\s+(?:year|annum|month|week)"
    r"|\s+(?:from|by|until|to)\s+(?:\d{4}(?:[-–/]\d{2,4})?|(?:the\s+)?end\s+of\s+\d{4}))?"
)
MONEY_AMOUNT = re.compile(
    rf"{CURRENCY}\s?{NUMBER}(?:\s?(?P<scale>{SCALE_WORDS})\b)?{PERIOD}",
    re.I,
)
MONEY_IN_WORDS = re.compile(
    rf"\b{NUMBER}(?:\s?(?P<scale>{SCALE_WORDS}))?\s?(?:{CURRENCY_WORDS})\b{PERIOD}",
    re.I,
)
DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
DATE_DMY = re.compile(
    rf"\b{DAY}\s+(?:of\s+)?(?P<month>{MONTH})\b(?:,?\s+(?P<year>(?:19|20)\d{{2}}))?", re.I
)
DATE_MDY = re.compile(rf"\b(?P<month>{MONTH})\s+{DAY}\b(?:,?\s+(?P<year>(?:19|20)\d{{2}}))?", re.I)
DATE_NUM = re.compile(r"\b(?P<day>[0-3]?\d)/(?P<month>[0-3]?\d)/(?P<year>(?:19|20)?\d{2})\b")
DATE_ISO = re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
MONTH_YEAR = re.compile(rf"\b(?P<month>{MONTH})\s+(?P<year>(?:19|20)\d{{2}})\b", re.I)
