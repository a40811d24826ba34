"""Turn stored changes into alerts: what each kind of alert says, as spans. Pure.

The words (titles, evidence, the diff's lines, footers) are built here as spans (spans.py) and
written for a channel by channels.py, so page text is made inert in one place per channel; the
module docstring of channels.py says what Apprise does to each body. Names other modules and
the tests read from here (`Message`, `channel_for`, `CHANNELS`...) are re-exported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from watcher import blockmarks, presentation
from watcher.diff import diff_rows
from watcher.models import Diff, Evidence
from watcher.notify.channels import (
    CHANNELS,
    CHAT_CHANNELS,
    MAX_TITLE_CHARS,
    Message,
    channel_for,
    chat_text,
    compose,
    slack_text,
)
from watcher.notify.spans import (
    ZWJ,
    Block,
    Line,
    cap,
    clean,
    defuse_mentions,
    inline,
    plain,
    strong,
)
from watcher.notify.spans import link as link_span
from watcher.notify.staleness_render import render_staleness
from watcher.presentation import days_left, is_web_url, when
from watcher.rows import ChangeRow, DeadlineRow, SourceRow
from watcher.stories import StoryMark, story_line

MAX_DIFF_LINES = 20
MAX_LINE_CHARS = 300
MAX_LISTED = 10  # sources named in a storm summary
MAX_DIGEST_ITEMS = 50
CATEGORY_LABELS = presentation.ALERT_LABELS  # the alert-title form of each category
__all__ = [
    "CATEGORY_LABELS",
    "CHANNELS",
    "CHAT_CHANNELS",
    "MAX_TITLE_CHARS",
    "ZWJ",
    "Message",
    "category_label",
    "change_title",
    "channel_for",
    "chat_text",
    "clean",
    "defuse_mentions",
    "diff_lines",
    "is_web_url",
    "render_change",
    "render_digest",
    "render_health",
    "render_reminder_message",
    "render_staleness",
    "render_storm",
    "render_test",
    "slack_text",
    "when",
]


def category_label(category: str | None) -> str:
    """The category as alert titles name it (the short form; see presentation.ALERT_LABELS)."""
    return presentation.category_label(category, "alert")


def headline(evidence: Evidence) -> str:
    """The decisive fact for a title: a closing date first, else the first amount."""
    for kind, lead in (("deadline", "closes "), ("money", "")):
        for fact in evidence.facts:
            if fact.kind == kind:
                return f"{lead}{clean(fact.text)}"
    return ""


def change_title(change: ChangeRow) -> str:
    """`[Consultation] DfE — Page title: closes 11 May 2023`, one line, capped; a publication
    arriving says so: `[New consultation] dfe-search — Kinship allowance: closes 11 May 2027`."""
    label = category_label(change.category)
    if change.kind == "publication":
        label = f"New {label.lower()}" if change.category else "New publication"
    elif change.kind == "update":
        label = f"Updated {label.lower()}" if change.category else "Updated publication"
    title = f"[{label}] {clean(change.source)}"
    page = presentation.page_title(clean(change.title))
    if page:
        title += f" — {page}"
    fact = headline(change.evidence)
    if fact:
        title += f": {fact}"
    return cap(title, MAX_TITLE_CHARS)


def _confidence(change: ChangeRow) -> str:
    """`Consultation, 0.82`; a staff correction replaces the model's confidence."""
    label = category_label(change.category)
    if change.corrected_by:
        on = f" on {presentation.day(change.corrected_at)}" if change.corrected_at else ""
        return f"{label} (corrected by {clean(change.corrected_by)}{on})"
    for name, score, _sentence in change.evidence.categories:
        if name == change.category:
            return f"{label}, {score:.2f}"
    return label


def _capped_ops(ops: Sequence[tuple[str, str]], limit: int) -> Line:
    """Word marks as spans, the whole line cut at `limit` characters; a list item's mark is
    read as a bullet, a heading's dropped (see blockmarks)."""
    block, ops = blockmarks.unmark_ops(ops)
    line: Line = [plain(blockmarks.BULLET)] if block.kind == blockmarks.ITEM else []
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
            line.insert(-1, plain(" "))
    return line


def _block(text: str) -> Line:
    """A stored block as spans: a heading as a heading, an item after a bullet, never `##`."""
    block = blockmarks.read(text)
    shown = cap(clean(block.text), MAX_LINE_CHARS)
    if block.kind == blockmarks.HEADING:
        return [("heading", shown, "")]
    return [plain(blockmarks.BULLET + shown if block.kind == blockmarks.ITEM else shown)]


