"""Evidence extraction: money, dates and deadlines exact on UK formats; names of documents and bodies."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA
from watcher.classify import extract_facts

SAMPLE = [
    json.loads(line)
    for line in (DATA / "evidence_sample.jsonl").read_text().splitlines()
    if line.strip()
]


def _dates(text: str) -> list[str]:
    return [
        f"deadline:{f.text}" if f.kind == "deadline" else f.text
        for f in extract_facts(text)
        if f.kind in ("date", "deadline")
    ]


@pytest.mark.parametrize("item", SAMPLE, ids=[s["text"][:40] for s in SAMPLE])
def test_hand_checked_sample_is_extracted_exactly(item: dict[str, object]) -> None:
    text = str(item["text"])
    assert [f.text for f in extract_facts(text) if f.kind == "money"] == item["money"]
    assert _dates(text) == item["dates"]


@pytest.mark.parametrize(
    ("text", "pounds"),
    [
        ("£1.5bn", "1500000000"),
        ("£200m", "200000000"),
        ("£27 million", "27000000"),
        ("£9m", "9000000"),
        ("£45,000", "45000"),
        ("£2 billion", "2000000000"),
        ("£750k", "750000"),
    ],
)
def test_money_values(text: str, pounds: str) -> None:
    (fact,) = extract_facts(f"Funding of {text} was announced.")
    assert fact.kind == "money" and fact.text == text and fact.value == pounds


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("11 May 2023", "2023-05-11"),
        ("11/05/2023", "2023-05-11"),
        ("11th May", "--05-11"),
        ("May 11, 2023", "2023-05-11"),
        ("1st September 2024", "2024-09-01"),
        ("2023-05-11", "2023-05-11"),
    ],
)
def test_dates_are_day_first_and_normalised(text: str, iso: str) -> None:
    facts = [f for f in extract_facts(f"Published {text}.") if f.kind in ("date", "deadline")]
    assert [(f.text, f.value) for f in facts] == [(text, iso)]


def test_spans_point_at_the_text() -> None:
    text = "DfE said the consultation closes on 11 May 2023, with £200 million over the next two years."
    for fact in extract_facts(text):
        assert text[fact.start : fact.end] == fact.text


def test_names_of_documents_and_organisations() -> None:
    text = (
        "The Department for Education published Stable Homes, Built on Love and consulted on the "
        "National Framework; Family Rights Group welcomed the Kinship Care Strategy."
    )
    names = {(f.kind, f.text) for f in extract_facts(text)}
    assert ("document", "Stable Homes, Built on Love") in names
    assert ("document", "National Framework") in names
    assert ("document", "Kinship Care Strategy") in names
    assert ("organisation", "Department for Education") in names
    assert ("organisation", "Family Rights Group") in names


def test_invalid_dates_are_not_facts() -> None:
    assert [
        f
        for f in extract_facts("Reference 31/02/2023 and 45/13/2023.")
        if f.kind in ("date", "deadline")
    ] == []
