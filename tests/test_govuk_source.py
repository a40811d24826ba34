"""A GOV.UK page watched through the Content API, end to end on a loopback server standing in for
www.gov.uk: the publisher's change note as the summary, the stated document type as the category,
no alert where only the HTML around the content moves, and attachments diffed with page numbers.

The content items are alphagov's published examples (tests/data/publications/PROVENANCE.md);
`nectar-flower-mix-ab1` v1, v2 and v3 are three real captures of one page. Where a test needs
something the recordings lack (HTML renderings of an item, an attachment on this machine, a
second version of a PDF), it derives it here and says so.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from tests.conftest import PageServer
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.store import Store

DATA = Path(__file__).parent / "data" / "publications"
VERSIONS = [
    json.loads(
        (DATA / "govuk-content" / "versions" / f"nectar-flower-mix-ab1.v{n}.json").read_text()
    )
    for n in (1, 2, 3)
]
PATH = VERSIONS[0]["base_path"]
PDF = (DATA / "pdfs" / "RiskTriggersReport361.pdf").read_bytes()


def config(tmp_path: Path, site: PageServer, sources: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""
[watcher]
state_dir = "state"
per_host_gap = "0s"
timeout = "10s"
alert_hold = "0s"
govuk_base = "{site.url("/").rstrip("/")}"

[egress]
allow_cidrs = ["127.0.0.0/8"]
{sources}"""
    )
    return load_config(path, environ={})


def serve_item(site: PageServer, item: dict[str, Any]) -> None:
    """The item at its Content API path, its attachments moved to this server (derived: this
    machine reaches no other host), each PDF served as the first pages of a real report."""
    item = json.loads(json.dumps(item))
    for attachment in item["details"].get("attachments") or []:
        name = attachment["url"].rsplit("/", 1)[-1]
        attachment["url"] = site.url(f"/files/{name}")
        if name.endswith(".pdf") and f"/files/{name}" not in site.pages:
            site.set(
                f"/files/{name}", first_pages(PDF, 2), headers={"Content-Type": "application/pdf"}
            )
    site.set(
        "/api/content" + item["base_path"],
        json.dumps(item),
        headers={"Content-Type": "application/json"},
    )


def run(cfg) -> dict[str, str]:  # type: ignore[no-untyped-def]
    results, _ = asyncio.run(check_once(cfg))
    return {r.source: r.outcome for r in results}


def as_html(item: dict[str, Any], visit: int) -> str:
    """The item as a GOV.UK page might render it (derived: no recorded rendering exists), with
    what moves on every visit: a related-links box, a survey banner, a timestamp."""
    rng = random.Random(visit)
    related = "".join(
        f"<li><a href='/r{rng.randint(1, 999)}'>Related {rng.randint(1, 999)}</a></li>"
        for _ in range(4)
    )
    return f"""<!doctype html><html><head><title>{item["title"]} - GOV.UK</title></head><body>
<div class="survey">Tell us what you think of GOV.UK (visit {visit})</div>
<main><h1>{item["title"]}</h1><p>{item.get("description", "")}</p>{item["details"]["body"]}</main>
<aside><h2>Related content</h2><ul>{related}</ul></aside>
<footer>Page served at 2026-11-29T09:{visit:02d}:00Z</footer></body></html>"""


def test_a_new_change_note_is_the_summary_and_a_metadata_only_capture_is_no_change(
    tmp_path: Path, site: PageServer
) -> None:
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "nectar"\nurl = "https://www.gov.uk{PATH}"\n',  # govuk by default
    )
    assert cfg.sources[0].kind == "govuk"
    serve_item(site, VERSIONS[0])
    assert run(cfg)["nectar"] == "baseline"
    serve_item(site, VERSIONS[1])  # two new change notes and a changed body
    assert run(cfg)["nectar"] == "changed"
    serve_item(site, VERSIONS[2])  # only public_updated_at, links.finder and updated_at moved
    assert run(cfg)["nectar"] in ("unchanged", "volatile")
    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.summary == "Information updated for applications in 2016."
        assert change.evidence.decided_by.startswith("metadata")  # the stated document type
    finally:
        store.close()
    assert all(h.path.startswith(("/api/content/", "/files/")) for h in site.requests())


def test_the_api_source_raises_no_alert_where_only_the_html_around_it_moves(
    tmp_path: Path, site: PageServer
) -> None:
    cfg = config(
        tmp_path,
        site,
        f"""
[[source]]
name = "as-api"
url = "https://www.gov.uk{PATH}"

[[source]]
name = "as-html"
url = "{site.url("/page")}"
kind = "page"
""",
    )
    for visit, item in enumerate([VERSIONS[1], VERSIONS[1], VERSIONS[2], VERSIONS[2]]):
        serve_item(site, item)
        site.set("/page", as_html(item, visit))
        outcomes = run(cfg)
        assert outcomes["as-api"] in ("baseline", "unchanged", "not_modified", "volatile")
    store = Store.open(cfg.settings.state_dir)
    try:
        assert [c.source for c in store.changes() if c.source == "as-api"] == []
    finally:
        store.close()


def first_pages(data: bytes, keep: int) -> bytes:
    """The same PDF cut to its first `keep` pages (derived: no two real versions are recorded)."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages[:keep]:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_changed_pdf_attachment_is_a_text_diff_with_page_numbers(
    tmp_path: Path, site: PageServer
) -> None:
    item = json.loads(
        (DATA / "govuk-content" / "consultation_outcome_with_attachments.json").read_text()
    )
    attachment = dict(item["details"]["attachments"][0])
    attachment["url"] = site.url(
        "/files/report.pdf"
    )  # served here: this machine reaches no other host
    item["details"]["attachments"] = [attachment]
    for key in ("featured_attachments", "final_outcome_attachments", "public_feedback_attachments"):
        item["details"].pop(key, None)
    serve_item(site, item)
    pdf = {"Content-Type": "application/pdf"}
    site.set("/files/report.pdf", first_pages(PDF, 6), headers=pdf)
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "ofqual"\nurl = "https://www.gov.uk{item["base_path"]}"\n',
    )
    assert run(cfg)["ofqual"] == "baseline"
    site.set("/files/report.pdf", first_pages(PDF, 7), headers=pdf)  # a page added at the end
    assert run(cfg)["ofqual"] == "changed"
    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.added and all(line.startswith("[p. 7] ") for line in change.added)
        assert not change.removed
    finally:
        store.close()


def test_a_page_read_another_way_starts_from_a_new_baseline(
    tmp_path: Path, site: PageServer
) -> None:
    """Upgrading: a GOV.UK page watched as HTML, now read through the API, is not a change."""
    serve_item(site, VERSIONS[1])
    site.set("/page", as_html(VERSIONS[1], 0))
    as_page = config(tmp_path, site, f'[[source]]\nname = "n"\nurl = "{site.url("/page")}"\n')
    assert run(as_page)["n"] == "baseline"
    as_api = config(tmp_path, site, f'[[source]]\nname = "n"\nurl = "https://www.gov.uk{PATH}"\n')
    assert run(as_api)["n"] == "baseline"
    assert run(as_api)["n"] in ("unchanged", "volatile")
