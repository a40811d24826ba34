"""Block diff with word marks: tables of inputs and the diff they give."""

from __future__ import annotations

import json
import time

import pytest

from watcher.diff import (
    diff_blocks,
    diff_from_dict,
    diff_to_dict,
    regroup,
    render_diff,
    render_words,
    similarity,
    summarise,
    word_diff,
)
from watcher.models import Diff, Hunk, WordOp

BEFORE = (
    "# Stable Homes, Built on Love",
    "The programme is backed by £9 million over the next two years.",
    "The consultation closes on 11 May 2023.",
    "- Children's social care strategy",
)


def test_identical_input_gives_an_empty_falsy_diff() -> None:
    diff = diff_blocks(BEFORE, list(BEFORE))
    assert diff == Diff(())
    assert not diff
    assert diff.added == () and diff.removed == ()
    assert render_diff(diff) == ""
    assert summarise(diff) == ""
    assert diff_to_dict(diff) == []
    assert not diff_blocks([], [])


def test_insert() -> None:
    after = (*BEFORE[:2], "A new workforce consultation opens in June.", *BEFORE[2:])
    diff = diff_blocks(BEFORE, after)
    assert diff.hunks == (
        Hunk("insert", (), ("A new workforce consultation opens in June.",), (), 2, 2),
    )
    assert diff.added == ("A new workforce consultation opens in June.",)
    assert diff.removed == ()
    assert render_diff(diff) == "+ A new workforce consultation opens in June."
    assert summarise(diff) == "1 block added: A new workforce consultation opens in June."


def test_delete() -> None:
    diff = diff_blocks(BEFORE, BEFORE[:2] + BEFORE[3:])
    assert diff.hunks == (Hunk("delete", (BEFORE[2],), (), (), 2, 2),)
    assert diff.removed == (BEFORE[2],) and diff.added == ()
    assert render_diff(diff) == "- The consultation closes on 11 May 2023."
    assert summarise(diff) == "1 block removed: The consultation closes on 11 May 2023."


def test_replace_marks_the_changed_words() -> None:
    after = (BEFORE[0], BEFORE[1].replace("£9 million", "£12 million"), *BEFORE[2:])
    diff = diff_blocks(BEFORE, after)
    assert len(diff.hunks) == 1
    hunk = diff.hunks[0]
    assert hunk.op == "replace"
    assert hunk.before == (BEFORE[1],) and hunk.after == (after[1],)
    (marks,) = hunk.words
    deleted = [w.text for w in marks if w.op == "delete"]
    inserted = [w.text for w in marks if w.op == "insert"]
    assert deleted == ["£9"] and inserted == ["£12"]
    assert "".join(w.text for w in marks if w.op != "insert") == BEFORE[1]
    assert "".join(w.text for w in marks if w.op != "delete") == after[1]
    assert (
        render_diff(diff)
        == "~ The programme is backed by [-£9-]{+£12+} million over the next two years."
    )
    assert summarise(diff) == f"1 block edited: {after[1]}"
    assert diff.added == (after[1],) and diff.removed == (BEFORE[1],)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("£9 million", "£12 million", [("delete", "£9"), ("insert", "£12"), ("equal", " million")]),
        (
            "closes on 11 May",
            "closes on 18 May",
            [("equal", "closes on "), ("delete", "11"), ("insert", "18"), ("equal", " May")],
        ),
        ("open now", "open now", [("equal", "open now")]),
        ("a b", "a b c", [("equal", "a b"), ("insert", " c")]),
        ("a b c", "a c", [("equal", "a "), ("delete", "b "), ("equal", "c")]),
        ("", "new", [("insert", "new")]),
        ("old", "", [("delete", "old")]),
    ],
)
def test_word_diff_table(a: str, b: str, expected: list[tuple[str, str]]) -> None:
    ops = word_diff(a, b)
    assert [(w.op, w.text) for w in ops] == expected
    assert "".join(w.text for w in ops if w.op != "insert") == a
    assert "".join(w.text for w in ops if w.op != "delete") == b


def test_word_diff_merges_adjacent_runs() -> None:
    ops = word_diff("one two three four", "one 2 3 four")
    assert [(w.op, w.text) for w in ops] == [
        ("equal", "one "),
        ("delete", "two three"),
        ("insert", "2 3"),
        ("equal", " four"),
    ]
    assert render_words(ops) == "one [-two three-]{+2 3+} four"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Funding opens in March for all applicants",
            "The board will meet quarterly to review progress",
        ),
        ("Read our summary", "Find out more about our work with carers"),
        ("Closed", "Open"),
    ],
)
def test_dissimilar_replace_gets_no_word_marks(a: str, b: str) -> None:
    diff = diff_blocks(["Same start.", a, "Same end."], ["Same start.", b, "Same end."])
    (hunk,) = diff.hunks
    assert hunk.op == "replace"
    assert hunk.words == ((),)
    assert render_diff(diff) == f"- {a}\n+ {b}"
    assert summarise(diff) == f"1 block added, 1 block removed: {b}"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The consultation closes on 11 May 2023.", "The consultation has now closed."),
        ("Status: open", "Status: closed"),
        ("Deadline: 11 May 2023", "Deadline: 18 May 2023"),
    ],
)
def test_similar_replace_gets_word_marks(a: str, b: str) -> None:
    (hunk,) = diff_blocks([a], [b]).hunks
    assert hunk.words and hunk.words[0]
    assert render_diff(diff_blocks([a], [b])).startswith("~ ")


