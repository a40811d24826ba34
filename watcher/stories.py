"""Stories across sources: which changes (and publications) are one event, and why. Pure.

One event reaches a team from many places: the consultation page, its PDF, the GOV.UK news story,
each charity's reaction a week later. A new change joins the story of the earlier change it is
most strongly tied to, within `WINDOW`, by the first signal that ties them:

- **link**: both point at the same document (the sector page and the news story both link the
  GOV.UK publication), or one links the other's page. Only links whose anchor text is part of what
  was added count (a page's standing links say nothing about this edit), and links to the page's
  own site are left out except on GOV.UK (elsewhere they are the site's own menus and tags).
- **name**: both name the same document: a quoted or title-after-a-colon name ("strategy:
  Stable Homes, Built on Love"), a document published with the page, or a publication's title.
- **text**: what was added is largely the same words: the overlap coefficient of 4-word shingles
  (shared / the smaller set) is at least `TEXT_THRESHOLD` with `MIN_SHARED` shingles shared.
  Each change keeps a sketch, not its shingles: the CRC-32 of each, only those divisible by
  `SAMPLE` (a fixed one-in-8 sample, so two texts' samples overlap as the texts do), at most
  `SKETCH` of them; comparing with 300 earlier changes then costs milliseconds.
  Pages on one subject in their own words share under 0.05 (the five seed pages pairwise: at most
  0.045 over all shingles, 0.04 sketched), while pages quoting the same statements share far more
  (two seed reactions to the review's final report quote the same charities: 0.28, 410 shingles;
  0.25 sketched) and a republished press release nearly all. So 0.2 sits four times above
  topical overlap and under a quotation's.

A signal is a function of two items giving a `Tie` (its reason, in words a person can check) or
None; `SIGNALS` is the order they are tried in, and another (topics) is added by appending one.
A key (a link or a name) that more than `HUB_SHARE` of the window's items carry ties nothing:
it is a hub (a department's home page, the review every page mentions), not an event.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from watcher.urls import GOVUK_HOSTS, canonical_url

WINDOW = timedelta(days=60)
TEXT_THRESHOLD = 0.2
MIN_SHARED = 3  # sampled shingles shared: about 24 of the text's
SHINGLE = 4
SAMPLE = 8
SKETCH = 512
HUB_SHARE = 0.5  # of the window's items, when there are at least HUB_MIN of them
HUB_MIN = 6
# Hosts whose links are sharing buttons and profiles, never the document a page is about.
SOCIAL_HOSTS = frozenset(
    {
        "twitter.com",
        "x.com",
        "facebook.com",
        "www.facebook.com",
        "linkedin.com",
        "www.linkedin.com",
        "instagram.com",
        "www.instagram.com",
        "t.co",
        "bsky.app",
        "wa.me",
        "api.whatsapp.com",
    }
)
SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "under",
        "over",
        "about",
        "after",
    ]
)
_QUOTED = re.compile(r"(?<!\w)[“\"‘]([^“”\"\n]{4,120}?)[”\"’](?!\w)")
_AFTER_COLON = re.compile(r":\s+([A-Z][^.:;!?()\[\]]{3,120}?)\s*(?:[.;!?)]|$)")
_WORD = re.compile(r"[\w’']+")


@dataclass(frozen=True)
class Item:
    """A change (or a publication's arrival) as the linker sees it."""

    id: int  # the change's id
    at: datetime
    source: str
    url: str
    title: str
    added: str = ""  # the text it added
    links: frozenset[str] = frozenset()  # canonical URLs it points at (see `links_of`)
    names: frozenset[str] = frozenset()  # document names, as written
    story: int | None = None  # the story it is in, if any
    topics: frozenset[str] = frozenset()  # the team's topics it is about (see `shared_topics`)
    anchors: tuple[tuple[str, str], ...] = ()  # (link, its anchor text) where it was written
    sketch: frozenset[int] = field(default=frozenset(), compare=False)  # see `sketch`
    page: str = ""  # its URL's canonical form, when known


@dataclass(frozen=True)
class Tie:
    """Why two items are one story."""

    signal: str  # "link" | "name" | "text" | another signal's name
    reason: str  # e.g. "both link https://www.gov.uk/...", "both name 'Stable Homes…'"
    strength: float  # to choose between candidates: a link over a name over similar text
    name: str = ""  # the document named, when the tie is a name: the story's title


@dataclass(frozen=True)
class Decision:
    """Join `partner`'s story (or start one with it) because of `tie`."""

    partner: Item
    tie: Tie


@dataclass(frozen=True)
class StoryMark:
    """Where a change stands in its story, for its alert."""

    story_id: int
    title: str
    position: int  # 1 for the story's first change
    size: int


Signal = Callable[[Item, Item, frozenset[str]], Tie | None]


def norm(name: str) -> str:
    """A name compared: case, punctuation and spacing ignored."""
    return " ".join(_WORD.findall(name.casefold().replace("’", "'")))


def _title_like(name: str) -> bool:
    words = _WORD.findall(name)
    if len(words) < 2 or len(words) > 14 or not name[:1].isupper():
        return False
    big = [w for w in words if w.lower() not in SMALL_WORDS]
    capitalised = sum(1 for w in big if w[:1].isupper())
    return capitalised >= 2 and capitalised >= 0.6 * len(big) and words[-1][:1].isupper()


def document_names(text: str) -> set[str]:
    """Names of documents as pages write them: quoted ("“Stable Homes, Built on Love”") or a
    title after a colon ("its strategy: Stable Homes, Built on Love."), in title case."""
    found: set[str] = set()
    for line in text.splitlines():
        for pattern in (_QUOTED, _AFTER_COLON):
            for m in pattern.finditer(line):
                name = m.group(1).strip(" ,")
                if _title_like(name):
                    found.add(name)
    return found


def links_of(page_url: str, links: Iterable[tuple[str, str]], added: str) -> dict[str, str]:
    """The canonical URLs a change points at, each with its anchor text: links whose anchor text
    is in what it added, not to the page's own site (but on GOV.UK), not to a site's front page or
    a sharing button."""
    own = (urlsplit(page_url).hostname or "").lower()
    said = added.casefold()
    out: dict[str, str] = {}
    for href, written in links:
        text = " ".join(written.split())
        if not text or text.casefold() not in said:
            continue
        absolute = urljoin(page_url, href)
        parts = urlsplit(absolute)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host or host in SOCIAL_HOSTS:
            continue
        if parts.path.strip("/") == "" or (host == own and host not in GOVUK_HOSTS):
            continue
        url = canonical_url(absolute)
        if not _title_like(out.get(url, "")):
            out[url] = text
    return out


def sketch(text: str) -> frozenset[int]:
    """A text's 4-word shingles as a sample of their CRC-32s: those divisible by SAMPLE, the
    SKETCH smallest."""
    words = _WORD.findall(text.casefold().replace("’", "'"))
    hashes = {
        h
        for i in range(len(words) - SHINGLE + 1)
        if (h := zlib.crc32(" ".join(words[i : i + SHINGLE]).encode())) % SAMPLE == 0
    }
    return frozenset(sorted(hashes)[:SKETCH])


def shared_link(a: Item, b: Item, hubs: frozenset[str]) -> Tie | None:
    """Both point at one document, or one points at the other's page."""
    for x, y in ((a, b), (b, a)):
        if not x.links:
            continue
        page = y.page or canonical_url(y.url)
        if page in x.links and page not in hubs:
            return Tie("link", f"{x.source} links {y.source}'s page {page}", 3.5)
    shared = sorted((a.links & b.links) - hubs)
    if not shared:
        return None
    # A link written as a document's title names the document ("Stable Homes, Built on Love").
    titled = [(u, t) for u, t in (*a.anchors, *b.anchors) if u in shared and _title_like(t)]
    first, name = titled[0] if titled else (shared[0], "")
    said = f" (‘{name}’)" if name else ""
    more = f" and {len(shared) - 1} more" if len(shared) > 1 else ""
    strength = 3 + min(len(shared), 5) / 10
    return Tie("link", f"both link {first}{said}{more}", strength, name=name)


def _names_match(x: str, y: str) -> bool:
    if x == y:
        return True
    short, long = (x, y) if len(x) < len(y) else (y, x)
    return len(short.split()) >= 3 and f" {short} " in f" {long} "


def shared_name(a: Item, b: Item, hubs: frozenset[str]) -> Tie | None:
    """Both name the same document."""
    for x in sorted(a.names):
        if norm(x) in hubs:
            continue
        for y in b.names:
            if _names_match(norm(x), norm(y)):
                named = x if len(x) <= len(y) else y
                return Tie("name", f"both name ‘{named}’", 2.0, name=named)
    return None


def similar_text(a: Item, b: Item, hubs: frozenset[str]) -> Tie | None:
    """What each added is largely the same words."""
    common, score = _text_overlap(a, b)
    if common < MIN_SHARED or score < TEXT_THRESHOLD:
        return None
    return Tie("text", f"similar text ({score:.2f})", 1 + score)


def _text_overlap(a: Item, b: Item) -> tuple[int, float]:
    """Sampled shingles the two added texts share, and that as a share of the smaller."""
    sa, sb = a.sketch or sketch(a.added), b.sketch or sketch(b.added)
    if not sa or not sb:
        return 0, 0.0
    common = len(sa & sb)
    return common, common / min(len(sa), len(sb))


# A team's topics tie two changes only with more: two or more shared within a week, AND text
# closer than pages on one subject in their own words (half the similar-text bar). Topics alone
# glued every seed page into one story (all five are about kinship care and fostering: a whole
# sector writes about them all year), so they only carry text that is nearly similar enough.
TOPIC_WINDOW = timedelta(days=7)
MIN_TOPICS = 2
TOPIC_TEXT = TEXT_THRESHOLD / 2


def shared_topics(a: Item, b: Item, hubs: frozenset[str]) -> Tie | None:
    """Both about the same two or more topics within a week, with text nearly similar enough
    to tie on its own (the weakest tie)."""
    if abs(a.at - b.at) > TOPIC_WINDOW:
        return None
    common = sorted(t for t in a.topics & b.topics if f"topic:{norm(t)}" not in hubs)
    if len(common) < MIN_TOPICS:
        return None
    shared, score = _text_overlap(a, b)
    if shared < MIN_SHARED or score < TOPIC_TEXT:
        return None
    days = abs(a.at - b.at).days
    within = "on the same day" if days == 0 else f"{days} day{'s' if days != 1 else ''} apart"
    about = " and ".join(common[:3])
    return Tie("topic", f"both about {about}, {within}, with related text ({score:.2f})", 0.5)


SIGNALS: tuple[Signal, ...] = (shared_link, shared_name, similar_text, shared_topics)


def hubs_of(items: Sequence[Item]) -> frozenset[str]:
    """Keys too many of the window's items carry to say anything about one event."""
    if len(items) < HUB_MIN:
        return frozenset()
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(item.links)
        counts.update({norm(n) for n in item.names})
        counts.update({f"topic:{norm(t)}" for t in item.topics})
    return frozenset(k for k, n in counts.items() if n > HUB_SHARE * len(items))


def tie(a: Item, b: Item, hubs: frozenset[str], signals: Sequence[Signal] = SIGNALS) -> Tie | None:
    """The first signal that ties `a` and `b`."""
    for signal in signals:
        found = signal(a, b, hubs)
        if found is not None:
            return found
    return None


def decide(
    new: Item,
    recent: Sequence[Item],
    signals: Sequence[Signal] = SIGNALS,
    window: timedelta = WINDOW,
) -> Decision | None:
    """The earlier item `new` is most strongly tied to within `window`, and why; None when it
    is tied to none (it starts no story alone)."""
    if not new.sketch or not new.page:
        new = replace(new, sketch=new.sketch or sketch(new.added), page=canonical_url(new.url))
    near = [r for r in recent if r.id != new.id and abs(new.at - r.at) <= window]
    hubs = hubs_of([new, *near])
    best: Decision | None = None
    for other in near:
        found = tie(new, other, hubs, signals)
        if found is None:
            continue
        rank = (found.strength, other.story is not None, other.at, other.id)
        if best is None or rank > (
            best.tie.strength,
            best.partner.story is not None,
            best.partner.at,
            best.partner.id,
        ):
            best = Decision(other, found)
    return best


def story_title(first_title: str, tie: Tie) -> str:
    """A new story is called after the document both name, else after its first change."""
    return tie.name or first_title


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def story_line(mark: StoryMark) -> str:
    """`3rd update in story: National Framework consultation`."""
    return f"{ordinal(mark.position)} update in story: {mark.title}"
