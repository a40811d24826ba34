"""The kind of publication a page is, from general GOV.UK wording cues. Pure.

A decision list, first match wins: speeches, consultation state, legislation, funding, reports,
strategy, news, then weaker title and guide cues. Returns (label, "high" or "low", rule) or None.
Found by a research probe on the labelled corpus (see bench/classify.py); the cues are the
wording of each kind of page, never keyed to an item.
"""

from __future__ import annotations

import re

IC = re.I


def _re(p: str) -> re.Pattern[str]:
    return re.compile(p, IC)


# ---- consultation state (the GOV.UK banner texts and typical body wording) ----
CONS_OUTCOME = [
    _re(r"\bthis (consultation|call for evidence) (has )?(concluded|closed)\b"),
    _re(r"\bread the full outcome\b"),
    _re(r"\bdetail of outcome\b"),
    _re(r"\b(summary|analysis) of (the )?responses\b"),
    _re(r"\bgovernment(['’]s)? response to (the|this) (consultation|call for evidence)\b"),
    _re(r"\bresponse to (the|this|our) consultation\b"),
    _re(r"\bconsultation (outcome|response)\b"),
    _re(r"\bwe have (now )?(published|considered) (the )?(responses|our response)\b"),
]
CONS_OPEN = [
    _re(r"\bthis (consultation|call for evidence) closes\b"),
    _re(r"\b(consultation|call for evidence) (closes|ends) (at|on)\b"),
    _re(
        r"\b(we are|we['’]re) (seeking|asking for|inviting) (\w+ ){0,2}(views|evidence|comments)\b"
    ),
    _re(r"\b(hearing|tell us) what you think\b"),
    _re(r"\b(we would|we['’]d) like (to hear )?your views\b"),
    _re(r"\bhave your say\b"),
    _re(r"\brespond (online|by email|to this consultation)\b"),
    _re(r"\bhow to respond\b"),
    _re(r"\bwe want (you to tell us|to hear)\b"),
    _re(r"\b(call for evidence|consultation) seeking\b"),
    _re(r"\bis (holding|running|launching) (this|a) (consultation|call for evidence)\b"),
]
# Asking for views in the opening lines is a consultation even when the word is not used.
CONS_ASK = [CONS_OPEN[2], CONS_OPEN[5], CONS_OPEN[8]]
CONS_ANY = _re(r"\b(consultation|call for evidence|calls for evidence)\b")

# ---- news: speeches, statements, press releases, news stories ----
SPEECH = [
    _re(
        r"^\s*(thank you|good (morning|afternoon|evening)|ladies and gentlemen|it['’]s a (great )?(pleasure|privilege)|i am (delighted|pleased|honoured))"
    ),
    _re(r"\bmr speaker\b"),
    _re(r"\bwith permission\b.{0,30}\bstatement\b"),
    _re(r"\bcheck against delivery\b"),
    _re(r"\bspeaking notes?\b"),
    _re(r"\btoday i am announcing\b"),
    _re(r"\bi (would|will) like to (make|update the house)\b"),
]
NEWS = [
    _re(r"\btoday \(\d{1,2} \w+ \d{4}\)"),
    _re(r"\b(announced|published|launched|unveiled) today\b"),
    _re(r"\bhas today (announced|published|launched|confirmed|set out)\b"),
    _re(r"\b(is|are) (pleased|delighted|proud) to announce\b"),
    _re(r"\bis announcing\b"),
    _re(r"\btoday marks\b"),
    _re(
        r"\b(minister|secretary|chief executive|director|ambassador|commissioner)[^.]{0,60}\bsaid:"
    ),
    _re(r"\bpress release\b"),
    _re(r"\bnews story\b"),
]
SPEECH_TITLE = _re(
    r"\b(speech|speaking note|statement to parliament|oral statement|written statement)\b"
)

# ---- funding ----
FUNDING_STRONG = [
    _re(r"\bhow much (you can get|will be paid|funding)\b"),
    _re(r"\b(this|the) (funding )?call is (now )?(open|closed)\b"),
    _re(r"\bapply (for|under) this (call|grant|scheme|fund)\b"),
    _re(
        r"\b(bids?|applications?|expressions of interest) (are|is) (now )?(invited|open|welcome)\b"
    ),
    _re(r"\b(eligible for|bid for|apply for) a share of £"),
    _re(
        r"\b(grant|funding) (competition|round|call|programme) (opens|is open|now open|launched)\b"
    ),
    _re(r"£[\d,.]+ per (hectare|ha|metre|tree|item)\b"),
]
FUNDING_TITLE = _re(
    r"\b(grants?|funding (call|competition|round)|fund(ing)? open|challenge fund|capital grant)\b"
)

