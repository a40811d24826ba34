"""Turn stored changes into alerts, one rendering per channel, with page text made inert. Pure.

Every message is first built as spans (text, strong, ins, del, link) and only then written out
for a channel, so escaping happens in one place per channel and cannot be forgotten by a
template. Page-derived text (titles, summaries, diff lines, evidence, error text) is only ever a
`text`, `ins` or `del` span; links are emitted only for http(s) URLs we were given (the page URL
from the config and the web app's own link), never for anything found in a page.

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
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from watcher.diff import diff_from_dict

CHAT_CHANNELS = ("mattermost", "discord", "teams", "telegram", "matrix")
CHANNELS = ("slack", "email", "text", *CHAT_CHANNELS)
MAX_DIFF_LINES = 20
MAX_LINE_CHARS = 300
MAX_BODY_CHARS = 3000
MAX_TITLE_CHARS = 200
MAX_LISTED = 10  # sources named in a storm summary
MAX_DIGEST_ITEMS = 50
CATEGORY_LABELS = {
    "consultation_open": "Consultation",
    "consultation_outcome": "Consultation outcome",
    "strategy": "Strategy",
    "funding": "Funding",
    "guidance": "Guidance",
    "report": "Report",
    "legislation": "Legislation",
    "news": "News",
    "minor": "Minor edit",
    "none": "Change",
}
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
    format: str  # "text", "html" or "markdown": the apprise NotifyFormat value to send with
    alt: str = ""  # email only: our own plain-text rendering of the same message


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


# ---------------------------------------------------------------------------------------------
# Cleaning: what every channel does to page-derived text


# C0/C1 controls, and bidi overrides and isolates, which can make text read differently
# from what it is ("evil.example" shown as "elpmaxe.live").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
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
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def defuse_mentions(text: str) -> str:
    """`@channel`, `@here`, `@everyone` with a zero-width joiner after the `@`: shown the same,
    but no chat client reads it as a mention (Slack with link_names, Discord, Teams)."""
    return _MENTION.sub("@" + ZWJ, text)


def is_web_url(url: str | None) -> bool:
    """Only these become links: http(s) with a host and nothing that could break out."""
    if not url or _CONTROL.search(url) or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _safe_href(url: str) -> str:
    """Percent-encode what would end a link in any of our syntaxes (`<>|"'` and backslash)."""
    return quote(url, safe="/:?#[]@!$&()*+,;=%-._~")


# ---------------------------------------------------------------------------------------------
# Spans, and one writer per channel

Span = tuple[str, str, str]  # (kind, text, url); kind: text | strong | ins | del | link
Line = list[Span]
Block = list[Line]


def _t(text: object) -> Span:
    return ("text", str(text), "")


def _b(text: str) -> Span:
    return ("strong", text, "")


def _link(url: str | None, label: str | None = None) -> Span:
    """A link if `url` is one we may link to, else the URL as escaped text."""
    shown = clean(label or url or "")
    if url and is_web_url(url):
        return ("link", shown, url)
    return ("text", shown, "")


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
    if kind == "strong":
        return _marked(text, "**", "**", slack_text)
    if kind == "ins":
        return _marked(text, "**", "**", slack_text)
    if kind == "del":
        return _marked(text, "~", "~", slack_text)
    if kind == "link":
        return f"[{slack_text(text.replace('|', '¦'))}](<{_safe_href(url)}>)"
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
        if kind in ("strong", "ins"):
            return _marked(text, "**", "**", chat_text)
        if kind == "del":
            return _marked(text, "~~", "~~", chat_text)
        if kind == "link":
            return f"[{escaped}](<{_safe_href(url)}>)"
        return escaped

    return write


# Hidden in the HTML view, kept by Apprise's HTML-to-text converter for the text part.
_HIDDEN = '<span style="display:none;mso-hide:all">{}</span>'
_INS = "background:#e6ffec;color:#055d20;text-decoration:none;font-weight:bold"
_DEL = "background:#ffebe9;color:#82071e;text-decoration:line-through"


def _write_html(span: Span) -> str:
    kind, text, url = span
    escaped = html.escape(inline(text), quote=True)
    if kind == "strong":
        return f"<strong>{escaped}</strong>"
    if kind == "ins":
        marks = _HIDDEN.format("{+"), _HIDDEN.format("+}")
        return f'<ins style="{_INS}">{marks[0]}{escaped}{marks[1]}</ins>'
    if kind == "del":
        marks = _HIDDEN.format("[-"), _HIDDEN.format("-]")
        return f'<del style="{_DEL}">{marks[0]}{escaped}{marks[1]}</del>'
    if kind == "link":
        href = html.escape(_safe_href(url), quote=True)
        return f'<a href="{href}" style="color:#1d4ed8">{escaped}</a>'
    return escaped


def _join(blocks: Iterable[Block], write: Callable[[Span], str]) -> str:
    return "\n\n".join("\n".join("".join(map(write, line)) for line in b) for b in blocks if b)


def _html(blocks: Iterable[Block]) -> str:
    paragraphs = [
        '<p style="margin:0 0 12px 0">'
        + "<br>".join("".join(map(_write_html, line)) for line in block)
        + "</p>"
        for block in blocks
        if block
    ]
    # Inline styles only: mail clients drop <style> blocks and never load external CSS.
    return (
        '<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;'
        'line-height:1.45;color:#1f2328">' + "".join(paragraphs) + "</div>"
    )


def _message(title: str, blocks: Sequence[Block], channel: str) -> Message:
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


# ---------------------------------------------------------------------------------------------
# What a change says


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "none", clean(category).replace("_", " ").capitalize())


def headline(evidence: Mapping[str, Any]) -> str:
    """The decisive fact for a title: a closing date first, else the first amount."""
    facts = evidence.get("facts") or []
    for kind, lead in (("deadline", "closes "), ("money", "")):
        for fact in facts:
            if fact.get("kind") == kind:
                return f"{lead}{clean(fact.get('text'))}"
    return ""


def change_title(change: Mapping[str, Any]) -> str:
    """`[Consultation] DfE — Page title: closes 11 May 2023`, one line, capped."""
    title = f"[{category_label(change.get('category'))}] {clean(change.get('source'))}"
    page = clean(change.get("title"))
    if page:
        title += f" — {page}"
    fact = headline(change.get("evidence") or {})
    if fact:
        title += f": {fact}"
    return cap(title, MAX_TITLE_CHARS)


def _confidence(change: Mapping[str, Any]) -> str:
    """`Consultation, 0.82`; a staff correction replaces the model's confidence."""
    label = category_label(change.get("category"))
    if change.get("corrected_by"):
        return f"{label} (corrected by {clean(change['corrected_by'])})"
    for entry in (change.get("evidence") or {}).get("categories") or []:
        name, score = (
            (entry.get("label"), entry.get("confidence"))
            if isinstance(entry, Mapping)
            else (entry[0], entry[1])
        )
        if name == change.get("category") and isinstance(score, int | float):
            return f"{label}, {score:.2f}"
    return label


