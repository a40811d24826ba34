"""Block marks read back for people (watcher/blockmarks.py), and the words around them that
alerts and pages use: page titles without their site suffix, dates as people write them, and
struck and new words apart. Tables of inputs and expected outputs, no servers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.test_render import change
from watcher import blockmarks
from watcher.diff import diff_blocks, render_diff
from watcher.extract import extract
from watcher.models import Evidence
from watcher.notify.render import render_change
from watcher.presentation import day, page_title
from watcher.web.present import inline_rows, side_rows, snippet_pieces


@pytest.mark.parametrize(
    ("stored", "kind", "level", "plain"),
    [
        ("## Changes to this page", "heading", 2, "Changes to this page"),
        ("###### Deep", "heading", 6, "Deep"),
        ("- First item", "item", 0, "• First item"),
        ("We will spend £9 million.", "text", 0, "We will spend £9 million."),
        ("#hashtag is a word", "text", 0, "#hashtag is a word"),
        ("- ", "text", 0, "- "),  # a lone dash is what the page says
        ("####### seven", "text", 0, "####### seven"),
    ],
)
def test_a_block_is_read_as_a_heading_an_item_or_text(
    stored: str, kind: str, level: int, plain: str
) -> None:
    block = blockmarks.read(stored)
    assert (block.kind, block.level, block.plain) == (kind, level, plain)


def test_extraction_writes_the_marks_this_module_reads() -> None:
    html = "<main><h2>Notes</h2><ul><li>One</li></ul><p>Text</p></main>"
    blocks = extract(html).blocks
    assert [blockmarks.read(b).kind for b in blocks] == ["heading", "item", "text"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Intro\n## Changes to this page\n- First", "Intro\nChanges to this page\n• First"),
        ("…## Notes to editors", "…Notes to editors"),
        ("1 block added: ## Notes", "1 block added: Notes"),
        ("2 blocks edited, 1 block added: - An item", "2 blocks edited, 1 block added: • An item"),
        ("Costs - and benefits", "Costs - and benefits"),
    ],
)
def test_stored_text_and_summaries_lose_their_marks(text: str, shown: str) -> None:
    assert blockmarks.plain_lines(text) == shown


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Kinship care - GOV.UK", "Kinship care"),
        ("Annual report | Children's Commissioner for England", "Annual report"),
        ("Kinship care – BBC News", "Kinship care"),
        ("Kinship care - support for carers", "Kinship care - support for carers"),
        ("GOV.UK", "GOV.UK"),
        ("Stable Homes, Built on Love", "Stable Homes, Built on Love"),
    ],
)
def test_page_titles_lose_their_site_suffix(title: str, shown: str) -> None:
    assert page_title(title) == shown


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("2027-05-11", "11 May 2027"),
        ("2027-05-11T09:00:00+00:00", "11 May 2027"),
        ("soon", "soon"),
        ("", ""),
    ],
)
def test_dates_read_as_people_write_them(stamp: str, shown: str) -> None:
    assert day(stamp) == shown


DIFF = diff_blocks(
    ["## Changes to this page", "- Second item 9", "We will spend £9 million."],
    ["## Changes to the page", "- Second item 12", "We will spend £12 million.", "### Notes"],
)


def test_word_marked_blocks_lose_their_mark_and_keep_struck_and_new_words_apart() -> None:
    rows = inline_rows(DIFF)
    shown = ["".join(p.text for p in row.pieces) for row in rows]
    assert shown == [
        "Changes to this the page",
        "• Second item 9 12",
        "We will spend £9 £12 million.",
        "Notes",
    ]
    assert [row.block for row in rows] == ["heading", "item", "text", "heading"]
    side = side_rows(DIFF)
    assert "".join(p.text for p in side[1].after or ()) == "• Second item 12"
    assert [row.block for row in side] == ["heading", "item", "text", "heading"]


def test_search_snippets_lose_their_marks() -> None:
    pieces = snippet_pieces("…## Changes \ue000million\ue001\n- First")
    assert "".join(p.text for p in pieces) == "…Changes million\n• First"


@pytest.mark.parametrize("channel", ["email", "text", "slack", "mattermost", "matrix"])
def test_no_alert_shows_a_block_mark(channel: str) -> None:
    row = replace(
        change(summary="1 block added: ## Notes to editors"), diff=DIFF, evidence=Evidence()
    )
    message = render_change(row, channel)
    for mark in ("## ", "### ", "~ - ", "+ - "):
        assert mark not in message.body.replace("\\#", "#"), (channel, mark)
    assert "Notes to editors" in message.body


@pytest.mark.parametrize("channel", ["email", "slack", "mattermost", "teams"])
def test_a_heading_from_the_page_is_escaped_like_any_page_text(channel: str) -> None:
    hostile = "## <script>alert(1)</script> **bold** <!channel> [x](https://evil.example)"
    diff = diff_blocks(["Intro"], ["Intro", hostile])
    body = render_change(replace(change(), diff=diff, evidence=Evidence()), channel).body
    assert "<script>" not in body and "<!channel>" not in body
    if channel != "email":  # Markdown channels: no link can form (HTML shows the words inert)
        assert "](https://evil.example)" not in body
    else:
        assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt; **bold**" in body


def test_the_text_diff_of_the_cli_and_atom_feed_shows_no_block_mark() -> None:
    assert render_diff(DIFF).splitlines() == [
        "~ Changes to [-this-]{+the+} page",
        "~ • Second item [-9-]{+12+}",
        "~ We will spend [-£9-]{+£12+} million.",
        "+ Notes",
    ]
