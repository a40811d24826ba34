"""Each normaliser: what it masks, and the money and dates it must leave alone."""

from __future__ import annotations

import pytest

from watcher.normalise import facts, mask, masked_by

MASKED = [
    ("clock", "Generated at 04:44:41", "Generated at 15:53:42"),
    ("clock", "Page built 2026-11-23T09:15:02Z", "Page built 2026-11-23T09:17:45Z"),
    ("stamp", "Last updated 09:30", "Last updated 11:05"),
    ("ago", "Updated 3 minutes ago", "Updated 17 minutes ago"),
    ("ago", "Posted an hour ago", "Posted 5 hours ago"),
    ("ago", "Updated just now", "Updated 2 days ago"),
    ("counter", "347 comments", "188 comments"),
    ("counter", "1,234 views · 12 shares", "1,301 views · 15 shares"),
    ("counter-label", "Comments (12)", "Comments (14)"),
    ("counter-label", "Views: 1.2k", "Views: 1.4k"),
    (
        "uuid",
        "Request 3f2b8c1e-9a4d-4e2f-8b7a-1c2d3e4f5a6b",
        "Request 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ),
    ("hex", "Build 9f86d081884c7d659a2feaa0c55ad015", "Build 2c26b46b68ffc68ff99b453c1d304134"),
    (
        "token",
        "Session qyPliHjJgtGoDFBEwyCepzDUsCjCwgAz",
        "Session vSOrfKzf6z56yt7AiZfXLse6hdv6xZNn",
    ),
    ("cachebust", "See /styles.css?v=1699999", "See /styles.css?v=1700001"),
    ("ago-words", "Published today", "Published yesterday"),
    ("ago-words", "Published yesterday", "Published 2 days ago"),
    ("ago-words", "Updated this morning", "Updated last week"),
    ("ago-words", "Posted earlier today", "Posted a week ago"),
    ("ago-words", "Posted last night", "Posted last month"),
    ("pdf-page", "[p. 3] The grant is paid quarterly.", "[p. 4] The grant is paid quarterly."),
]


@pytest.mark.parametrize(("rule", "before", "after"), MASKED)
def test_volatile_text_compares_equal(rule: str, before: str, after: str) -> None:
    assert before != after
    assert mask(before) == mask(after)
    assert rule in masked_by(before)


KEPT = [
    ("£9 million for kinship carers", "£12 million for kinship carers"),
    ("£1.5bn over three years", "£2bn over three years"),
    ("The consultation closes on 11 May 2023.", "The consultation closes on 18 May 2023."),
    ("Closes 11/05/2023 at 11:59pm", "Closes 18/05/2023 at 11:59pm"),
    ("Responses by 11:59pm on 11 May", "Responses by 5pm on 11 May"),
    ("We will fund 40 local authorities", "We will fund 75 local authorities"),
    ("Published in 2023", "Published in 2024"),
    ("Stable Homes, Built on Love", "Stable Homes, Built on Hope"),
    ("3 consultations opened", "4 consultations opened"),
    # Words that state a deadline, not an age, stay.
    ("The consultation closes today", "The consultation closes tomorrow"),
    ("Responses are due next week", "Responses are due this week"),
    ("Last year 3,000 children waited", "This year 3,000 children waited"),
]


@pytest.mark.parametrize(("before", "after"), KEPT)
def test_money_dates_numbers_and_words_stay_visible(before: str, after: str) -> None:
    assert mask(before) != mask(after)


def test_words_and_names_are_not_tokens() -> None:
    for text in (
        "internationalisation",
        "CybotCookiebotDialog",
        "ABCDEFGHIJKLMNOPQRSTUVWX",
        "the-quick-brown-fox-jumps-over-the-lazy-dog",
        "Department-for-Education-2023",
    ):
        assert mask(text) == text


def test_facts_are_money_and_dates_in_order() -> None:
    text = "£200 million over two years; the consultation closes on 11 May 2023 (11/05/2023)."
    assert facts(text) == ("£200 million", "11 may 2023", "11/05/2023")