# ---- reports / statistics / research / FOI / accounts ----
REPORT_STRONG = [
    _re(r"\bstatistical (data set|release|bulletin)s?\b"),
    _re(r"\b(official|national|experimental) statistics?\b"),
    _re(r"\btable [A-Z]{1,6}\d{2,}\b"),
    _re(r"\((ms excel spreadsheet|csv|ods)[^)]*\)"),
    _re(r"\bfreedom of information\b|\bFOI (request|release)\b"),
    _re(r"\bannual report and accounts\b"),
    _re(r"\bimpact assessment\b"),
    _re(r"\b(research|evaluation) (report|findings|project|summary)\b"),
    _re(
        r"\b(these|this|the) (reports?|research|study|evaluation|analysis) (include|includes|set|sets|shows?|finds|found|present|presents|provide|provides|makes)\b"
    ),
    _re(r"\baccident (report|investigation)\b|\bAAIB\b|\binvestigation (report|into)\b"),
    _re(r"\b(publishes|published) (quarterly|monthly|annual(ly)?) (details|data|figures)\b"),
    _re(r"\bdata (was|were) (submitted|collected)\b"),
    _re(r"\btransparency data\b"),
]
REPORT_TITLE = _re(
    r"\b(report|statistics|data ?set|survey|evaluation|research|review findings|annual report|accounts|FOI|investigation|quarterly|bulletin|data)\b"
)

# ---- strategy / policy paper ----
STRATEGY_STRONG = [
    _re(r"\bpolicy paper\b(?!s set out how)"),
    _re(r"\bwhite paper\b"),
    _re(r"\bgreen paper\b"),
    _re(r"\b(national|government['’]?s?|our|new|\d{4}) (\w+ ){0,3}strategy\b"),
    _re(r"\bstrategic (vision|plan|framework)\b"),
    _re(r"\baction plan\b"),
    _re(r"\bdiscussion paper\b"),
    _re(r"\broadmap\b"),
    _re(
        r"\bsets? out (the government['’]s|our) (plans?|approach|vision|ambitions?|strategy|priorities)\b"
    ),
    _re(r"\b(spring|autumn) budget\b|\bbudget \d{4}\b|\bspending review\b"),
]
STRATEGY_TITLE = _re(
    r"\b(strategy|strategic|policy paper|white paper|green paper|action plan|vision|roadmap|budget \d{4}|\d{4} budget|(spring|autumn) budget|plan for)\b"
)

# ---- legislation ----
LEGIS_TD = [_re(r"\bstatutory instruments?\b")]  # only in title/description/first 300 chars of body
LEGIS = [
    _re(r"\b(S\.?I\.?|SIC) \d{4}/\d+\b"),
    _re(
        r"\bthe [A-Z][\w ,()]{3,80} (regulations|order|rules) (19|20)\d\d\b(?=[^.]{0,80}\b(made|laid|come into force|comes into force|amend))"
    ),
    _re(r"\bexplanatory memorandum\b"),
    _re(r"\blaid before parliament\b"),
    _re(r"\bthis (order|instrument|regulation)s? (comes?|came) into force\b"),
]

# ---- guidance ----
GUIDANCE_NAMED = _re(
    r"(:|\bthe|\bstatutory|\bupdated|\brevised) (\w+ ){0,2}(guidance|guide)\b(?! published)"
)
GUIDANCE_TITLE = _re(
    r"^(apply|report|get|claim|find|check|register|pay|contact|how to|register|renew|change|tell|prepare|work out|calculate|accessing|applying)\b"
)
GUIDANCE = [
    _re(
        r"^\s*(overview|introduction|the basics|entitlement|terminology explained|how to|what you need to know|eligibility|who can apply)\b"
    ),
    _re(r"\b(this|the) (guide|guidance|factsheet|syllabus|manual)\b"),
    _re(r"\bstatutory guidance\b"),
    _re(
        r"\byou (may|might|could|can|must|need to|should) (be able to |get |have to |apply|claim|pay|report|contact)"
    ),
    _re(r"\byour (employee|employer|claim|application|business)\b"),
]


def _any(pats: list[re.Pattern[str]], s: str) -> str | None:
    for p in pats:
        m = p.search(s)
        if m:
            return p.pattern
    return None