def diff_lines(diff: Diff, limit: int = MAX_DIFF_LINES) -> Block:
    """Changed, Added and Removed lines from a stored diff, at most `limit`, each capped."""
    groups: dict[str, Block] = {"Changed": [], "Added": [], "Removed": []}
    for row in diff_rows(diff):
        if row.words:
            ops = [(w.op, w.text) for w in row.words]
            groups["Changed"].append([plain("~ "), *_capped_ops(ops, MAX_LINE_CHARS)])
            continue
        if row.before is not None:
            groups["Removed"].append([plain("- "), *_block(row.before)])
        if row.after is not None:
            groups["Added"].append([plain("+ "), *_block(row.after)])
    out: Block = []
    shown = 0
    total = sum(len(lines) for lines in groups.values())
    for name, lines in groups.items():
        room = limit - shown
        if lines and room > 0:
            out.append([strong(name)])
            out.extend(lines[:room])
            shown += min(room, len(lines))
    if total > shown:
        hidden = total - shown
        out.append([plain(f"… {hidden} more line{'s' if hidden != 1 else ''}")])
    return out


def _sections(block: Block) -> list[Block]:
    """The diff's groups (Changed, Added, Removed) as blocks of their own, so each channel
    sets them apart (a blank line in text, a paragraph in HTML)."""
    out: list[Block] = []
    for line in block:
        if not out or (line and line[0][0] == "strong"):
            out.append([])
        out[-1].append(line)
    return out


def _evidence(change: ChangeRow) -> Block:
    """The sentences that state what changed, under a label; else the change's summary."""
    sentences = change.evidence.sentences
    lines = [[plain(cap(clean(s), MAX_LINE_CHARS))] for s in sentences[:2] if clean(s)]
    if lines:
        return [[strong("Evidence")], *lines]
    summary = clean(blockmarks.plain_summary(change.summary))
    return [[strong("Summary")], [plain(cap(summary, MAX_LINE_CHARS))]] if summary else []


def _footer(change: ChangeRow, link: str | None) -> Block:
    parts: Line = [
        plain(f"Source: {clean(change.source)} · Page: "),
        link_span(change.url),
    ]
    if link:
        parts += [plain(" · Change: "), link_span(link)]
    parts.append(plain(f" · Detected: {when(change.detected_at)}"))
    return [[plain(f"Category: {_confidence(change)}")], *_topics(change), parts]


def _topics(change: ChangeRow) -> Block:
    """`Topics: Kinship care, Fostering`, when the change is about any the team follows."""
    names = ", ".join(clean(name) for name, _sentence in change.topics)
    return [[plain(f"Topics: {names}")]] if names else []


def render_change(
    change: ChangeRow, channel: str, link: str | None = None, story: StoryMark | None = None
) -> Message:
    """One stored change as an alert for `channel`; in a story, it says which and where."""
    blocks = [_evidence(change), *_sections(diff_lines(change.diff)), _footer(change, link)]
    if story is not None:
        blocks.insert(0, [[strong(clean(story_line(story)))]])
    return compose(change_title(change), blocks, channel)


def render_reminder_message(
    deadline: DeadlineRow,
    change: ChangeRow,
    days: int,
    today: str,
    channel: str,
    link: str | None = None,
) -> Message:
    """A reminder that a closing date found in a change is near."""
    left = days_left(deadline.due, today)
    page = presentation.page_title(clean(change.title))
    title = f"[Reminder] {clean(change.source)}{f' — {page}' if page else ''}"
    title += f": closes {left} ({clean(deadline.text)})"
    plural = "s" if days != 1 else ""
    blocks = [
        [[plain(cap(clean(deadline.sentence), MAX_LINE_CHARS))]],
        [
            [strong("Closing date: "), plain(f"{clean(deadline.due)} ({left})")],
            [plain(f"Reminder set {days} day{plural} ahead.")],
        ],
        _footer(change, link)[1:],
    ]
    return compose(title, blocks, channel)


def _item(change: ChangeRow, link: str | None) -> Block:
    """A change in a list: its title (linked to the web app when we can), evidence, added text."""
    title = change_title(change).split("] ", 1)[-1]  # the group already names the category
    lines: Block = [[link_span(link, title) if link else plain(title)], *_topics(change)]
    sentences = change.evidence.sentences
    if sentences:
        lines.append([plain(cap(clean(sentences[0]), MAX_LINE_CHARS))])
    added = " ".join(clean(blockmarks.plain(a)) for a in change.added)
    if added:
        lines.append([plain("+ "), ("ins", cap(added, 200), "")])
    return lines