def test_similarity_bounds() -> None:
    assert similarity("same words here", "same words here") == 1.0
    assert similarity("", "") == 1.0
    assert similarity("alpha beta", "gamma delta") == 0.0
    assert 0.0 < similarity("£9 million", "£12 million") < 1.0


def test_similarity_is_fast_on_long_blocks() -> None:
    a = " ".join(f"word{n % 97}" for n in range(5000))
    b = " ".join(f"term{n % 89}" for n in range(5000))
    started = time.monotonic()
    assert similarity(a, b) == 0.0
    assert time.monotonic() - started < 2.0


def test_uneven_replace_pairs_what_it_can_and_lists_the_rest() -> None:
    before = ["Intro.", "The fund is £9 million.", "Old closing line.", "Outro."]
    after = ["Intro.", "The fund is £12 million.", "Outro."]
    diff = diff_blocks(before, after)
    (hunk,) = diff.hunks
    assert hunk.op == "replace" and len(hunk.words) == 1
    assert render_diff(diff) == "~ The fund is [-£9-]{+£12+} million.\n- Old closing line."
    assert summarise(diff) == "1 block edited, 1 block removed: The fund is £12 million."


def test_render_caps_lines() -> None:
    before = [f"Paragraph {n} stays." for n in range(3)]
    after = [*before, *(f"New paragraph number {n}." for n in range(10))]
    diff = diff_blocks(before, after)
    full = render_diff(diff)
    assert full.count("\n") == 9
    capped = render_diff(diff, max_lines=4)
    assert capped.splitlines() == [
        "+ New paragraph number 0.",
        "+ New paragraph number 1.",
        "+ New paragraph number 2.",
        "+ New paragraph number 3.",
        "… 6 more lines",
    ]
    assert render_diff(diff, max_lines=9).splitlines()[-1] == "… 1 more line"
    assert render_diff(diff, max_lines=10) == full
    assert render_diff(diff, max_lines=0) == "… 10 more lines"


def test_summary_counts_and_truncates_the_lead() -> None:
    long_line = "x" * 300
    diff = diff_blocks(["a", "b"], ["a", "b", long_line, "c"])
    summary = summarise(diff)
    assert summary.startswith("2 blocks added: ")
    lead = summary.split(": ", 1)[1]
    assert len(lead) == 120 and lead.endswith("…")


def test_several_hunks_in_order() -> None:
    before = ["A", "B", "C", "D", "E"]
    after = ["A", "B2 new", "C", "E", "F"]
    diff = diff_blocks(before, after)
    assert [h.op for h in diff.hunks] == ["replace", "delete", "insert"]
    assert diff.added == ("B2 new", "F")
    assert diff.removed == ("B", "D")
    assert render_diff(diff) == "- B\n+ B2 new\n- D\n+ F"


def test_dict_round_trip_through_json() -> None:
    before = list(BEFORE)
    after = [BEFORE[0], BEFORE[1].replace("£9", "£12"), "Brand new block.", BEFORE[3], "Tail."]
    diff = diff_blocks(before, after)
    assert any(h.words for h in diff.hunks)
    data = json.loads(json.dumps(diff_to_dict(diff)))
    assert diff_from_dict(data) == diff
    assert render_diff(diff_from_dict(data)) == render_diff(diff)


def test_dict_form_is_plain_and_tolerates_missing_words() -> None:
    diff = Diff(
        (
            Hunk(
                "replace",
                ("a b",),
                ("a c",),
                ((WordOp("equal", "a "), WordOp("delete", "b"), WordOp("insert", "c")),),
            ),
        )
    )
    assert diff_to_dict(diff) == [
        {
            "op": "replace",
            "before": ["a b"],
            "after": ["a c"],
            "words": [[["equal", "a "], ["delete", "b"], ["insert", "c"]]],
            "at_before": 0,
            "at_after": 0,
        }
    ]
    assert diff_from_dict([{"op": "insert", "before": [], "after": ["x"]}]) == Diff(
        (Hunk("insert", (), ("x",)),)
    )


def test_a_reworded_block_pairs_with_its_own_old_text_wherever_it_sits() -> None:
    old = ("The council will publish a plan for family help.", "Contact us for details.")
    new = (
        "A new paragraph about kinship carers comes first.",
        "The council is now asked to publish a plan for family help.",
    )
    hunks = regroup(old, new, 4, 4)
    edits = [(h.before, h.after) for h in hunks if any(h.words)]
    assert edits == [((old[0],), (new[1],))]
    assert [h.op for h in hunks] == ["insert", "replace", "delete"]
    assert [(h.at_before, h.at_after) for h in hunks] == [(4, 4), (4, 5), (5, 6)]
    assert render_diff(Diff(tuple(hunks))).splitlines() == [
        "+ A new paragraph about kinship carers comes first.",
        "~ The council [-will-]{+is now asked to+} publish a plan for family help.",
        "- Contact us for details.",
    ]


def test_blocks_with_nothing_in_common_stay_removed_and_added() -> None:
    hunks = regroup(("Alpha beta gamma.",), ("Delta epsilon zeta.",), 0, 0)
    assert [(h.op, h.words) for h in hunks] == [("replace", ((),))]
