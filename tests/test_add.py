"""`watcher add`: the kind chosen for a URL fetched from a loopback server, and the `[[source]]`
table appended to the sources file (the file's own text kept byte for byte)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.conftest import PageServer, html_page, write_config
from watcher.cli import cli
from watcher.cli.adding import source_table, toml_string
from watcher.config import load_config
from watcher.discover import (
    Discovery,
    discover,
    finder_query,
    listing_reason,
    slug,
    unique_name,
)
from watcher.errors import ConfigError, FetchError
from watcher.models import Fetched, Validators

GOVUK_PAGE = """<!DOCTYPE html><html lang="en"><head>
<title>Kinship allowance: proposals for a weekly payment to kinship carers - GOV.UK</title>
<link rel="alternate" type="application/atom+xml" href="/government/organisations/department-for-education.atom">
</head><body><header class="govuk-header"><a href="/">GOV.UK</a></header>
<div class="govuk-width-container"><main class="govuk-main-wrapper" id="main-content" role="main">
<span class="govuk-caption-xl">Consultation outcome</span>
<h1 class="gem-c-title__text">Kinship allowance: proposals for a weekly payment to kinship carers</h1>
<p class="gem-c-lead-paragraph">We are seeking views on a weekly allowance for kinship carers
who look after children who cannot live with their parents.</p>
<p>This consultation closes at 11:59pm on 11 May 2027.</p>
<h2>Consultation description</h2>
<p>The allowance would be paid at the same rate as the national minimum fostering allowance and
would be available to special guardians and holders of child arrangements orders.</p>
</main></div><footer class="govuk-footer">All content is available under the Open Government
Licence v3.0, except where otherwise stated</footer></body></html>"""

FEED_PAGE = """<!doctype html><html><head><title>News | Family Rights Network</title>
<link rel="alternate" type="application/rss+xml" title="Family Rights Network » Comments Feed"
 href="/comments/feed/">
<link rel="alternate" type="application/atom+xml" title="Family Rights Network news"
 href="/news/feed.atom">