def _counted(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {category_label(c).lower()}" for c, n in counts.items())


def render_digest(
    changes: Sequence[ChangeRow],
    period: str,
    channel: str,
    links: Mapping[int, str] | None = None,
    stories: Mapping[int, StoryMark] | None = None,
) -> Message:
    """Several changes in one message: those in a story together under its name (the story
    with most first), then the rest by category, largest group first."""
    links, stories = links or {}, stories or {}
    groups: dict[str, list[ChangeRow]] = {}
    told: dict[int, list[ChangeRow]] = {}
    named: dict[int, str] = {}
    for change in changes:
        mark = stories.get(change.id)
        if mark is not None:
            told.setdefault(mark.story_id, []).append(change)
            named[mark.story_id] = mark.title
        else:
            groups.setdefault(change.category or "none", []).append(change)
    ordered = dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), category_label(kv[0]))))
    counts = Counter(change.category or "none" for change in changes)
    n = len(changes)
    title = f"{clean(period).capitalize()} digest: {n} change{'s' if n != 1 else ''}"
    if n:
        by_size = sorted(counts.items(), key=lambda kv: (-kv[1], category_label(kv[0])))
        title += f" ({_counted(dict(by_size))})"
    headed = [(f"Story: {clean(named[sid])}", group) for sid, group in told.items()]
    headed.sort(key=lambda hg: -len(hg[1]))
    headed += [(category_label(category), group) for category, group in ordered.items()]
    blocks: list[Block] = []
    listed = 0
    for heading, group in headed:
        blocks.append([[strong(f"{heading} ({len(group)})")]])
        for change in group:
            if listed >= MAX_DIGEST_ITEMS:
                break
            blocks.append(_item(change, links.get(change.id)))
            listed += 1
    if n > listed:
        blocks.append([[plain(f"… and {n - listed} more in the web app")]])
    if not n:
        blocks.append(
            [[plain(f"No changes were detected in this {clean(period).lower()} digest.")]]
        )
    return compose(title, blocks, channel)


def render_storm(
    scope: str,
    changes: Sequence[ChangeRow],
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
        name = clean(change.source)
        page = clean(change.title)
        label = f"{name} — {page}" if page else name
        link = links.get(change.id)
        listed.append([plain("• "), link_span(link, label) if link else plain(label)])
    if n > MAX_LISTED:
        listed.append([plain(f"and {n - MAX_LISTED} more")])
    return compose(title, [[[plain(intro)]], listed], channel)


def render_health(source: SourceRow, state: str, reason: str, channel: str) -> Message:
    """A source has started failing (`state="failing"`) or works again (`"recovered"`)."""
    name = clean(source.name)
    streak = source.error_streak
    last_ok = when(source.last_success_at) if source.last_success_at else "never"
    page = [plain("Page: "), link_span(source.url)]
    if state == "recovered":
        title = f"[Source recovered] {name}: checks succeed again"
        blocks = [
            [[plain(f"{name} was checked successfully again: {clean(reason)}")]],
            [page, [plain(f"Last success: {last_ok}")]],
        ]
    elif state == "failing":
        plural = "s" if streak != 1 else ""
        title = f"[Source failing] {name}: {streak} check{plural} in a row failed"
        blocks = [
            [[plain(f"{name} cannot be checked: {clean(reason)}")]],
            [
                [
                    strong("Last error: "),
                    plain(cap(clean(source.last_error), MAX_LINE_CHARS)),
                ],
                [plain(f"Failed checks in a row: {streak} · Last success: {last_ok}")],
                page,
            ],
            [[plain("Changes on this page go unnoticed until it can be checked again.")]],
        ]
    else:
        raise ValueError(f"unknown health state {state!r}: expected 'failing' or 'recovered'")
    return compose(title, blocks, channel)


def render_test(target_name: str, channel: str) -> Message:
    """A test alert that proves a target is wired up."""
    name = clean(target_name)
    blocks = [
        [[plain(f"This is a test alert from watcher to the target {name}.")]],
        [[plain("If you can read this, change alerts will arrive here.")]],
    ]
    return compose(f"[Test] watcher alert to {name}", blocks, channel)
