"""The pdf kind over real PDFs (tests/data/publications/PROVENANCE.md): text by page, limits,
and the errors a user sees for scanned, encrypted and broken files."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from watcher import kinds
from watcher.errors import ExtractError
from watcher.kinds.pdf import PAGE_MARK, paragraphs, read_pdf
from watcher.models import Extracted, Fetched, Source, Validators

DATA = Path(__file__).parent / "data" / "publications" / "pdfs"
HMRC = "RiskTriggersReport361.pdf"
DMCA = "us-copyright-office-dmca.pdf"
SCANNED = "scanned-c02-22-no-text-layer.pdf"
URL = "http://127.0.0.1:8765/report.pdf"
SOURCE = Source(name="report", url=URL, every=timedelta(days=1), kind="pdf")
LIGATURES = re.compile("[\ufb00-\ufb06]")


def fetched(body: bytes) -> Fetched:
    return Fetched(
        url=URL,
        final_url=URL,
        status=200,
        not_modified=False,
        content_type="application/pdf",
        body=body,
        text="",
        validators=Validators(),
        duration_ms=1,
    )


@cache
def pdf(name: str) -> bytes:
    return (DATA / name).read_bytes()


@cache
def read(name: str) -> Extracted:
    return kinds.kind("pdf").read(fetched(pdf(name)), SOURCE)


def pages(extracted: Extracted) -> set[int]:
    return {int(p.removeprefix("pdf/p")) for p in extracted.paths if p.startswith("pdf/p")}


def test_the_hmrc_report_is_read_page_by_page() -> None:
    got = read(HMRC)
    assert len(pages(got)) >= 20 and max(pages(got)) == 28
    assert len(got.paths) == len(got.blocks)
    for block, path in zip(got.blocks, got.paths, strict=True):
        assert PAGE_MARK.match(block), block
        assert block.startswith(f"[p. {path.removeprefix('pdf/p')}] ")
    # Its stated title is "Microsoft Word - RiskTriggersReport361": a file name, so the first
    # paragraph names it instead.
    assert got.title == (
        "Research into the Behavioural Effects of building in Risk Triggers to Third Party Software"
    )
    assert "[p. 1] HM Revenue and Customs Research Report 361" in got.blocks
    # Running text is one block a paragraph, with no-break spaces (NFKC) made plain.
    background = next(b for b in got.blocks if b.startswith("[p. 6] The majority of income tax"))
    assert background.endswith("improve tax compliance.")
    assert "\xa0" not in "".join(got.blocks) and not LIGATURES.search("".join(got.blocks))
    # A page number alone on its line is not text.
    assert "[p. 6] 6" not in got.blocks


def test_the_dmca_summary_reads_every_page() -> None:
    got = read(DMCA)
    assert pages(got) == set(range(1, 19))
    assert got.title == "The Digital Millennium Copyright Act of 1998"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ﬁnal ﬂow of ﬁgures", ["The final flow of figures"]),
        (
            "a long line of running text that fills the column and its regu-\nlation continues",
            ["a long line of running text that fills the column and its regulation continues"],
        ),
        ("Self\u2010\nassessment", ["Selfassessment"]),
        ("Keep the dash in e-\nMail", ["Keep the dash in e- Mail"]),
        ("7\nHeading\n\nBody", ["Heading", "Body"]),
        ("Page 3 of 9\nText\n12", ["Text"]),
        ("\x00Text\u200b with\xa0space", ["Text with space"]),
        ("", []),
    ],
)
def test_paragraphs_normalise_ligatures_hyphens_and_page_numbers(
    text: str, expected: list[str]
) -> None:
    assert paragraphs(text) == expected


def test_short_lines_end_paragraphs_and_full_lines_continue_them() -> None:
    page = (
        "1.1 Background\n"
        "The majority of customers use a professional tax agent to assist them in\n"
        "their affairs, and agents may be defined as intermediaries who conduct\n"
        "some of the tax affairs.\n"
        "A second paragraph starts here and runs on across the whole width of the\n"
        "column before it ends.\n"
    )
    assert paragraphs(page) == [
        "1.1 Background",
        "The majority of customers use a professional tax agent to assist them in their affairs, "
        "and agents may be defined as intermediaries who conduct some of the tax affairs.",
        "A second paragraph starts here and runs on across the whole width of the column before "
        "it ends.",
    ]


def test_a_page_mark_is_all_that_differs_when_text_moves_to_another_page() -> None:
    before, after = "[p. 3] The grant is £200 million.", "[p. 4] The grant is £200 million."
    assert PAGE_MARK.sub("", before) == PAGE_MARK.sub("", after) == "The grant is £200 million."
    assert PAGE_MARK.sub("", "See [p. 3] above") == "See [p. 3] above"


def test_a_scanned_pdf_is_a_clear_no_text_error() -> None:
    with pytest.raises(ExtractError) as caught:
        read(SCANNED)
    assert caught.value.reason == "no_text"
    message = str(caught.value)
    assert message.startswith(URL)
    assert "scanned PDF with no text layer (1 page of images)" in message
    assert "watch the page that links it instead" in message


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(DMCA))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_pdf_needs_a_password_and_one_only_owner_locked_is_read() -> None:
    with pytest.raises(ExtractError) as caught:
        read_pdf(_encrypted("secret"), URL)
    assert caught.value.reason == "encrypted" and "encrypted PDF" in str(caught.value)
    # Locked against editing only (empty user password): readers open it, and so does watcher.
    assert read_pdf(_encrypted(""), URL).blocks == read(DMCA).blocks


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "not_pdf"),
        (b"%PDF-1.4\n" + b"x" * 500, "broken_pdf"),
        ("truncated", "broken_pdf"),
    ],
)
def test_a_broken_or_false_pdf_is_an_extract_error_naming_it(
    body: bytes | str, reason: str
) -> None:
    raw = pdf(DMCA)[:3000] if body == "truncated" else body
    assert isinstance(raw, bytes)
    with pytest.raises(ExtractError) as caught:
        kinds.kind("pdf").read(fetched(raw), SOURCE)
    assert caught.value.reason == reason and URL in str(caught.value)


def test_pages_past_the_limit_are_left_out_and_the_blocks_say_so() -> None:
    got = read_pdf(pdf(HMRC), URL, max_pages=3)
    assert pages(got) <= {1, 2, 3}
    assert got.blocks[-1] == "[watcher read the first 3 of 28 pages: the page limit]"
    assert got.paths[-1] == "pdf/limit"


def test_the_time_budget_stops_a_slow_pdf_naming_the_limit() -> None:
    ticks = iter(range(1000))
    with pytest.raises(ExtractError) as caught:
        read_pdf(pdf(HMRC), URL, budget=4.5, clock=lambda: float(next(ticks)))
    assert caught.value.reason == "too_slow"
    assert "over 4.5s by page 5 of 28" in str(caught.value)
