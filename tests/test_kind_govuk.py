"""The govuk kind over real GOV.UK Content API items (tests/data/publications/PROVENANCE.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from watcher import kinds
from watcher.classify.metadata import stated
from watcher.errors import ExtractError
from watcher.kinds.govuk import content_api_url
from watcher.models import Extracted, Fetched, Source, Validators

DATA = Path(__file__).parent / "data" / "publications" / "govuk-content"
API = "http://127.0.0.1:8765/api/content/x"
SOURCE = Source(name="govuk", url="https://www.gov.uk/x", every=timedelta(hours=1), kind="govuk")


def fetched(text: str, url: str = API) -> Fetched:
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        not_modified=False,
        content_type="application/json",
        body=text.encode("utf-8"),
        text=text,
        validators=Validators(),
        duration_ms=1,
    )


def read(name: str) -> Extracted:
    return kinds.kind("govuk").read(fetched((DATA / name).read_text(encoding="utf-8")), SOURCE)


# file, document type, category it states, title, newest note, attachments, organisations
ITEMS = [
    (
        "open_consultation.json",
        "open_consultation",
        "consultation_open",
        "Postgraduate doctoral loans",
        "Added sub-topic tag.",
        0,
        ("Department for Education",),
    ),
    (
        "closed_consultation_with_documents.json",
        "closed_consultation",
        "consultation_outcome",
        "Review of Museums in England",
        "",
        1,
        ("Department for Culture, Media & Sport",),
    ),
    (
        "consultation_outcome_with_documents.json",
        "consultation_outcome",
        "consultation_outcome",
        "Employee Share Schemes: NIC elections",
        "Published summary of responses document.",
        1,
        ("HM Revenue & Customs",),
    ),
    (
        "consultation_outcome_with_attachments.json",
        "consultation_outcome",
        "consultation_outcome",
        "Setting the grade standards of new GCSEs in England: 2017 & 2018",
        "Published the decisions and analysis of responses.",
        4,
        ("Ofqual",),
    ),
    (
        "foi_release_with_pdf_attachment.json",
        "foi_release",
        "report",
        "Number of ex-regular service personnel in FR20",
        "First published.",
        1,
        ("Ministry of Defence",),
    ),
    (
        "policy_paper_with_documents.json",
        "policy_paper",
        "strategy",
        "Strategy for dealing with safeguarding issues in charities",
        "Updated strategy sets out the Commission’s approach to safeguarding, and explains what "
        "trustees’ charity law duties mean in the context of safeguarding.",
        2,
        ("The Charity Commission",),
    ),
    (
        "news_story.json",
        "news_story",
        "news",
        "Public approval for driving limits for 16 drugs",
        "First published.",
        0,
        ("Department for Transport",),
    ),
    (
        "guidance_17_change_notes.json",
        "guidance",
        "guidance",
        "Closing certain businesses and venues in England",
        "Updated to reflect changes in rules on wearing face coverings.",
        0,
        ("Cabinet Office", "Ministry of Housing, Communities & Local Government"),
    ),
    (
        "cma_case_7_change_notes_15_attachments.json",
        "cma_case",
        None,
        "Topps Tiles / CTD Tiles (certain assets) merger inquiry",
        "Derogations published.",
        15,
        ("Competition and Markets Authority",),
    ),
]


@pytest.mark.parametrize(
    ("name", "document_type", "category", "title", "note", "attachments", "organisations"),
    ITEMS,
    ids=[row[0].removesuffix(".json") for row in ITEMS],
)
def test_each_content_item_reads_its_statements(
    name: str,
    document_type: str,
    category: str | None,
    title: str,
    note: str,
    attachments: int,
    organisations: tuple[str, ...],
) -> None:
    got = read(name)
    meta = dict(got.metadata)
    assert got.title == title
    assert meta["govuk:format"] == meta["govuk:document-type"] == document_type
    assert tuple(v for k, v in got.metadata if k == "govuk:organisation") == organisations
    assert got.note == note
    assert len(got.attachments) == attachments
    assert len(got.paths) == len(got.blocks) and all(p.startswith("govuk/") for p in got.paths)
    item = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert got.blocks[0] == " ".join(item["description"].split())
    # The classifier reads the document type from the same keys as on a GOV.UK HTML page.
    decided = stated(meta)
    assert (decided[0] if decided else None) == category


def test_a_consultation_states_when_it_closes_in_words() -> None:
    open_item = read("open_consultation.json")
    assert (
        "This consultation closes on 16 December 2216 at 4pm (opening date: 4 November 2016 at "
        "10am)." in open_item.blocks
    )
    closed = read("closed_consultation_with_documents.json")
    assert closed.blocks[1].startswith("This consultation closed on 31 October 2016 at 5pm")
    assert not any("closes on" in b or "closed on" in b for b in read("news_story.json").blocks)


def test_attachments_are_absolute_with_their_titles_and_types() -> None:
    structured = read("consultation_outcome_with_attachments.json").attachments
    assert all(a.url.startswith("https://assets.publishing.service.gov.uk/") for a in structured)
    assert {a.content_type for a in structured} == {"application/pdf"}
    assert structured[0].title == "Setting the grade standards of new GCSEs in England – part 2"
    # Rendered attachment blocks link files by path: made absolute against the site read from.
    (embedded,) = read("closed_consultation_with_documents.json").attachments
    assert embedded.url == (
        "http://127.0.0.1:8765/government/uploads/system/uploads/attachment_data/file/550519/"
        "Museums_ReviewTermsofReference-versionforweb.pdf"
    )
    assert embedded.title == "Museums Review Terms of Reference"
    assert embedded.content_type == "application/pdf"
    assert (
        "Attachment: Museums Review Terms of Reference"
        in read("closed_consultation_with_documents.json").blocks
    )


def test_the_body_keeps_its_element_paths() -> None:
    got = read("cma_case_7_change_notes_15_attachments.json")
    assert "govuk/body/table/tbody/tr" in got.paths
    assert any(b.startswith("## ") for b in got.blocks)


def test_a_new_change_note_is_a_change_and_api_bookkeeping_is_not() -> None:
    v1, v2, v3 = (read(f"versions/nectar-flower-mix-ab1.v{n}.json") for n in (1, 2, 3))
    # v1 → v2: two change notes added and the body edited: the newest note summarises it.
    assert v1.blocks != v2.blocks
    assert v1.note == "First published."
    assert v2.note == "Information updated for applications in 2016."
    assert "Latest change (29 March 2016): Information updated for applications in 2016." in (
        v2.blocks
    )
    # v2 → v3: only updated_at, public_updated_at and links.finder changed: nothing to compare.
    assert v3 == v2


def test_the_newest_note_is_found_whatever_the_history_order() -> None:
    item = json.loads((DATA / "guidance_17_change_notes.json").read_text(encoding="utf-8"))
    item["details"]["change_history"].reverse()
    reversed_order = kinds.kind("govuk").read(fetched(json.dumps(item)), SOURCE)
    assert reversed_order.note == read("guidance_17_change_notes.json").note


@pytest.mark.parametrize(
    ("text", "reason", "says"),
    [
        ("<!DOCTYPE html><html><body>Page not found</body></html>", "not_json", "not JSON"),
        ("[1, 2]", "not_content_item", "not a GOV.UK content item"),
        ('{"title": "x"}', "not_content_item", "without document_type"),
        ('{"document_type": "guidance"}', "not_content_item", "without title"),
        ('{"error": {"code": "404"}}', "not_content_item", "without title or document_type"),
    ],
)
def test_what_is_not_a_content_item_is_an_extract_error(text: str, reason: str, says: str) -> None:
    with pytest.raises(ExtractError) as caught:
        kinds.kind("govuk").read(fetched(text), SOURCE)
    assert caught.value.reason == reason
    assert says in str(caught.value) and API in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "base", "api"),
    [
        (
            "https://www.gov.uk/government/consultations/kinship-allowance",
            "https://www.gov.uk",
            "https://www.gov.uk/api/content/government/consultations/kinship-allowance",
        ),
        (
            "https://www.gov.uk/guidance/x/?utm_source=mail#section",
            "http://127.0.0.1:8000/",
            "http://127.0.0.1:8000/api/content/guidance/x",
        ),
        ("https://www.gov.uk/", "https://www.gov.uk", "https://www.gov.uk/api/content"),
        (
            "https://www.gov.uk/api/content/guidance/x",
            "https://www.gov.uk",
            "https://www.gov.uk/api/content/guidance/x",
        ),
    ],
)
def test_locate_maps_a_page_to_its_content_api_path_only(url: str, base: str, api: str) -> None:
    source = Source(name="g", url=url, every=timedelta(hours=1), kind="govuk")
    assert kinds.kind("govuk").locate(source, base) == api
    assert content_api_url(url, base) == api
