"""Evidence extraction: money, dates and deadlines exact on UK formats; names of documents and bodies."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import CORPUS, DATA
from watcher.classify import extract_facts, gather, sentences

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


MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# A plain pass, independent of the extractor: a pound sign and digits; a day, month and year.
PLAIN = {
    "money": re.compile(r"£\s?\d[\d,]*(?:\.\d+)?"),
    "date": re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+(?:19|20)\d\d\b"
        rf"|\b{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,\s+(?:19|20)\d\d\b"
        r"|\b\d{1,2}/\d{1,2}/(?:19|20)\d\d\b",
        re.I,
    ),
}


def _corpus_texts() -> list[tuple[str, str]]:
    seeds = sorted((CORPUS / "seeds").glob("*.txt"))
    pages = (CORPUS / "classify" / "pages_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [(p.name, p.read_text(encoding="utf-8")) for p in seeds] + [
        (item["id"], item["text"]) for item in map(json.loads, filter(str.strip, pages))
    ]


def test_every_amount_and_full_date_in_the_corpus_is_a_fact() -> None:
    texts = _corpus_texts()
    assert len(texts) == 5 + 173
    expected = found = 0
    missing = []
    for name, text in texts:
        evidence = gather(tuple(text.splitlines()))
        assert len(set(evidence.sentences)) == len(evidence.sentences)  # each sentence once
        seen = set()
        for line in text.splitlines():
            for sentence in sentences(line.lstrip("#- ")):
                if sentence in seen:
                    continue
                seen.add(sentence)
                for kind, plain in PLAIN.items():
                    for m in plain.finditer(sentence):
                        expected += 1
                        index = evidence.sentences.index(sentence)
                        kinds = ("money",) if kind == "money" else ("date", "deadline")
                        if any(
                            i == index and f.kind in kinds and f.start <= m.start() < f.end
                            for f, i in zip(evidence.facts, evidence.of, strict=True)
                        ):
                            found += 1
                        else:
                            missing.append((name, m.group(0)))
    assert expected > 150  # the pass really counted something
    assert not missing and found == expected, missing


def test_evidence_keeps_every_sentence_with_a_fact_and_repeats_none() -> None:
    lines = tuple(f"Round {n} gives £{n} million from {n} May 2026." for n in range(1, 9))
    evidence = gather((*lines, lines[0]))
    assert len(evidence.sentences) == 8
    assert sum(f.kind == "money" for f in evidence.facts) == 8
