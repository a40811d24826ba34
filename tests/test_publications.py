"""Publications end to end: listing-style sources (feed, GOV.UK search, listing) on loopback
servers, each new item read through its own kind, classified, recorded once and alerted once.

GOV.UK answers come from alphagov's published example content items (tests/data/publications,
see its PROVENANCE.md), served by a loopback server standing in for www.gov.uk (`govuk_base`).
Feeds and listing pages are written here, in the shapes real publishers use.
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PageServer, html_page
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.store import Store

DATA = Path(__file__).parent / "data" / "publications"
CONSULTATION = json.loads((DATA / "govuk-content" / "open_consultation.json").read_text())
GOVUK_PAGE = "https://www.gov.uk" + CONSULTATION["base_path"]
KINSHIP = [
    "Kinship carers raise children who cannot live with their parents.",
    "The Department for Education has launched a consultation on a kinship allowance.",
    "The consultation closes on 11 May 2027.",
]


def config(tmp_path: Path, site: PageServer, sources: str, receiver: PageServer | None = None):  # type: ignore[no-untyped-def]
    text = f"""
[watcher]
state_dir = "state"
per_host_gap = "0s"
timeout = "5s"
alert_hold = "0s"
govuk_base = "{site.url("/").rstrip("/")}"

[egress]
allow_cidrs = ["127.0.0.0/8"]
"""
    env = {}
    if receiver is not None:
        text += '\n[[notify]]\nname = "hook"\nenv = "HOOK_URL"\n'
        env["HOOK_URL"] = f"json://127.0.0.1:{receiver.port}/hook"
    path = tmp_path / "sources.toml"
    path.write_text(text + sources)
    return load_config(path, environ=env)


def run(cfg):  # type: ignore[no-untyped-def]
    results, report = asyncio.run(check_once(cfg))
    return {r.source: r for r in results}, report


def rss(site: PageServer, entries: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link>"
        f"<pubDate>{d}</pubDate><description>{html.escape(t)}</description></item>"
        for u, t, d in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>{site.url('/')}</link><description>d</description>{items}</channel></rss>"
    )


def listing(links: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><h3><a href="{html.escape(u)}">{html.escape(t)}</a></h3><p>Published 2026</p></li>'
        for u, t in links
    )
    return (
        "<!doctype html><html><head><title>Latest publications</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/about">About</a></nav>'
        f"<main><h1>Latest publications</h1><ul>{items}</ul>"
        '<nav class="pagination"><a href="?page=2">Next</a></nav></main></body></html>'
    )


def search_json(results: list[dict[str, Any]]) -> str:
    """The real envelope of a GOV.UK search response, with these results in it."""
    envelope = json.loads((DATA / "govuk-search" / "search_q-tax_count-1.json").read_text())
    envelope["results"], envelope["total"] = results, len(results)
    return json.dumps(envelope)


def consultation_result() -> dict[str, Any]:
    """The open consultation as the Search API lists it (fields taken from its content item)."""
    return {
        "title": CONSULTATION["title"],
        "link": CONSULTATION["base_path"],
        "description": CONSULTATION.get("description", ""),
        "format": "consultation",
        "content_store_document_type": CONSULTATION["document_type"],
        "public_timestamp": CONSULTATION.get("public_updated_at", ""),
        "organisations": [
            {"title": o["title"]} for o in CONSULTATION["links"].get("organisations", [])
        ],
    }


def posts(receiver: PageServer) -> list[dict[str, Any]]:
    return [json.loads(h.body) for h in receiver.requests("/hook", "POST")]


def test_a_new_feed_entry_is_read_classified_and_alerted_once(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    old = [(site.url("/news/old.html"), "Our annual report", "Mon, 02 Nov 2026 09:00:00 GMT")]
    site.set("/news.rss", rss(site, old), headers={"Content-Type": "application/rss+xml"})
    site.set("/news/old.html", html_page("Our annual report", ["An older story about us."]))
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "news"\nurl = "{site.url("/news.rss")}"\nkind = "feed"\n',
        receiver,
    )
    first, _ = run(cfg)
    assert first["news"].outcome == "baseline" and posts(receiver) == []

    new = (site.url("/news/kinship.html"), "Kinship allowance", "Sun, 29 Nov 2026 09:00:00 GMT")
    site.set("/news/kinship.html", html_page("Kinship allowance consultation", KINSHIP))
    site.set("/news.rss", rss(site, [new, *old]), headers={"Content-Type": "application/rss+xml"})
    second, _ = run(cfg)
    assert second["news"].outcome == "changed"
    [post] = posts(receiver)
    assert post["title"].startswith("[New consultation] news — Kinship allowance consultation")
    assert "closes 11 May 2027" in post["title"]
    third, _ = run(cfg)  # the same feed again: nothing new
    assert third["news"].outcome in ("unchanged", "not_modified") and len(posts(receiver)) == 1

    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.kind == "publication" and change.category == "consultation_open"
        assert change.url == site.url("/news/kinship.html")
        assert any("11 May 2027" in b for b in change.added)
        pubs = store.publications()
        assert {p.url for p in pubs} == {
            f"https://127.0.0.1:{site.port}/news/kinship.html",
            f"https://127.0.0.1:{site.port}/news/old.html",
        }
        assert [p.change_id for p in pubs if "kinship" in p.url] == [change.id]
    finally:
        store.close()


def test_an_updated_feed_entry_is_one_change(tmp_path: Path, site: PageServer) -> None:
    entry = [(site.url("/n/plan.html"), "Delivery plan", "Mon, 02 Nov 2026 09:00:00 GMT")]
    site.set("/feed.xml", rss(site, entry), headers={"Content-Type": "application/rss+xml"})
    cfg = config(
        tmp_path, site, f'[[source]]\nname = "n"\nurl = "{site.url("/feed.xml")}"\nkind = "feed"\n'
    )
    run(cfg)
    later = [(entry[0][0], "Delivery plan", "Fri, 27 Nov 2026 09:00:00 GMT")]
    site.set("/feed.xml", rss(site, later), headers={"Content-Type": "application/rss+xml"})
    results, _ = run(cfg)
    assert results["n"].outcome == "changed"
    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.kind == "update" and change.url == entry[0][0]
        assert "2026-11-27" in change.summary
    finally:
        store.close()


def test_a_listing_gaining_one_at_the_top_and_losing_one_at_the_bottom_is_one_publication(
    tmp_path: Path, site: PageServer
) -> None:
    pages = [
        (site.url(f"/pub/{i}.html"), f"Report number {i} on children's services") for i in range(12)
    ]
    for url, title in pages:
        site.set(url.removeprefix(site.url("/")[:-1]), html_page(title, [f"{title}, in full."]))
    site.set("/latest", listing(pages[1:11]))
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "latest"\nurl = "{site.url("/latest")}"\nkind = "listing"\n',
    )
    assert run(cfg)[0]["latest"].outcome == "baseline"
    site.set("/latest", listing(pages[0:10]))  # one new at the top, one gone from the bottom
    assert run(cfg)[0]["latest"].outcome == "changed"
    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.kind == "publication" and change.url == pages[0][0]
    finally:
        store.close()


def test_one_publication_through_a_search_a_feed_and_a_listing_is_one_record_and_one_alert(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    site.set(
        "/api/content" + CONSULTATION["base_path"],
        json.dumps(CONSULTATION),
        headers={"Content-Type": "application/json"},
    )
    other = copy.deepcopy(consultation_result())
    other.update(title="Older guidance", link="/guidance/older")
    site.set("/api/search.json", search_json([other]), headers={"Content-Type": "application/json"})
    site.set(
        "/feed.xml",
        rss(
            site, [("https://www.gov.uk/guidance/older", "Older", "Mon, 02 Nov 2026 09:00:00 GMT")]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    site.set("/hub", listing([("https://www.gov.uk/guidance/older", "Older guidance")] * 1))
    sources = f"""
