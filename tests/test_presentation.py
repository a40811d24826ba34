"""The one vocabulary every surface uses: labels, timestamps, durations, links, diff rows, the
change JSON shape. Tables of inputs and the words expected."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from watcher.categories import CATEGORIES
from watcher.diff import DiffRow, diff_blocks, diff_rows, render_diff
from watcher.models import Diff, Evidence, WordOp
from watcher.presentation import (
    ALERT_LABELS,
    CATEGORY_LABELS,
    category_label,
    change_json,
    compact_duration,
    days_left,
    is_web_url,
    safe_href,
    when,
)
from watcher.rows import ChangeRow, TimelineItem


def test_every_category_has_one_label_on_every_surface() -> None:
    assert set(CATEGORY_LABELS) == {*CATEGORIES, "none"}
    assert set(ALERT_LABELS) == set(CATEGORY_LABELS)
    for category in CATEGORIES:
        for surface in ("display", "alert", "feed"):
            label = category_label(category, surface)
            assert label and "_" not in label, (category, surface)


@pytest.mark.parametrize(
    ("category", "display", "alert", "feed"),
    [
        ("consultation_open", "Consultation open", "Consultation", "consultation open"),
        (
            "consultation_outcome",
            "Consultation outcome",
            "Consultation outcome",
            "consultation outcome",
        ),
        ("strategy", "Strategy", "Strategy", "strategy"),
        ("funding", "Funding", "Funding", "funding"),
        ("guidance", "Guidance", "Guidance", "guidance"),
        ("report", "Report", "Report", "report"),
        ("legislation", "Legislation", "Legislation", "legislation"),
        ("news", "News", "News", "news"),
        ("minor", "Minor edit", "Minor edit", "minor edit"),
        ("none", "Change", "Change", "change"),
        (None, "Change", "Change", "change"),
        ("", "Change", "Change", "change"),
        ("brand_new", "Brand new", "Brand new", "brand new"),
        ("odd\x1b_name", "Odd name", "Odd name", "odd name"),
    ],
)
def test_category_labels(category: str | None, display: str, alert: str, feed: str) -> None:
    assert category_label(category) == display
    assert category_label(category, "alert") == alert
    assert category_label(category, "feed") == feed


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("2026-11-23T09:00:00+00:00", "23 Nov 2026 09:00 UTC"),
        ("2026-11-03T09:05:00+00:00", "3 Nov 2026 09:05 UTC"),
        ("2026-11-03T09:05:00+01:00", "3 Nov 2026 08:05 UTC"),  # shown in UTC
        ("2026-11-03T09:05:00", "3 Nov 2026 09:05"),  # no zone known, none named
        ("not a time\x1b", "not a time"),
        (None, ""),
        ("", ""),
    ],
)
def test_timestamps(stamp: str | None, shown: str) -> None:
    assert when(stamp) == shown


def test_a_missing_timestamp_can_read_as_a_dash() -> None:
    assert when(None, empty="–") == "–"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(86400, "1d"), (6 * 3600, "6h"), (90 * 60, "90m"), (600, "10m"), (90, "90s"), (0, "0s")],
)
def test_compact_durations(seconds: float, shown: str) -> None:
    assert compact_duration(seconds) == shown


@pytest.mark.parametrize(
    ("due", "today", "shown"),
    [
        ("2026-11-30", "2026-11-23", "in 7 days"),
        ("2026-11-24", "2026-11-23", "tomorrow"),
        ("2026-11-23", "2026-11-23", "today"),
        ("2026-11-20", "2026-11-23", "today"),
        (date(2026, 12, 1), date(2026, 11, 23), "in 8 days"),
    ],
)
def test_days_left(due: str | date, today: str | date, shown: str) -> None:
    assert days_left(due, today) == shown


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://www.gov.uk/guidance/x", True),
        ("http://127.0.0.1:8080/changes/1", True),
        ("HTTPS://WWW.GOV.UK/", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("file:///etc/passwd", False),
        ("mailto:a@example.org", False),
        ("//evil.example/x", False),
        ("/changes/1", False),
        ("https://", False),
        ("https://exa mple.org/", False),
        ("https://example.org/\nSet-Cookie: x", False),
        ("https://example.org/\x00", False),
        ("https://evil\u202eelpmaxe.org/", False),
        ("http://[::1", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_become_links(url: str | None, linked: bool) -> None:
    assert is_web_url(url) is linked
    assert safe_href(url) == (url if linked else None)


def test_diff_rows_walk_every_block_once_in_order() -> None:
    before = ("Intro.", "Funding is £200 million this year.", "Old note.", "Tail.")
    after = ("Intro.", "Funding is £250 million this year.", "Tail.", "New line.")
    rows = list(diff_rows(diff_blocks(before, after)))
    assert [row.kind for row in rows] == ["edit", "delete", "insert"]
    edit = rows[0]
    assert edit.before == before[1] and edit.after == after[1]
    assert WordOp("insert", "£250") in edit.words and WordOp("delete", "£200") in edit.words
    assert rows[1] == DiffRow("Old note.", None)
    assert rows[2] == DiffRow(None, "New line.")
    assert render_diff(diff_blocks(before, after)).splitlines() == [
        "~ Funding is [-£200-]{+£250+} million this year.",
        "- Old note.",
        "+ New line.",
    ]


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        (DiffRow("a", "b", (WordOp("delete", "a"), WordOp("insert", "b"))), "edit"),
        (DiffRow("a", "b"), "replace"),
        (DiffRow("a", None), "delete"),
        (DiffRow(None, "b"), "insert"),
    ],
)
def test_diff_row_kinds(row: DiffRow, kind: str) -> None:
    assert row.kind == kind


ROW = ChangeRow(
    id=7,
    source="dfe",
    url="https://www.gov.uk/x",
    detected_at="2026-11-23T09:00:00+00:00",
    title="Stable Homes",
    summary="1 block edited",
    category="funding",
    added=("£250 million",),
    removed=("£200 million",),
    evidence=Evidence(categories=(("funding", 0.82, ""),)),
    before_hash="a" * 64,
    after_hash="b" * 64,
    check_id=1,
    diff=Diff(()),
)
LISTED = TimelineItem(
    7,
    "dfe",
    "https://www.gov.uk/x",
    "2026-11-23T09:00:00+00:00",
    "Stable Homes",
    "1 block edited",
    "funding",
    "reviewed",
    None,
    0.5,
    "The fund opens.",
)


def test_change_json_has_one_shape_for_cli_api_and_exports() -> None:
    cli = change_json(ROW)
    assert cli["confidence"] == 0.82 and cli["before"] == "a" * 64 and "link" not in cli
    assert set(cli) == {
        *("id", "source", "url", "detected_at", "title", "summary", "category", "confidence"),
        *(
            "corrected_by",
            "corrected_at",
            "topics",
            "added",
            "removed",
            "evidence",
            "before",
            "after",
            "diff",
            "sha256",
            "retrieved_at",
        ),
    }
    assert cli["sha256"] == cli["after"] and cli["retrieved_at"] == cli["detected_at"]
    assert cli["evidence"]["categories"][0]["label"] == "funding"
    api = change_json(replace(ROW, review_state="reviewed"), "http://w")
    assert api["link"] == "http://w/changes/7" and api["review_state"] == "reviewed"
    listed = change_json(LISTED, "http://w", detail=False)
    assert listed["confidence"] == 0.5  # a listed confidence is taken as it is
    assert "diff" not in listed and listed["evidence_sentence"] == "The fund opens."
    assert change_json(LISTED, "http://w", detail=True).keys() == listed.keys()
