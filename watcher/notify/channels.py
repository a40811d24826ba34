"""The channels an alert is written for, one writer each. Pure.

Every message is first built as spans (text, strong, heading, ins, del, link; see spans.py)
and only then written out for a channel here, so escaping happens in one place per channel and
cannot be forgotten by a template. Page-derived text (titles, summaries, diff lines, evidence,
error text) is only ever a `text`, `heading`, `ins` or `del` span; links are emitted only for
http(s) URLs we were given (the page URL from the config and the web app's own link), never for
anything found in a page.

What Apprise does to a body (apprise 2.2, read from its source):
- Slack with body_format TEXT entity-escapes `&<>` itself and posts with mrkdwn off, so no link
  of ours could work. With MARKDOWN it converts CommonMark to mrkdwn: `&` becomes `&amp;`,
  `\\<` `\\>` become `&lt;` `&gt;`, `[label](<url>)` becomes `<url|label>`, `**b**` becomes
  `*b*`, and a bare `<` passes through. With no body_format (passthrough) it un-escapes
  `&lt;!channel&gt;` back into a mention. So Slack gets format "markdown", and page text is
  written as CommonMark with every character the converter acts on escaped or replaced.
- Email with HTML builds multipart/alternative and derives the text part from our HTML with its
  own HTML-to-text converter (there is no way to hand it our own text part). The HTML therefore
  carries the plain-text word marks in hidden spans so the derived text part still shows them;
  `Message.alt` also holds our own plain-text rendering for anyone sending without Apprise.
- Titles: Slack escapes `&<>` in the title itself and email puts it in the Subject, so a title
  is plain text (one line, control characters out) for every channel.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from watcher.notify.spans import (
    ZWJ,
    Block,
    Span,
    cap,
    clean,
    defuse_mentions,
    inline,
    link_target,
)

CHAT_CHANNELS = ("mattermost", "discord", "teams", "telegram", "matrix")
CHANNELS = ("slack", "email", "text", *CHAT_CHANNELS)
MAX_TITLE_CHARS = 200
SLACK_SCHEMES = frozenset({"slack"})
EMAIL_SCHEMES = frozenset({"mailto", "mailtos"})
# Chat services Apprise reaches whose clients read mentions and markup out of message text.
CHAT_SCHEMES = {
    "mmost": "mattermost",
    "mmosts": "mattermost",
    "discord": "discord",
    "workflow": "teams",
    "workflows": "teams",
    "msteams": "teams",
    "tgram": "telegram",
    "matrix": "matrix",
    "matrixs": "matrix",
}
CHAT_WEBHOOK_HOSTS = {
    "discord.com": "discord",
    "discordapp.com": "discord",
    "api.telegram.org": "telegram",
}


@dataclass(frozen=True)
class Message:
    """One alert ready for Apprise: send `body` with `body_format=format`."""

    title: str
    body: str
    format: str  # "text", "html", "markdown", or "json" (data: see notify/deliver.py)
    alt: str = ""  # email only: our own plain-text rendering of the same message
    data: Mapping[str, Any] | None = None  # "json" only: the object to post (watcher.structured)


def channel_for(apprise_url_scheme: str, override: str | None = None) -> str:
    """Which rendering an Apprise URL gets: by its scheme (or whole URL), unless overridden."""
    if override in CHANNELS:
        return override
    value = apprise_url_scheme.strip().lower()
    scheme = value.split("://", 1)[0]
    if scheme in SLACK_SCHEMES:
        return "slack"
    # Apprise also accepts Slack's own webhook URL as given by Slack.
    if scheme == "https" and "://" in value and urlsplit(value).hostname == "hooks.slack.com":
        return "slack"
    if scheme in EMAIL_SCHEMES:
        return "email"
    if scheme in CHAT_SCHEMES:
        return CHAT_SCHEMES[scheme]
    if scheme == "https" and "://" in value:
        host = urlsplit(value).hostname or ""
        if host in CHAT_WEBHOOK_HOSTS:
            return CHAT_WEBHOOK_HOSTS[host]
        if host.endswith((".webhook.office.com", ".logic.azure.com")):
            return "teams"
    return "text"


# Slack: characters Apprise's CommonMark converter or Slack's mrkdwn would act on. `&`, `<`,
# `>` end up as entities (Apprise turns a bare `&` and `\<`, `\>` into them). Brackets, parens,
# `#` and `!` are backslash-escaped so no link or heading forms; the converter emits them as
# plain characters. mrkdwn has no escape for `*_~` and backticks, so page text gets look-alike
# characters instead: page text can then never open or close a bold/strike span of ours. A
# backslash gets a look-alike too, or it would escape our escapes. In a link label `|` would end
# the URL part of `<url|label>`, so there it becomes a broken bar.
_SLACK_LOOKALIKE = str.maketrans({"*": "∗", "_": "＿", "~": "∼", "`": "ˋ", "\\": "∖"})
_SLACK_ESCAPED = re.compile(r"([<>\[\]()#!])")


def slack_text(text: str) -> str:
    """Page text as CommonMark that Apprise turns into inert Slack mrkdwn."""
    text = defuse_mentions(inline(text)).translate(_SLACK_LOOKALIKE)
    return _SLACK_ESCAPED.sub(r"\\\1", text)


def _marked(text: str, left: str, right: str, write: Callable[[str], str]) -> str:
    """mrkdwn marks only hold when they touch non-space text: move edge spaces outside."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{left}{write(core)}{right}{trail}"


def _write_slack(span: Span) -> str:
    kind, text, url = span
    if kind in ("strong", "heading"):
        return _marked(text, "**", "**", slack_text)
    if kind == "ins":
        return _marked(text, "**", "**", slack_text)
    if kind == "del":
        return _marked(text, "~", "~", slack_text)
    if kind == "link":
        return f"[{slack_text(text.replace('|', '¦'))}](<{link_target(url)}>)"
    return slack_text(text)


