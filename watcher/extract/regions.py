"""Which parts of an HTML page are its content: the main region (or the selected ones), and the
chrome, furniture and hidden elements left out, each with the reason why. Pure.

The rules read an element's name and attributes (a mapping; `class` as one string), so that the
lxml tree `extract` walks and the BeautifulSoup trees of the `listing` kind and `discover` share
them. The bs4 forms below serve those two readers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bs4 is read only where its trees are (selectors, listings, discover)
    from bs4 import BeautifulSoup, Tag


# Never page content: code, chrome, and controls.
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "canvas",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "button",
        "select",
        "input",
        "textarea",
        "dialog",
        "head",
        "link",
        "meta",
    }
)
DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
# Cookie and consent banners carry no role of their own; they are known by their names, which are
# as often camelCase (cookieNotice, CybotCookiebotDialog) as hyphenated (cookie-banner).
BANNER_RE = re.compile(r"cookie|consent|gdpr|cc-banner|cc-window", re.I)
# Chrome that some sites wrap around the whole page: ASP.NET WebForms puts everything in one
# <form>, and a "has-cookie-banner" wrapper is common. Such an element is kept (its own chrome
# still goes) when it holds the page's content.
WRAPPER_DROPS = frozenset({"form"})
CONTENT_TAGS = ("main", "article", "h1")
# Class and id words that mark page furniture rather than the article, after readability's
# "unlikely candidates" and the ad-blocking lists' conventions. Whole words only: "ad" matches
# class="ad-slot" but not "heading". An element holding the page's content is never dropped.
BOILERPLATE_WORDS = frozenset(
    {
        "ad",
        "ads",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsbygoogle",
        "sponsor",
        "sponsored",
        "promo",
        "promoted",
        "related",
        "share",
        "sharing",
        "social",
        "newsletter",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "popular",
        "trending",
        "outbrain",
        "taboola",
        "widget",
        "sidebar",
        "comments",
        "disqus",
        "skiplink",
        "masthead",
        "signup",
    }
)
WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")


Attributes = Mapping[str, str]


def is_banner(attrs: Attributes) -> bool:
    """Whether the element's id or classes name a cookie or consent banner."""
    names = f"{attrs.get('id') or ''} {attrs.get('class') or ''}"
    return bool(names.strip()) and bool(BANNER_RE.search(names))


def class_words(attrs: Attributes) -> set[str]:
    """The words of the element's id and classes, lower case (camelCase split)."""
    names = (attrs.get("id") or "", *(attrs.get("class") or "").split())
    return {w.lower() for name in names for w in WORD_SPLIT.split(name) if w}


def signature_of(name: str, attrs: Attributes) -> str:
    """The element's kind and its class words, digits out: the same slot on every version."""
    if not attrs:
        return name
    words = sorted(w for w in (re.sub(r"\d+", "", w) for w in class_words(attrs)) if w)[:3]
    return name + "".join("." + w for w in words)


def is_hidden(attrs: Attributes) -> bool:
    """Whether the element is hidden by attribute or inline style."""
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def drop_reason_of(name: str, attrs: Attributes, holder: bool, in_section: bool) -> str | None:
    """Why an element is not page content, or None when it is. `holder`: it holds a main,
    article or h1; `in_section`: it sits in an article or main."""
    if name == "header" and in_section:
        return "hidden" if attrs and is_hidden(attrs) else None
    if name in WRAPPER_DROPS:
        return None if holder else f"<{name}>"
    if name in DROP_TAGS:
        return f"<{name}>"
    if not attrs:
        return None
    role = str(attrs.get("role") or "").lower()
    if role in DROP_ROLES:
        return f"role={role}"
    if is_hidden(attrs):
        return "hidden"
    if holder:
        return None
    if is_banner(attrs):
        return "cookie banner"
    furniture = class_words(attrs) & BOILERPLATE_WORDS
    if furniture:
        return f"page furniture ({', '.join(sorted(furniture))})"
    return None


def is_region_of(name: str, attrs: Attributes) -> bool:
    """Whether the element is a candidate main region (main, article, role=main)."""
    return name in ("main", "article") or attrs.get("role") == "main"


# --- the same rules over BeautifulSoup trees (the listing kind and discover read with bs4) -----


def tag_attributes(tag: Tag) -> dict[str, str]:
    """A bs4 tag's attributes with list values (class, rel...) joined by spaces, as lxml has them."""
    return {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in tag.attrs.items()}


def signature(tag: Tag) -> str:
    """The element's kind and its class words, digits out: the same slot on every version."""
    return signature_of(tag.name, tag_attributes(tag))


def content_holders(soup: BeautifulSoup) -> set[int]:
    """ids of main, article and h1 elements and of every element holding one (linear: each
    ancestor is marked once)."""
    marked: set[int] = set()
    for tag in soup.find_all(CONTENT_TAGS):
        marked.add(id(tag))
        for parent in tag.parents:
            if id(parent) in marked:
                break
            marked.add(id(parent))
    return marked


def drop_reason(tag: Tag, holders: set[int], in_section: bool) -> str | None:
    """Why `tag` is not page content, or None when it is."""
    return drop_reason_of(tag.name, tag_attributes(tag), id(tag) in holders, in_section)


def main_region(soup: BeautifulSoup) -> Tag:
    """The page's one <main> (or role=main), else its one <article>, else the body."""
    mains: list[Tag] = []
    articles: list[Tag] = []
    for tag in soup.find_all(is_region):  # one walk of the tree, not three
        (articles if tag.name == "article" and tag.get("role") != "main" else mains).append(tag)
    for found in (mains, articles):
        if len(found) == 1 and found[0].get_text(strip=True):
            return found[0]
    from bs4 import Tag

    body = soup.body
    return body if isinstance(body, Tag) else soup


def is_region(tag: Tag) -> bool:
    """Whether the element is a candidate main region (main, article, role=main)."""
    return is_region_of(tag.name, tag_attributes(tag))


def region_roots(soup: BeautifulSoup, select: Iterable[str]) -> list[Tag]:
    """The elements `select` matches, outermost only; without selectors, the main region."""
    selectors = list(select)
    if not selectors:
        return [main_region(soup)]
    # By identity: bs4 compares tags by their markup, so two equal paragraphs would count as one.
    found: dict[int, Tag] = {}
    for sel in selectors:
        for tag in soup.select(sel):
            found.setdefault(id(tag), tag)
    # An element inside another selected element would otherwise be read twice.
    return [t for t in found.values() if not any(id(p) in found for p in t.parents)]
