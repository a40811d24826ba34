"""Alert text as spans (text, strong, ins, del, link), and the cleaning every channel does to
page-derived text before any writer escapes it. Pure.

Page-derived text is only ever a `text`, `heading`, `ins` or `del` span; a `link` span is made only for a URL
that `presentation.is_web_url` accepts.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from watcher.presentation import UNSAFE_CHARS, is_web_url

# C0/C1 controls and bidi overrides: out of every piece of page text (see presentation).
_CONTROL = UNSAFE_CHARS
_SPACE = re.compile(r"\s+")
_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
ZWJ = "\u200d"


def clean(text: object) -> str:
    """One line of printable text: controls out, runs of whitespace (newlines too) one space."""
    return _SPACE.sub(" ", _CONTROL.sub("", str(text or ""))).strip()


def inline(text: str) -> str:
    """Like `clean` but keeps edge spaces: for spans that sit inside a line."""
    return _SPACE.sub(" ", _CONTROL.sub("", text))


def cap(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def defuse_mentions(text: str) -> str:
    """`@channel`, `@here`, `@everyone` with a zero-width joiner after the `@`: shown the same,
    but no chat client reads it as a mention (Slack with link_names, Discord, Teams)."""
    return _MENTION.sub("@" + ZWJ, text)


def link_target(url: str) -> str:
    """Percent-encode what would end a link in any of our syntaxes (`<>|"'` and backslash)."""
    return quote(url, safe="/:?#[]@!$&()*+,;=%-._~")


# ---------------------------------------------------------------------------------------------
# Spans

# (kind, text, url); kind: text | strong | heading | ins | del | link. A heading is page text
# (a heading block of the page), shown bold where the channel can and escaped like text.
Span = tuple[str, str, str]
Line = list[Span]
Block = list[Line]


def plain(text: object) -> Span:
    """Text shown as it is (escaped by each writer)."""
    return ("text", str(text), "")


def strong(text: str) -> Span:
    """Our own emphasis: never used for page text."""
    return ("strong", text, "")


def link(url: str | None, label: str | None = None) -> Span:
    """A link if `url` is one we may link to, else the URL as escaped text."""
    shown = clean(label or url or "")
    if url and is_web_url(url):
        return ("link", shown, url)
    return ("text", shown, "")