def _write_text(span: Span) -> str:
    kind, text, url = span
    text = defuse_mentions(inline(text))
    if kind == "ins":
        return "{+" + text + "+}"
    if kind == "del":
        return "[-" + text + "-]"
    if kind == "link" and text != url:
        return f"{text} ({url})"
    return text


# Chat services (Mattermost, Discord, Teams, Telegram, Matrix) read more out of message text than
# Markdown: `<!channel>` and `<url|label>` (Mattermost's Slack compatibility), `<@id>`, `<@&role>`
# and `<#channel>` (Discord), `<at>` (Teams), `@all`, `@here`, `@room` and `@name` (all of them).
# Page text is therefore written so that none of these can form, whatever the service renders:
# `<` and `>` become look-alikes (no tag, mention or link in angle brackets), every `@` gets a
# zero-width joiner after it (shown the same, never a mention), and for the services sent
# Markdown every other CommonMark punctuation character is backslash-escaped (no link, no
# emphasis, no code span). Matrix is sent plain text: its clients show the body as it is.
_ANGLE_LOOKALIKE = str.maketrans({"<": "‹", ">": "›"})
# The characters that open Markdown links, emphasis, code, headings, spoilers and tables.
_COMMONMARK_PUNCTUATION = re.compile(r"([\\`*_~\[\]()#!|])")
MARKDOWN_CHATS = frozenset({"mattermost", "discord", "teams", "telegram"})


def chat_text(text: str, markdown: bool = True) -> str:
    """Page text for a chat service: no mention, tag or link can form (see above)."""
    text = inline(text).translate(_ANGLE_LOOKALIKE).replace("@", "@" + ZWJ)
    return _COMMONMARK_PUNCTUATION.sub(r"\\\1", text) if markdown else text


def _chat_writer(markdown: bool) -> Callable[[Span], str]:
    def write(span: Span) -> str:
        kind, text, url = span
        escaped = chat_text(text, markdown)
        if not markdown:
            if kind == "ins":
                return "{+" + escaped + "+}"
            if kind == "del":
                return "[-" + escaped + "-]"
            if kind == "link" and text != url:
                return f"{escaped} ({url})"
            return escaped
        if kind in ("strong", "ins", "heading"):
            return _marked(text, "**", "**", chat_text)
        if kind == "del":
            return _marked(text, "~~", "~~", chat_text)
        if kind == "link":
            return f"[{escaped}](<{link_target(url)}>)"
        return escaped

    return write


# Hidden in the HTML view, kept by Apprise's HTML-to-text converter for the text part.
_HIDDEN = '<span style="display:none;mso-hide:all">{}</span>'
_INS = "background:#e6ffec;color:#055d20;text-decoration:none;font-weight:bold"
_DEL = "background:#ffebe9;color:#82071e;text-decoration:line-through"


def _write_html(span: Span) -> str:
    kind, text, url = span
    escaped = html.escape(inline(text), quote=True)
    if kind in ("strong", "heading"):
        return f"<strong>{escaped}</strong>"
    if kind == "ins":
        marks = _HIDDEN.format("{+"), _HIDDEN.format("+}")
        return f'<ins style="{_INS}">{marks[0]}{escaped}{marks[1]}</ins>'
    if kind == "del":
        marks = _HIDDEN.format("[-"), _HIDDEN.format("-]")
        return f'<del style="{_DEL}">{marks[0]}{escaped}{marks[1]}</del>'
    if kind == "link":
        href = html.escape(link_target(url), quote=True)
        return f'<a href="{href}" style="color:#1d4ed8">{escaped}</a>'
    return escaped


def _join(blocks: Iterable[Block], write: Callable[[Span], str]) -> str:
    return "\n\n".join("\n".join("".join(map(write, line)) for line in b) for b in blocks if b)


def _html(blocks: Iterable[Block]) -> str:
    paragraphs = [
        '<p style="margin:0">'
        + "<br>".join("".join(map(_write_html, line)) for line in block)
        + "</p>"
        for block in blocks
        if block
    ]
    # Inline styles only: mail clients drop <style> blocks and never load external CSS. The
    # <br> between paragraphs is the blank line: Apprise's HTML-to-text converter (which writes
    # the email's text part) ends a paragraph with one newline and keeps a <br> as another.
    return (
        '<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;'
        'line-height:1.45;color:#1f2328">' + "<br>".join(paragraphs) + "</div>"
    )


def compose(title: str, blocks: Sequence[Block], channel: str) -> Message:
    """Write the blocks for `channel`; the title is plain text everywhere (see the module doc)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)}")
    if channel in CHAT_CHANNELS:
        markdown = channel in MARKDOWN_CHATS
        # Apprise puts the title into the same Markdown text for these services (Mattermost has
        # no title field; Discord writes "title\r\nbody"), so it is escaped the same way, within
        # the same length (an escape cut in half would escape what Apprise writes next).
        escaped = chat_text(clean(title), markdown)
        if len(escaped) > MAX_TITLE_CHARS:
            escaped = escaped[: MAX_TITLE_CHARS - 1].rstrip("\\ ") + "…"
        body = _join(blocks, _chat_writer(markdown))
        return Message(escaped, body, "markdown" if markdown else "text")
    title = cap(defuse_mentions(clean(title)), MAX_TITLE_CHARS)
    if channel == "slack":
        return Message(title, _join(blocks, _write_slack), "markdown")
    if channel == "email":
        return Message(title, _html(blocks), "html", alt=_join(blocks, _write_text))
    return Message(title, _join(blocks, _write_text), "text")