</head><body><nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<main><h1>News</h1>
<p>Our latest news on kinship care, family courts and support for parents.</p>
<article><h2><a href="/news/2026/11/kinship-carers-survey">Kinship carers tell us about money
worries</a></h2><p>Four in ten kinship carers in our annual survey said they had taken on debt to
care for a child in their family.</p></article>
<article><h2><a href="/news/2026/10/family-court-delays">Family court delays reach a new
high</a></h2><p>Care cases now take an average of 46 weeks, against a statutory limit of 26.</p>
</article>
</main><footer>Registered charity number 1234567</footer></body></html>"""

TOPICS = [
    "Kinship allowance consultation response",
    "Children's social care national framework",
    "Family help pathfinders: first findings",
    "Changes to the foster care allowance for 2027",
    "Special guardianship support guidance",
    "Early help funding for local authorities",
    "Adoption support fund: eligibility update",
    "Care leavers covenant annual report",
    "Stable homes, built on love: progress report",
    "Regional care cooperatives: call for evidence",
    "Social worker agency rules: implementation",
    "Virtual school heads: extended duties",
    "Children's homes workforce strategy",
    "Independent reviewing officers guidance",
    "Family group decision making: toolkit",
    "Youth justice and care: joint protocol",
    "Unaccompanied children: funding rates",
    "Parental leave for kinship carers",
    "Ofsted inspection framework changes",
    "Local authority sufficiency duty review",
]
LISTING_ITEMS = "\n".join(
    f'<li class="publication"><a href="/publications/{slug(t)}">{t}</a>'
    f' <span class="date">{1 + i} October 2026</span> <span class="type">Policy paper</span></li>'
    for i, t in enumerate(TOPICS)
)
LISTING_PAGE = f"""<!doctype html><html><head><title>Latest publications - Northshire County Council</title>
</head><body><div class="cookie-banner">We use cookies. <button>Accept</button></div>
<header><a href="/">Northshire County Council</a></header>
<nav><ul><li><a href="/bins">Bins and recycling</a></li><li><a href="/schools">Schools</a></li></ul></nav>
<main><h1>Latest publications</h1>
<p>Reports, plans and policies published by the council, newest first.</p>
<ul class="publications">
{LISTING_ITEMS}
</ul>
<a href="/publications?page=2">Next page</a>
</main><footer>Northshire County Council, County Hall</footer></body></html>"""

ARTICLE = [
    "Councils in the north east have warned that the cost of children's residential care has "
    "risen by a third in two years, leaving less money for early help.",
    "In a letter to the Secretary of State, the leaders of twelve councils ask for a cap on the "
    "profits made by the largest private providers.",
    'The letter says that "without action, the budgets for family support will be cut again '
    'in 2027", and asks for a meeting before the spending review.',
    "The Department for Education said it would respond in due course.",
]

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Kinship Care Alliance: briefings</title>
<link>https://kinship.example.org/briefings</link>
<description>Briefings and responses from the Kinship Care Alliance</description>
<item><title>Our response to the kinship allowance consultation</title>
<link>https://kinship.example.org/briefings/allowance-response</link>
<pubDate>Mon, 09 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<!-- generated by the publications system -->
<feed xmlns="http://www.w3.org/2005/Atom">
<title type="text">Family Rights Network news</title>
<id>tag:example.org,2026:news</id><updated>2026-11-20T09:00:00Z</updated>
<entry><title>Kinship carers tell us about money worries</title>
<id>tag:example.org,2026:news/1</id><updated>2026-11-20T09:00:00Z</updated></entry>
</feed>"""

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.example.org/publications/annual-report-2026</loc><lastmod>2026-11-02</lastmod></url>
<url><loc>https://www.example.org/publications/kinship-briefing</loc><lastmod>2026-10-14</lastmod></url>
</urlset>"""

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def govuk() -> Iterator[PageServer]:
    """A second loopback server standing in for www.gov.uk."""
    server = PageServer().start()
    yield server
    server.stop()


def _config(tmp_path: Path, sources: list[dict[str, Any]] | None = None) -> Path:
    return write_config(tmp_path / "sources.toml", sources or [])


def add(path: Path, *args: str, govuk: PageServer | None = None) -> Result:
    base = ["--govuk-base", govuk.url("")] if govuk else []
    return CliRunner().invoke(cli, ["add", *args, *base, "--config", str(path)])


def added(path: Path) -> dict[str, Any]:
    """The last [[source]] of the file, read with tomllib (watcher's loader does not yet know
    every kind `add` writes)."""
    sources: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["source"]
    return sources[-1]


def test_a_govuk_page_becomes_a_govuk_source(tmp_path: Path, govuk: PageServer) -> None:
    path = _config(tmp_path)
    govuk.set("/government/consultations/kinship-allowance", GOVUK_PAGE)
    url = govuk.url("/government/consultations/kinship-allowance")
    result = add(path, url, govuk=govuk)
    assert result.exit_code == 0, result.output
    assert added(path) == {
        "name": "kinship-allowance-proposals-for-a-weekly",
        "url": url,
        "kind": "govuk",
    }
    assert "Content API" in result.output


def test_a_govuk_finder_search_becomes_a_govuk_search(tmp_path: Path, govuk: PageServer) -> None:
    path = _config(tmp_path)
    govuk.set("/search/policy-papers-and-consultations", html_page("Search", ["Results"]))
    url = govuk.url(
        "/search/policy-papers-and-consultations?keywords=kinship"
        "&organisations%5B%5D=department-for-education&order=updated-newest"
    )
    result = add(path, url, "--name", "dfe-kinship", govuk=govuk)
    assert result.exit_code == 0, result.output
    source = added(path)
    assert source["kind"] == "govuk-search" and source["url"] == url
    assert source["query"] == {
        "filter_content_purpose_supergroup": "policy_and_engagement",
        "q": "kinship",
        "filter_organisations": "department-for-education",
    }
    # What was appended is a source watcher itself loads.
    [loaded] = load_config(path).sources
    assert loaded.kind == "govuk-search" and ("q", "kinship") in loaded.query


def test_a_page_linking_an_atom_feed_offers_the_feed(tmp_path: Path, site: PageServer) -> None:
    path = _config(tmp_path)
    site.set("/news", FEED_PAGE)
    result = add(path, site.url("/news"))
    assert result.exit_code == 0, result.output
    source = added(path)
    assert source == {"name": "news", "url": site.url("/news/feed.atom"), "kind": "feed"}
    assert "Atom feed" in result.output
    assert f"or page: {site.url('/news')}" in result.output  # the page itself, as the alternative
    assert "/comments/feed/" not in result.output


def test_a_listing_page_becomes_a_listing(tmp_path: Path, site: PageServer) -> None:
    path = _config(tmp_path)
    site.set("/publications", LISTING_PAGE)
    result = add(path, site.url("/publications"), "--every", "6h", "--tag", "children")
    assert result.exit_code == 0, result.output
    assert added(path) == {
        "name": "latest-publications",
        "url": site.url("/publications"),
        "kind": "listing",
        "every": "6h",
        "tags": ["children"],
    }
    assert "20 links to pages on the same site" in result.output


def test_a_plain_article_is_a_page_and_loads(tmp_path: Path, site: PageServer) -> None:
    path = _config(tmp_path)
    site.set("/news/care-costs", html_page("Councils warn on care costs", ARTICLE, "Jobs"))
    result = add(path, site.url("/news/care-costs"))
    assert result.exit_code == 0, result.output
    assert added(path) == {
        "name": "councils-warn-on-care-costs",
        "url": site.url("/news/care-costs"),
    }
    # No kind key: the file loads with today's loader, and a second page with the same title
    # gets the next free name.
    site.set("/news/care-costs-2", html_page("Councils warn on care costs", ARTICLE[:2]))
    again = add(path, site.url("/news/care-costs-2"))
    assert again.exit_code == 0, again.output
    assert added(path)["name"] == "councils-warn-on-care-costs-2"


@pytest.mark.parametrize(
    ("body", "headers", "kind", "name"),
    [
        (RSS, {"Content-Type": "application/rss+xml"}, "feed", "kinship-care-alliance-briefings"),
        (ATOM, {"Content-Type": "text/xml; charset=utf-8"}, "feed", "family-rights-network-news"),
        (SITEMAP, XML, "sitemap", "sitemap"),
    ],
)
def test_xml_documents_are_feeds_or_sitemaps(
    tmp_path: Path, site: PageServer, body: str, headers: dict[str, str], kind: str, name: str
) -> None:
    path = _config(tmp_path)
    site.set("/sitemap.xml", body, headers=headers)
    result = add(path, site.url("/sitemap.xml"))
    assert result.exit_code == 0, result.output
    assert added(path) == {"name": name, "url": site.url("/sitemap.xml"), "kind": kind}


def test_dry_run_writes_nothing(tmp_path: Path, site: PageServer) -> None:
    path = _config(tmp_path)
    before = path.read_bytes()
    site.set("/news", FEED_PAGE)
    result = add(path, site.url("/news"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before
    assert "nothing written" in result.output
    assert f'url = "{site.url("/news/feed.atom")}"' in result.output


def test_a_watched_url_is_refused(tmp_path: Path, site: PageServer) -> None:
    site.set("/news/care-costs", html_page("Councils warn on care costs", ARTICLE))
    path = _config(tmp_path, [{"name": "costs", "url": site.url("/news/care-costs")}])
    before = path.read_bytes()
    result = add(path, site.url("/news/care-costs"))
    assert isinstance(result.exception, ConfigError)
    assert "already watched by source 'costs'" in str(result.exception)
    assert path.read_bytes() == before
    assert not site.requests()  # refused before any fetch
    # The feed a page links, when that feed is already watched, is refused too.
    site.set("/news", FEED_PAGE)
    path = _config(tmp_path, [{"name": "frn-feed", "url": site.url("/news/feed.atom")}])
    result = add(path, site.url("/news"))
    assert "already watched by source 'frn-feed'" in str(result.exception)


def test_the_file_is_kept_byte_for_byte_before_the_new_table(
    tmp_path: Path, site: PageServer
) -> None:
    path = tmp_path / "sources.toml"
    original = (
        b'# Sources for the children\'s policy team\r\n[watcher]\r\nstate_dir = "state"\r\n'
        b'per_host_gap = "0s"   # loopback\r\n\r\n[egress]\r\nallow_cidrs = ["127.0.0.0/8"]\r\n'
        b'\r\n[[source]]\r\nname = "dfe"  # caf\xc3\xa9\r\nurl = "https://www.example.org/a"'
    )  # CRLF line ends, a comment, UTF-8, and no newline at the end
    path.write_bytes(original)
    site.set("/publications", LISTING_PAGE)
    result = add(path, site.url("/publications"), "--name", "council-pubs")
    assert result.exit_code == 0, result.output
    text = path.read_bytes()
    assert text.startswith(original)
    assert (
        text[len(original) :]
        == (
            f'\r\n\r\n[[source]]\r\nname = "council-pubs"\r\nurl = "{site.url("/publications")}"\r\n'
            'kind = "listing"\r\n'
        ).encode()
    )
    assert [s["name"] for s in tomllib.loads(text.decode())["source"]] == ["dfe", "council-pubs"]


def test_an_unusable_config_or_fetch_is_one_line(tmp_path: Path, site: PageServer) -> None:
    path = tmp_path / "sources.toml"
    path.write_text("[watcher]\nstate_dir = \n")
    result = add(path, site.url("/anything"))
    assert isinstance(result.exception, ConfigError) and "invalid TOML" in str(result.exception)
    assert not site.requests()
    path = _config(tmp_path)
    result = add(path, site.url("/x").replace("//", "//user:pw@"))
    assert result.exit_code == 2 and "user name or password" in result.output
    result = add(path, site.url("/gone"))
    assert isinstance(result.exception, FetchError)
    message = str(result.exception)
    assert site.url("/gone") in message and "HTTP 404" in message and "browser" in message


@pytest.mark.slow
def test_the_console_script_reports_a_refused_address(tmp_path: Path, site: PageServer) -> None:
    path = write_config(tmp_path / "sources.toml", [])
    path.write_text(path.read_text().replace('allow_cidrs = ["127.0.0.0/8"]', ""))
    proc = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "add", site.url("/"), "--config", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 1 and err.count("\n") == 1, err
    assert err.startswith(f"watcher: error: cannot fetch {site.url('/')}") and "allow_cidrs" in err


def _fetched(
    text: str, url: str = "https://www.example.org/", content_type: str = "text/html"
) -> Fetched:
    return Fetched(url, url, 200, False, content_type, text.encode(), text, Validators(), 1)


def test_discover_is_pure_and_picks_by_shape() -> None:
    article = html_page("Councils warn on care costs", ARTICLE)
    assert discover(_fetched(article)).kind == "page"
    # An article with a short "related" list is still an article.
    related = "".join(f'<li><a href="/news/{i}">Story number {i}</a></li>' for i in range(9))
    long_article = html_page("Care costs", ARTICLE * 3).replace(
        "</article>", f"<ul>{related}</ul></article>"
    )
    assert listing_reason(_bs(long_article), "https://www.example.org/") == ""
    # Links to other sites do not make a listing of this one.
    elsewhere = LISTING_PAGE.replace('href="/publications/', 'href="https://other.example.net/p/')
    assert discover(_fetched(elsewhere)).kind == "page"
    # An ASP.NET page wraps everything in one <form>: its listing is still a listing.
    webforms = LISTING_PAGE.replace("<body>", '<body><form id="aspnetForm">').replace(
        "</body>", "</form></body>"
    )
    assert discover(_fetched(webforms)).kind == "listing"
    found = discover(_fetched(LISTING_PAGE), taken={"latest-publications"})
    assert (found.kind, found.name) == ("listing", "latest-publications-2")
    # www.gov.uk itself is GOV.UK whatever the configured base.
    gov = discover(_fetched(GOVUK_PAGE, "https://www.gov.uk/government/consultations/x#part"))
    assert (gov.kind, gov.url) == ("govuk", "https://www.gov.uk/government/consultations/x")
    assert [a.kind for a in gov.alternatives] == ["page"]


def _bs(text: str) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(text, "lxml")


def test_finder_query_needs_filters() -> None:
    assert finder_query("/search/all", "") == ()
    assert finder_query("/government/publications", "keywords=x") == ()
    assert finder_query("/search/all", "content_store_document_type=open_consultation") == (
        ("filter_content_store_document_type", "open_consultation"),
    )


def test_names() -> None:
    assert slug("Café & Crèche: plans for 2027!") == "cafe-creche-plans-for-2027"
    assert len(slug("word " * 30)) <= 40 and not slug("word " * 30).endswith("-")
    assert unique_name("a" * 40, {"a" * 40}) == "a" * 38 + "-2"
    assert unique_name("news", {"news", "news-2"}) == "news-3"


@pytest.mark.parametrize(
    "value", ['quote " and \\ backslash', "new\nline\ttab", "del\x7f", "écoles 学校", "'single'"]
)
def test_values_are_toml_escaped(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value
    table = source_table(Discovery("feed", value, value, "why"), "6h", (value,))
    assert tomllib.loads(table)["source"] == [
        {"name": value, "url": value, "kind": "feed", "every": "6h", "tags": [value]}
    ]
