"""Per-channel rendering: titles, caps, digests, storms, health, and page text made inert. Pure."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from watcher.notify.render import (
    CATEGORY_LABELS,
    CHANNELS,
    MAX_TITLE_CHARS,
    channel_for,
    render_change,
    render_digest,
    render_health,
    render_reminder_message,
    render_storm,
    render_test,
)
from watcher.rows import ChangeRow, DeadlineRow, SourceRow
from watcher.store.codec import decode

HOSTILE = (
    "<!channel> <https://evil.example|click> <script>alert(1)</script> [x](https://evil.example)"
)
LINK = "https://watcher.example.org/changes/7"


def change(**over: Any) -> ChangeRow:
    """A row as `Store.changes()` returns it, written as its stored columns and decoded."""
    row: dict[str, Any] = {
        "id": 7,
        "source": "DfE",
        "url": "https://www.gov.uk/government/consultations/national-framework",
        "detected_at": "2026-11-23T09:00:00.000+00:00",
        "title": "Children's social care National Framework",
        "summary": "1 block added: The consultation closes on 11 May 2023.",
        "category": "consultation_open",
        "added": ["The consultation closes on 11 May 2023."],
        "removed": [],
        "diff": [
            {
                "op": "insert",
                "before": [],
                "after": ["The consultation closes on 11 May 2023."],
                "words": [],
                "at_before": 1,
                "at_after": 1,
            }
        ],
        "evidence": {
            "sentences": ["The consultation closes on 11 May 2023."],
            "facts": [
                {"kind": "money", "text": "£5 million", "value": "5000000", "sentence": 0},
                {"kind": "deadline", "text": "11 May 2023", "value": "2023-05-11", "sentence": 0},
            ],
            "categories": [
                {"label": "consultation_open", "confidence": 0.8234, "sentence": "x"},
            ],
        },
        "corrected_by": None,
        "before_hash": "a" * 64,
        "after_hash": "b" * 64,
        "check_id": 1,
    }
    row.update(over)
    return decode(ChangeRow, row)


def added(*lines: str) -> list[dict[str, Any]]:
    return [{"op": "insert", "before": [], "after": list(lines), "words": []}]


# --- titles ------------------------------------------------------------------------------------


def test_title_names_category_source_page_and_deadline() -> None:
    for channel in CHANNELS:  # Markdown chats see the same title, with brackets escaped
        assert render_change(change(), channel).title.replace("\\", "") == (
            "[Consultation] DfE — Children's social care National Framework: closes 11 May 2023"
        )


def test_title_falls_back_to_money_then_to_nothing() -> None:
    money = {"facts": [{"kind": "money", "text": "£5 million"}], "sentences": []}
    assert render_change(change(evidence=money), "text").title.endswith(": £5 million")
    assert render_change(change(evidence={}, title=""), "text").title == "[Consultation] DfE"


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("consultation_open", "Consultation"),
        ("consultation_outcome", "Consultation outcome"),
        ("minor", "Minor edit"),
        ("none", "Change"),
        (None, "Change"),
        ("funding", "Funding"),
        ("brand_new", "Brand new"),
    ],
)
def test_category_labels_are_human(category: str | None, label: str) -> None:
    assert render_change(change(category=category), "text").title.startswith(f"[{label}] ")
    assert set(CATEGORY_LABELS) >= {"strategy", "guidance", "report", "legislation", "news"}


def test_title_is_one_capped_line_without_control_characters() -> None:
    title = "Line one\nline two\r\x00\x1b[31m\u202eevil\u202c " + "x" * 400
    for channel in CHANNELS:
        got = render_change(change(title=title), channel).title
        assert "\n" not in got and "\r" not in got and "\x1b" not in got and "\u202e" not in got
        assert "Line one line two" in got
        assert len(got) <= MAX_TITLE_CHARS and got.endswith("…")


# --- channels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "override", "expected"),
    [
        ("slack", None, "slack"),
        ("slack://T1/B1/C1", None, "slack"),
        ("https://hooks.slack.com/services/T1/B1/C1", None, "slack"),
        ("mailto", None, "email"),
        ("mailtos://user:pass@example.org", None, "email"),
        ("MAILTO", None, "email"),
        ("json", None, "text"),
        ("https://example.org/hook", None, "text"),
        ("discord", None, "discord"),
        ("discord://123/abc", None, "discord"),
        ("https://discord.com/api/webhooks/1/abc", None, "discord"),
        ("mmost://chat.example.org/token", None, "mattermost"),
        ("mmosts://chat.example.org/token", None, "mattermost"),
        ("workflows://prod.westus.logic.azure.com/wf/sig", None, "teams"),
        ("https://example.webhook.office.com/webhookb2/x", None, "teams"),
        ("tgram://123456:abc/42", None, "telegram"),
        ("matrixs://user:pass@matrix.example.org/#room", None, "matrix"),
        ("discord", "text", "text"),
        ("json", "slack", "slack"),
        ("slack", "text", "text"),
        ("slack", "bogus", "slack"),  # an invalid override is ignored
    ],
)
def test_channel_for(url: str, override: str | None, expected: str) -> None:
    assert channel_for(url, override) == expected


def test_each_channel_has_its_apprise_format() -> None:
    formats = {c: render_change(change(), c).format for c in CHANNELS}
    assert formats == {
        "slack": "markdown",
        "email": "html",
        "text": "text",
        "mattermost": "markdown",
        "discord": "markdown",
        "teams": "markdown",
        "telegram": "markdown",
        "matrix": "text",
    }
    assert render_change(change(), "email").alt.startswith("Evidence\nThe consultation closes")
    with pytest.raises(ValueError, match="unknown channel"):
        render_change(change(), "sms")


def test_body_has_evidence_diff_and_footer_in_order() -> None:
    body = render_change(change(), "text", link=LINK).body
    assert body.index("The consultation closes") < body.index("Added") < body.index("Source: DfE")
    assert "+ The consultation closes on 11 May 2023." in body
    assert f"Change: {LINK}" in body and "Detected: 23 Nov 2026 09:00 UTC" in body
    assert "Category: Consultation, 0.82" in body


def test_confidence_from_list_shaped_categories_and_corrections() -> None:
    listed = {"sentences": [], "categories": [["funding", 0.5, "s"]]}
    assert (
        "Funding, 0.50" in render_change(change(category="funding", evidence=listed), "text").body
    )
    fixed = render_change(change(corrected_by="alice"), "text").body
    assert "Category: Consultation (corrected by alice)" in fixed


def test_summary_stands_in_when_there_is_no_evidence() -> None:
    body = render_change(change(evidence={}, summary="2 blocks edited: x"), "text").body
    assert body.startswith("Summary\n2 blocks edited: x")


# --- hostile page text -------------------------------------------------------------------------


def hostile() -> ChangeRow:
    return change(
        title=HOSTILE,
        summary=HOSTILE,
        added=[HOSTILE],
        diff=added(HOSTILE, "ping @channel and @here *now*"),
        evidence={"sentences": [HOSTILE], "facts": []},
    )


def test_slack_body_escapes_every_construct_apprise_or_slack_would_act_on() -> None:
    body = render_change(hostile(), "slack", link=LINK).body
    # Outside our own `[label](<url>)` links, every < > [ ] ( ) is backslash-escaped, which
    # Apprise's converter turns into &lt; &gt; or a plain character.
    ours = re.sub(r"\[[^\]\\]*\]\(<https?://[^>]*>\)", "", body)
    assert not re.search(r"(?<!\\)[<>\[\]()]", ours)
    assert "\\<!channel\\>" in body.replace("\\!", "!")
    assert "@\u200dchannel" in body and "@\u200dhere" in body and "@channel" not in body
    # Page text cannot open or close our bold: its * became a look-alike.
    assert "∗now∗" in body and "*now*" not in body
    assert f"[{LINK}](<{LINK}>)" in body


def test_email_html_escapes_page_text_and_links_only_ours() -> None:
    body = render_change(hostile(), "email", link=LINK).body
    assert "<script" not in body and "&lt;script&gt;" in body
    assert "&lt;!channel&gt;" in body
    assert re.findall(r'href="([^"]*)"', body) == [change().url, LINK]
    assert "<style" not in body and "src=" not in body


def test_text_body_keeps_page_text_verbatim_but_strips_controls() -> None:
    row = change(diff=added("safe\x07 text\x1b[2J \u202eevil"), evidence={})
    body = render_change(row, "text").body
    assert "+ safe text[2J evil" in body
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", body)
    assert HOSTILE in render_change(hostile(), "text").body


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/x",
        "http://exa mple.org/",
        "https://ok.example/\x00x",
        "//evil.example/x",
    ],
)
def test_a_non_web_url_is_never_a_link(url: str) -> None:
    row = change(url=url)
    slack = render_change(row, "slack", link=url).body
    assert "](<" not in slack
    email = render_change(row, "email", link=url).body
    assert "<a " not in email and "href" not in email


def test_own_link_cannot_break_out_of_its_syntax() -> None:
    url = 'https://watcher.example.org/c?q="><script>|x'
    slack = render_change(change(url=url), "slack").body
    assert "(<https://watcher.example.org/c?q=%22%3E%3Cscript%3E%7Cx>)" in slack
    email = render_change(change(url=url), "email").body
    assert 'href="https://watcher.example.org/c?q=%22%3E%3Cscript%3E%7Cx"' in email
    assert "<script" not in email


# --- caps and word marks -----------------------------------------------------------------------


def test_diff_is_capped_at_twenty_lines_and_says_how_many_more() -> None:
    lines = [f"Paragraph {i}" for i in range(30)]
    for channel in CHANNELS:
        body = render_change(change(diff=added(*lines)), channel).body
        assert "Paragraph 19" in body and "Paragraph 20" not in body
        assert "… 10 more lines" in body


def test_a_long_line_is_capped() -> None:
    body = render_change(change(diff=added("word " * 500), evidence={}), "text").body
    line = next(x for x in body.splitlines() if x.startswith("+ "))
    assert len(line) <= 305 and line.endswith("…")


def test_word_marks_per_channel() -> None:
    diff = [
        {
            "op": "replace",
            "before": ["It commits £200 million."],
            "after": ["It commits £250 million."],
            "words": [
                [
                    ["equal", "It commits "],
                    ["delete", "£200"],
                    ["insert", "£250"],
                    ["equal", " million."],
                ]
            ],
        }
    ]
    row = change(diff=diff)
    assert "~ It commits [-£200-] {+£250+} million." in render_change(row, "text").body
    assert "It commits ~£200~ **£250** million." in render_change(row, "slack").body
    email = render_change(row, "email").body
    assert re.search(r"<del [^>]*>.*£200.*</del> <ins [^>]*>.*£250.*</ins>", email)


# --- reminders, digests, storms, health, test ------------------------------------------------


def test_reminder_message() -> None:
    deadline = DeadlineRow(
        1, 7, "DfE", "2023-05-11", "11 May 2023", "Closes <b>11 May</b>.", "2023-05-01"
    )
    message = render_reminder_message(deadline, change(), 3, "2023-05-08", "email", link=LINK)
    assert message.title == (
        "[Reminder] DfE — Children's social care National Framework: closes in 3 days (11 May 2023)"
    )
    assert "Closes &lt;b&gt;11 May&lt;/b&gt;." in message.body
    assert "2023-05-11 (in 3 days)" in message.body and f'href="{LINK}"' in message.body
    tomorrow = render_reminder_message(deadline, change(), 1, "2023-05-10", "text")
    assert "closes tomorrow" in tomorrow.title and "1 day ahead" in tomorrow.body


def test_digest_groups_by_category_with_counts() -> None:
    rows = [
        change(id=1, title="A", category="consultation_open"),
        change(id=2, title="B", category="funding", evidence={}),
        change(id=3, title="C", category="consultation_open"),
    ]
    message = render_digest(rows, "daily", "text", links={1: LINK})
    assert message.title == "Daily digest: 3 changes (2 consultation, 1 funding)"
    body = message.body
    assert body.index("Consultation (2)") < body.index("DfE — A") < body.index("DfE — C")
    assert body.index("DfE — C") < body.index("Funding (1)") < body.index("DfE — B")
    assert f"DfE — A: closes 11 May 2023 ({LINK})" in body
    assert "+ {+The consultation closes on 11 May 2023.+}" in body
    slack = render_digest(rows, "daily", "slack", links={1: LINK}).body
    assert f"](<{LINK}>)" in slack


def test_empty_and_large_digests() -> None:
    assert render_digest([], "weekly", "text").title == "Weekly digest: 0 changes"
    many = [change(id=i) for i in range(60)]
    assert "… and 10 more in the web app" in render_digest(many, "daily", "email").body


def test_storm_names_sources_and_counts_the_rest() -> None:
    rows = [change(id=i, source=f"page-{i}", title=f"Page {i}") for i in range(12)]
    message = render_storm("www.gov.uk", rows, 14, "text", links={0: LINK})
    assert message.title == "[Site change] www.gov.uk: 12 of 14 pages changed in one pass"
    assert f"• page-0 — Page 0 ({LINK})" in message.body
    assert "page-9 — Page 9" in message.body and "page-10" not in message.body
    assert message.body.endswith("and 2 more")
    assert "instead of 12 separate alerts" in message.body


def test_health_failing_and_recovered() -> None:
    source = SourceRow(
        name="dfe",
        url="https://www.gov.uk/x",
        tags=(),
        added_at="2026-11-01T00:00:00+00:00",
        last_error="HTTP 503 <html>",
        error_streak=3,
        last_success_at="2026-11-20T08:00:00+00:00",
    )
    failing = render_health(source, "failing", "the server answers 503", "email")
    assert failing.title == "[Source failing] dfe: 3 checks in a row failed"
    assert "HTTP 503 &lt;html&gt;" in failing.body and "20 Nov 2026 08:00 UTC" in failing.body
    recovered = render_health(replace(source, error_streak=0), "recovered", "HTTP 200", "text")
    assert recovered.title == "[Source recovered] dfe: checks succeed again"
    never = render_health(replace(source, last_success_at=None), "failing", "x", "text")
    assert "Last success: never" in never.body
    with pytest.raises(ValueError, match="unknown health state"):
        render_health(source, "flapping", "x", "text")


def test_test_message() -> None:
    for channel in CHANNELS:
        message = render_test("team-slack", channel)
        assert message.title.replace("\\", "") == "[Test] watcher alert to team-slack"
        assert "team-slack" in message.body