def when(stamp: object) -> str:
    """`23 Nov 2026 09:00 UTC` from a stored ISO timestamp; anything else as given."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return clean(stamp)
    zone = "UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return f"{moment:%d %b %Y %H:%M} {zone}".strip()


def _capped_ops(ops: Sequence[tuple[str, str]], limit: int) -> Line:
    """Word marks as spans, the whole line cut at `limit` characters."""
    line: Line = []
    left = limit
    for op, text in ops:
        text = inline(text)
        if left <= 0:
            break
        if len(text) > left:
            text, left = text[: left - 1] + "…", 0
        else:
            left -= len(text)
        kind = {"insert": "ins", "delete": "del"}.get(op, "text")
        line.append((kind, text, ""))
        # Adjacent marks need a space between them, or Slack shows neither.
        if kind != "text" and line[-2:-1] and line[-2][0] in ("ins", "del"):
            line.insert(-1, _t(" "))
    return line


def diff_lines(diff: object, limit: int = MAX_DIFF_LINES) -> Block:
    """Changed, Added and Removed lines from a stored diff, at most `limit`, each capped."""
    groups: dict[str, Block] = {"Changed": [], "Added": [], "Removed": []}
    for hunk in diff_from_dict(diff if isinstance(diff, list) else []).hunks:
        for k in range(max(len(hunk.before), len(hunk.after))):
            marks = hunk.words[k] if k < len(hunk.words) else ()
            if marks:
                ops = [(w.op, w.text) for w in marks]
                groups["Changed"].append([_t("~ "), *_capped_ops(ops, MAX_LINE_CHARS)])
                continue
            if k < len(hunk.before):
                groups["Removed"].append([_t("- "), _t(cap(clean(hunk.before[k]), MAX_LINE_CHARS))])
            if k < len(hunk.after):
                groups["Added"].append([_t("+ "), _t(cap(clean(hunk.after[k]), MAX_LINE_CHARS))])
    out: Block = []
    shown = 0
    total = sum(len(lines) for lines in groups.values())
    for name, lines in groups.items():
        room = limit - shown
        if lines and room > 0:
            out.append([_b(name)])
            out.extend(lines[:room])
            shown += min(room, len(lines))
    if total > shown:
        hidden = total - shown
        out.append([_t(f"… {hidden} more line{'s' if hidden != 1 else ''}")])
    return out


def _evidence(change: Mapping[str, Any]) -> Block:
    sentences = (change.get("evidence") or {}).get("sentences") or []
    lines = [[_t(cap(clean(s), MAX_LINE_CHARS))] for s in sentences[:2] if clean(s)]
    summary = clean(change.get("summary"))
    return lines or ([[_t(cap(summary, MAX_LINE_CHARS))]] if summary else [])


def _footer(change: Mapping[str, Any], link: str | None) -> Block:
    parts: Line = [_t(f"Source: {clean(change.get('source'))} · Page: "), _link(change.get("url"))]
    if link:
        parts += [_t(" · Change: "), _link(link)]
    parts.append(_t(f" · Detected: {when(change.get('detected_at'))}"))
    return [[_t(f"Category: {_confidence(change)}")], parts]


def render_change(change: Mapping[str, Any], channel: str, link: str | None = None) -> Message:
    """One change row (as `Store.changes` returns it) as an alert for `channel`."""
    blocks = [_evidence(change), diff_lines(change.get("diff")), _footer(change, link)]
    return _message(change_title(change), blocks, channel)


def _days_left(due: str, today: str) -> str:
    left = (date.fromisoformat(due) - date.fromisoformat(today)).days
    return "today" if left <= 0 else ("tomorrow" if left == 1 else f"in {left} days")


def render_reminder_message(
    deadline: Mapping[str, Any],
    change: Mapping[str, Any],
    days: int,
    today: str,
    channel: str,
    link: str | None = None,
) -> Message:
    """A reminder that a closing date found in a change is near."""
    left = _days_left(str(deadline["due"]), today)
    page = clean(change.get("title"))
    title = f"[Reminder] {clean(change.get('source'))}{f' — {page}' if page else ''}"
    title += f": closes {left} ({clean(deadline.get('text'))})"
    plural = "s" if days != 1 else ""
    blocks = [
        [[_t(cap(clean(deadline.get("sentence")), MAX_LINE_CHARS))]],
        [
            [_b("Closing date: "), _t(f"{clean(deadline['due'])} ({left})")],
            [_t(f"Reminder set {days} day{plural} ahead.")],
        ],
        _footer(change, link)[1:],
    ]
    return _message(title, blocks, channel)


def _item(change: Mapping[str, Any], link: str | None) -> Block:
    """A change in a list: its title (linked to the web app when we can), evidence, added text."""
    title = change_title(change).split("] ", 1)[-1]  # the group already names the category
    lines: Block = [[_link(link, title) if link else _t(title)]]
    sentences = (change.get("evidence") or {}).get("sentences") or []
    if sentences:
        lines.append([_t(cap(clean(sentences[0]), MAX_LINE_CHARS))])
    added = " ".join(clean(a) for a in change.get("added") or [])
    if added:
        lines.append([_t("+ "), ("ins", cap(added, 200), "")])
    return lines


def _counted(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {category_label(c).lower()}" for c, n in counts.items())


def render_digest(
    changes: Sequence[Mapping[str, Any]],
    period: str,
    channel: str,
    links: Mapping[int, str] | None = None,
) -> Message:
    """Several changes in one message, grouped by category, largest group first."""
    links = links or {}
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for change in changes:
        groups.setdefault(change.get("category") or "none", []).append(change)
    ordered = dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), category_label(kv[0]))))
    n = len(changes)
    title = f"{clean(period).capitalize()} digest: {n} change{'s' if n != 1 else ''}"
    if n:
        title += f" ({_counted({c: len(g) for c, g in ordered.items()})})"
    blocks: list[Block] = []
    listed = 0
    for category, group in ordered.items():
        blocks.append([[_b(f"{category_label(category)} ({len(group)})")]])
        for change in group:
            if listed >= MAX_DIGEST_ITEMS:
                break
            blocks.append(_item(change, links.get(change.get("id", -1))))
            listed += 1
    if n > listed:
        blocks.append([[_t(f"… and {n - listed} more in the web app")]])
    if not n:
        blocks.append([[_t(f"No changes were detected in this {clean(period).lower()} digest.")]])
    return _message(title, blocks, channel)


def render_storm(
    scope: str,
    changes: Sequence[Mapping[str, Any]],
    total_sources: int,
    channel: str,
    links: Mapping[int, str] | None = None,
) -> Message:
    """One summary for many pages of one site changing in the same pass, not one alert each."""
    links = links or {}
    n = len(changes)
    title = f"[Site change] {clean(scope)}: {n} of {total_sources} pages changed in one pass"
    intro = (
        f"{n} of the {total_sources} pages watched on {clean(scope)} changed in the same check "
        f"pass, which usually means a site-wide template or navigation change. They are "
        f"summarised here instead of {n} separate alerts."
    )
    listed: Block = []
    for change in changes[:MAX_LISTED]:
        name = clean(change.get("source"))
        page = clean(change.get("title"))
        label = f"{name} — {page}" if page else name
        link = links.get(change.get("id", -1))
        listed.append([_t("• "), _link(link, label) if link else _t(label)])
    if n > MAX_LISTED:
        listed.append([_t(f"and {n - MAX_LISTED} more")])
    return _message(title, [[[_t(intro)]], listed], channel)


def render_health(source: Mapping[str, Any], state: str, reason: str, channel: str) -> Message:
    """A source has started failing (`state="failing"`) or works again (`"recovered"`)."""
    name = clean(source.get("name"))
    streak = int(source.get("error_streak") or 0)
    last_ok = when(source.get("last_success_at")) if source.get("last_success_at") else "never"
    page = [_t("Page: "), _link(source.get("url"))]
    if state == "recovered":
        title = f"[Source recovered] {name}: checks succeed again"
        blocks = [
            [[_t(f"{name} was checked successfully again: {clean(reason)}")]],
            [page, [_t(f"Last success: {last_ok}")]],
        ]
    elif state == "failing":
        plural = "s" if streak != 1 else ""
        title = f"[Source failing] {name}: {streak} check{plural} in a row failed"
        blocks = [
            [[_t(f"{name} cannot be checked: {clean(reason)}")]],
            [
                [_b("Last error: "), _t(cap(clean(source.get("last_error")), MAX_LINE_CHARS))],
                [_t(f"Failed checks in a row: {streak} · Last success: {last_ok}")],
                page,
            ],
            [[_t("Changes on this page go unnoticed until it can be checked again.")]],
        ]
    else:
        raise ValueError(f"unknown health state {state!r}: expected 'failing' or 'recovered'")
    return _message(title, blocks, channel)


def render_test(target_name: str, channel: str) -> Message:
    """A test alert that proves a target is wired up."""
    name = clean(target_name)
    blocks = [
        [[_t(f"This is a test alert from watcher to the target {name}.")]],
        [[_t("If you can read this, change alerts will arrive here.")]],
    ]
    return _message(f"[Test] watcher alert to {name}", blocks, channel)