[[source]]
name = "dfe-search"
url = "https://www.gov.uk/search/all"
kind = "govuk-search"
query = {{ filter_organisations = "department-for-education" }}

[[source]]
name = "sector-feed"
url = "{site.url("/feed.xml")}"
kind = "feed"

[[source]]
name = "hub"
url = "{site.url("/hub")}"
kind = "listing"
"""
    cfg = config(tmp_path, site, sources, receiver)
    run(cfg)
    # The consultation appears in all three at once.
    site.set(
        "/api/search.json",
        search_json([consultation_result(), other]),
        headers={"Content-Type": "application/json"},
    )
    site.set(
        "/feed.xml",
        rss(
            site,
            [
                (GOVUK_PAGE, CONSULTATION["title"], "Sun, 29 Nov 2026 09:00:00 GMT"),
                ("https://www.gov.uk/guidance/older", "Older", "Mon, 02 Nov 2026 09:00:00 GMT"),
            ],
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    site.set(
        "/hub",
        listing(
            [
                (GOVUK_PAGE, CONSULTATION["title"]),
                ("https://www.gov.uk/guidance/older", "Older guidance"),
            ]
        ),
    )
    run(cfg)
    assert len(posts(receiver)) == 1
    store = Store.open(cfg.settings.state_dir)
    try:
        pub = next(p for p in store.publications() if p.url.endswith(CONSULTATION["base_path"]))
        assert sorted(pub.sources) == ["dfe-search", "hub", "sector-feed"]
        assert pub.category == "consultation_open"  # from the item's stated document type
        assert [c.kind for c in store.changes()] == ["publication"]
    finally:
        store.close()


def test_follow_adds_a_new_publication_as_a_source_of_its_own(
    tmp_path: Path, site: PageServer
) -> None:
    site.set("/feed.xml", rss(site, []), headers={"Content-Type": "application/rss+xml"})
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "f"\nurl = "{site.url("/feed.xml")}"\nkind = "feed"\nfollow = true\n',
    )
    run(cfg)
    site.set("/k.html", html_page("Kinship allowance consultation", KINSHIP))
    site.set(
        "/feed.xml",
        rss(site, [(site.url("/k.html"), "Kinship", "Sun, 29 Nov 2026 09:00:00 GMT")]),
        headers={"Content-Type": "application/rss+xml"},
    )
    run(cfg)
    results, _ = run(cfg)  # the followed page is checked in the next pass: its baseline
    followed = [name for name in results if name != "f"]
    assert len(followed) == 1 and results[followed[0]].outcome == "baseline"
    site.set("/k.html", html_page("Kinship allowance consultation", [*KINSHIP, "It was extended."]))
    results, _ = run(cfg)  # and from then on its edits are changes
    assert results[followed[0]].outcome == "changed"


@pytest.mark.parametrize("value", ['"podcast"', "3"])
def test_an_unknown_kind_is_one_line_naming_the_kinds(
    tmp_path: Path, site: PageServer, value: str
) -> None:
    from watcher.errors import ConfigError

    with pytest.raises(ConfigError, match=r"kind .* is not known; choose from .*feed.*page"):
        config(tmp_path, site, f'[[source]]\nname = "x"\nurl = "{site.url("/")}"\nkind = {value}\n')