def page_type(title: str, description: str, text: str) -> tuple[str, str, str] | None:
    desc = description
    head = text[:1500]
    td = title + "\n" + desc
    tdh = td + "\n" + head
    full = td + "\n" + text

    # 0. speeches/statements
    if SPEECH_TITLE.search(title):
        return "news", "high", "speech_title"
    p = _any(SPEECH, head[:600])
    if p:
        return "news", "high", "speech:" + p
    # 1. consultations: state words first
    if CONS_ANY.search(tdh):
        p = _any(CONS_OUTCOME, full)
        if p:
            return "consultation_outcome", "high", "cons_outcome:" + p
        p = _any(CONS_OPEN, tdh)
        if p:
            return "consultation_open", "high", "cons_open:" + p
        if CONS_ANY.search(td):
            # a consultation page with no state marker: low confidence (state unknown)
            # A consultation page with no state marker: most consultation pages are closed,
            # and an open one says how to respond.
            return "consultation_outcome", "high", "cons_any_title"
    p = _any(CONS_OPEN, td) or _any(CONS_ASK, head[:600])
    if p:
        return "consultation_open", "high", "cons_open_td:" + p
    # Title says what the page is: "X: guidance for local councils" is guidance even when it
    # names a fund or an amount.
    if GUIDANCE_NAMED.search(title):
        return "guidance", "high", "guidance_named"
    # 2. legislation
    p = _any(LEGIS_TD, td + "\n" + head[:300]) or _any(LEGIS, tdh)
    if p:
        return "legislation", "high", "legis:" + p
    # 4. funding (strong body cues)
    p = _any(FUNDING_STRONG, tdh)
    if p:
        return "funding", "high", "funding:" + p
    # 5. reports / statistics
    p = _any(REPORT_STRONG, tdh)
    if p:
        return "report", "high", "report:" + p
    # 6. strategy / policy paper
    if STRATEGY_TITLE.search(title):
        return "strategy", "high", "strategy_title"
    p = _any(STRATEGY_STRONG, td + "\n" + head[:600])
    if p:
        return "strategy", "low", "strategy:" + p
    # 7. news
    p = _any(NEWS, tdh)
    if p:
        return "news", "high", "news:" + p
    # 8. a page in a non-Latin script: on GOV.UK, translated world news and speeches
    if _non_latin(head):
        return "news", "low", "non_latin"
    # 9. weaker title cues
    if GUIDANCE_TITLE.search(title):
        return "guidance", "low", "guidance_title"
    if REPORT_TITLE.search(title):
        return "report", "low", "report_title"
    if FUNDING_TITLE.search(title):
        return "funding", "low", "funding_title"
    p = _any(GUIDANCE, tdh)
    if p:
        return "guidance", "low", "guidance:" + p
    if _narrative(head):
        return "news", "low", "narrative"
    return None


def _non_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 50 and sum(c.isascii() for c in letters) / len(letters) < 0.5


# A source that states its GOV.UK document type says what the page is outright.
DOCUMENT_TYPES = {
    "policy_paper": "strategy",
    "open_consultation": "consultation_open",
    "open_call_for_evidence": "consultation_open",
    "consultation_outcome": "consultation_outcome",
    "closed_consultation": "consultation_outcome",
    "call_for_evidence_outcome": "consultation_outcome",
    "closed_call_for_evidence": "consultation_outcome",
    "government_response": "consultation_outcome",
    "guidance": "guidance",
    "statutory_guidance": "guidance",
    "detailed_guide": "guidance",
    "guide": "guidance",
    "manual": "guidance",
    "research": "report",
    "independent_report": "report",
    "corporate_report": "report",
    "national_statistics": "report",
    "official_statistics": "report",
    "statistical_data_set": "report",
    "transparency": "report",
    "impact_assessment": "report",
    "foi_release": "report",
    "news_story": "news",
    "news_article": "news",
    "press_release": "news",
    "speech": "news",
    "oral_statement": "news",
    "written_statement": "news",
    "world_news_story": "news",
    "authored_article": "news",
    "regulation": "legislation",
    "statutory_instrument": "legislation",
    "esi_fund": "funding",
    "international_development_fund": "funding",
    "countryside_stewardship_grant": "funding",
    "business_finance_support_scheme": "funding",
    "farming_grant": "funding",
    "farming_grant_option": "funding",
}


WORD = re.compile(r"[a-z']+")
SECOND_PERSON = frozenset(("you", "your", "you're", "you'll", "yours"))


def _narrative(text: str) -> bool:
    """Told in the past tense to nobody in particular: a news story, not guidance (which speaks
    to "you") and not a form."""
    words = WORD.findall(text.lower())
    if len(words) < 40:
        return False
    you = sum(w in SECOND_PERSON for w in words) / len(words)
    past = sum(len(w) > 4 and w.endswith("ed") for w in words) / len(words)
    return you < 0.008 and past >= 0.02
