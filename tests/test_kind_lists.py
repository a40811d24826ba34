"""Listing-style kinds (feed, sitemap, listing, govuk-search) over real recorded responses, and
`new_items` / `updated_items`. Fixtures and where they come from: tests/data/publications/."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from html import escape
from pathlib import Path

import pytest

from watcher import kinds
from watcher.errors import ExtractError
from watcher.kinds.govuk_search import search_url
from watcher.kinds.items import MAX_ITEMS, MAX_SUMMARY, iso_utc, new_items, updated_items
from watcher.models import Extracted, Fetched, Item, Source, Validators

DATA = Path(__file__).resolve().parent / "data" / "publications"
FEED_URL = "https://feeds.example.org/news/feed.xml"
HOUR = timedelta(hours=1)


def fetched(
    body: bytes | str, url: str = FEED_URL, content_type: str = "application/xml"
) -> Fetched:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        not_modified=False,
        content_type=content_type,
        body=raw,
        text=raw.decode("utf-8", "replace"),
        validators=Validators(),
        duration_ms=1,
    )


def source(kind: str, url: str = FEED_URL, **extra: object) -> Source:
    return Source(name="test", url=url, every=HOUR, kind=kind, **extra)  # type: ignore[arg-type]


def read_fixture(path: str, kind: str, url: str = FEED_URL, **extra: object) -> Extracted:
    return kinds.read(fetched((DATA / path).read_bytes(), url), source(kind, url, **extra))


def guardian() -> tuple[Item, ...]:
    return read_fixture("feeds/guardian.rss", "feed").items


# -- feed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "count", "title", "url", "updated"),
    [
        (
            "feeds/guardian.rss",  # RSS 2.0
            55,
            "Trump State of the Union address promised unity but emphasized discord",
            "https://www.theguardian.com/us-news/2018/jan/31/donald-trump-state-of-the-union-address-unity-discord",
            "2018-01-31T07:26:05Z",
        ),
        (
            "feeds/heise-developer.atom",  # Atom 1.0; 17:54:50+01:00 stated, read in UTC
            15,
            "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei",
            "http://www.heise.de/developer/meldung/Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html?wt_mc=rss.developer.beitrag.atom",
            "2016-02-01T16:54:50Z",
        ),
        (
            "feeds/medium-content-encoded.rss",  # RSS 2.0 with content:encoded, atom:updated
            7,
            "THE CREATIVE FORAGER",
            "https://medium.com/invironment/the-creative-forager-125af37d838f?source=rss----d12c403d4976--food",
            "2018-04-09T19:39:12Z",
        ),
    ],
)
def test_each_real_feed_reads_to_its_entries(
    path: str, count: int, title: str, url: str, updated: str
) -> None:
    got = read_fixture(path, "feed")
    assert kinds.kind("feed").lists
    assert len(got.items) == count == len(got.blocks) == len(got.paths)
    first = got.items[0]
    assert (first.title, first.url, first.updated) == (title, url, updated)
    assert got.blocks[0] == f"{title} — {url} — {updated}"
    assert set(got.paths) == {"item"}
    assert all(i.url.startswith(("http://", "https://")) and i.title for i in got.items)


def test_feed_summaries_are_text_capped() -> None:
    items = read_fixture("feeds/medium-content-encoded.rss", "feed").items
    assert all("<" not in i.summary and len(i.summary) <= MAX_SUMMARY + 1 for i in items)
    assert items[0].summary.startswith("Using Wild Ingredients in the Kitchen")
    guardian_first = guardian()[0].summary
    assert guardian_first.startswith("The president’s ‘new American moment’ speech")


def test_an_rss_1_0_feed_with_relative_links_reads_them_absolute() -> None:
    # Written for this test: no real RSS 1.0 feed was recorded.
    rdf = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://feeds.example.org/news/"><title>News</title>
    <link>https://feeds.example.org/news/</link><description>d</description></channel>
  <item rdf:about="https://feeds.example.org/news/a"><title>A</title><link>a.html</link>
    <dc:date>2024-03-01T09:00:00+01:00</dc:date></item>
  <item rdf:about="https://feeds.example.org/b"><title>B</title><link>/b.html#top</link></item>
</rdf:RDF>"""
    got = kinds.read(fetched(rdf), source("feed"))
    assert got.title == "News"
    assert [(i.url, i.updated) for i in got.items] == [
        ("https://feeds.example.org/news/a.html", "2024-03-01T08:00:00Z"),
        ("https://feeds.example.org/b.html", ""),
    ]


def test_an_entry_updated_in_place_is_a_changed_block_and_an_updated_item() -> None:
    # Derived from the real feed: the first entry's dates moved on by a day (no real feed was
    # recorded twice).
    raw = (DATA / "feeds/guardian.rss").read_text(encoding="utf-8")
    later = raw.replace(
        "<pubDate>Wed, 31 Jan 2018 07:26:05 GMT</pubDate>",
        "<pubDate>Thu, 01 Feb 2018 10:00:00 GMT</pubDate>",
        1,
    ).replace(
        "<dc:date>2018-01-31T07:26:05Z</dc:date>", "<dc:date>2018-02-01T10:00:00Z</dc:date>", 1
    )
    assert later != raw
    before, after = (
        kinds.read(fetched(raw), source("feed")),
        kinds.read(fetched(later), source("feed")),
    )
    assert before.items[0].url == after.items[0].url
    assert before.blocks[0] != after.blocks[0] and before.blocks[1:] == after.blocks[1:]
    assert updated_items(before.items, after.items) == [after.items[0]]
    assert new_items(before.items, after.items, known=()) == []


def test_a_feed_cut_off_mid_way_is_read_as_far_as_it_parses() -> None:
    raw = (DATA / "feeds/guardian.rss").read_bytes()
    got = kinds.read(fetched(raw[: len(raw) // 2]), source("feed"))
    assert 0 < len(got.items) < 55
    whole = guardian()
    # The entry the cut falls in keeps what was read of it; those before it are whole.
    assert got.items[:-1] == whole[: len(got.items) - 1]
    assert got.items[-1].url == whole[len(got.items) - 1].url


@pytest.mark.parametrize(
    "body",
    [
        b"not a feed at all",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x',
        b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
    ],
    ids=["garbage", "broken-before-any-entry", "html-page"],
)
def test_a_response_with_no_entries_and_no_feed_is_an_error_on_one_line(body: bytes) -> None:
    with pytest.raises(ExtractError) as caught:
        kinds.read(fetched(body), source("feed"))
    assert caught.value.reason == "feed"
    assert "\n" not in str(caught.value) and FEED_URL in str(caught.value)


def test_an_empty_well_formed_feed_is_no_publications() -> None:
    empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>N</title></channel></rss>'
    got = kinds.read(fetched(empty), source("feed"))
    assert got.items == () and got.blocks == ()


def _rss(entries: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link></item>" for t, u in entries
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{body}</channel></rss>'
    )


def test_feed_items_are_deduplicated_by_url_first_wins_and_capped() -> None:
    twice = _rss([("First", "/a"), ("Second", "/b"), ("Again", "/a")])
    assert [i.title for i in kinds.read(fetched(twice), source("feed")).items] == [
        "First",
        "Second",
    ]
    many = _rss([(f"n{n}", f"/n{n}") for n in range(MAX_ITEMS + 20)])
    got = kinds.read(fetched(many), source("feed"))
    assert len(got.items) == MAX_ITEMS and got.items[-1].title == f"n{MAX_ITEMS - 1}"
    assert got.ignored == ((f"over the cap of {MAX_ITEMS} entries", "20 more entries not read"),)


def test_a_feed_body_is_never_opened_as_a_path() -> None:
    # feedparser opens a string naming a file; the kind hands it a stream.
    with pytest.raises(ExtractError):
        kinds.read(fetched(b"/etc/hostname"), source("feed"))


# -- sitemap ---------------------------------------------------------------------------------

SITEMAP_URL = "https://www.sitemaps.org/sitemap.xml"


def test_a_real_sitemap_reads_to_its_urls_with_lastmod() -> None:
    got = read_fixture("sitemaps/sitemaps-org-sitemap.xml", "sitemap", SITEMAP_URL)
    assert len(got.items) == 84 and kinds.kind("sitemap").lists
    assert got.items[0] == Item(url="https://www.sitemaps.org/", updated="2016-11-21")
    assert got.blocks[0] == "https://www.sitemaps.org/ — 2016-11-21"


def test_a_sitemap_prefix_keeps_the_urls_under_it() -> None:
    got = read_fixture("sitemaps/sitemaps-org-sitemap.xml", "sitemap", SITEMAP_URL, prefix="/de/")
    assert [i.url for i in got.items] == [
        "https://www.sitemaps.org/de/",
        "https://www.sitemaps.org/de/protocol.html",
        "https://www.sitemaps.org/de/faq.html",
        "https://www.sitemaps.org/de/terms.html",
    ]


def test_a_sitemap_index_is_refused_naming_its_child_sitemaps() -> None:
    with pytest.raises(ExtractError) as caught:
        read_fixture(
            "sitemaps/sitemaps-org-protocol-example-index.xml",
            "sitemap",
            "https://www.example.com/sitemap_index.xml",
        )
    message = str(caught.value)
    assert caught.value.reason == "sitemap_index"
    assert "http://www.example.com/sitemap1.xml.gz" in message
    assert "http://www.example.com/sitemap2.xml.gz" in message  # the CDATA one


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url><loc>https://www.sitemaps.org/&lol9;</loc></url>
</urlset>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE urlset [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url><loc>https://www.sitemaps.org/&secret;</loc></url>
</urlset>"""


UTF16_EXTERNAL_ENTITY = EXTERNAL_ENTITY.replace('version="1.0"', 'version="1.0" encoding="UTF-16"')


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, UTF16_EXTERNAL_ENTITY.encode("utf-16")],
    ids=["billion-laughs", "xxe", "xxe-in-utf-16"],
)
def test_a_sitemap_with_entities_is_refused_without_expanding_them(body: str | bytes) -> None:
    started = time.monotonic()
    with pytest.raises(ExtractError) as caught:
        kinds.read(fetched(body, SITEMAP_URL), source("sitemap", SITEMAP_URL))
    assert caught.value.reason == "unsafe_xml"
    assert "root:" not in str(caught.value) and "lollol" not in str(caught.value)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [("<urlset><url><loc>https://a/", "sitemap"), ("<rss version='2.0'/>", "sitemap")],
    ids=["broken-xml", "not-a-sitemap"],
)
def test_what_is_not_a_sitemap_is_an_error(body: str, reason: str) -> None:
    with pytest.raises(ExtractError) as caught:
        kinds.read(fetched(body, SITEMAP_URL), source("sitemap", SITEMAP_URL))
    assert caught.value.reason == reason and SITEMAP_URL in str(caught.value)


# -- govuk-search ----------------------------------------------------------------------------

BASE = "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("query", "url"),
    [
        ((), f"{BASE}/api/search.json?order=-public_timestamp&count=50"),
        (
            (
                ("filter_organisations", "department-for-education"),
                ("filter_content_store_document_type", "open_consultation"),
                ("q", "kinship care"),
            ),
            f"{BASE}/api/search.json?filter_organisations=department-for-education"
            "&filter_content_store_document_type=open_consultation&q=kinship+care"
            "&order=-public_timestamp&count=50",
        ),
        (
            (("reject_format", "news_story"), ("order", "-title"), ("count", "10")),
            f"{BASE}/api/search.json?reject_format=news_story&order=-title&count=10",
        ),
        (
            (("fields", "title"), ("fields", "link"), ("q", "a&b=c")),
            f"{BASE}/api/search.json?fields=title&fields=link&q=a%26b%3Dc"
            "&order=-public_timestamp&count=50",
        ),
    ],
    ids=["defaults", "filters", "order-and-count-given", "repeated-and-escaped"],
)
def test_govuk_search_builds_its_url_from_the_query(
    query: tuple[tuple[str, str], ...], url: str
) -> None:
    src = source("govuk-search", "https://www.gov.uk/search", query=query)
    assert kinds.kind("govuk-search").locate(src, BASE + "/") == url
    assert search_url(query, BASE) == url


@pytest.mark.parametrize("key", ["start", "filter_", "suggest", "api_key", "Q"])
def test_govuk_search_refuses_other_keys_by_name(key: str) -> None:
    with pytest.raises(ValueError, match=repr(key)):
        search_url((("q", "tax"), (key, "x")), BASE)


def search_response(results: object) -> str:
    # The real envelope (search_q-tax_count-1.json) around the given results.
    envelope = json.loads((DATA / "govuk-search/search_q-tax_count-1.json").read_text())
    envelope["results"] = results
    return json.dumps(envelope)


def read_search(body: str) -> Extracted:
    url = f"{BASE}/api/search.json?order=-public_timestamp&count=50"
    return kinds.read(
        fetched(body, url, "application/json"), source("govuk-search", "https://www.gov.uk/")
    )


def test_govuk_search_reads_the_real_response() -> None:
    got = read_search((DATA / "govuk-search/search_q-tax_count-1.json").read_text())
    assert got.items == (
        Item(
            url="https://www.gov.uk/vehicle-tax",
            title="Tax your vehicle",
            updated="2017-12-07T12:54:39Z",
            summary="Renew or tax your vehicle for the first time using a reminder letter, your "
            "log book or the green 'new keeper' slip - and how to tax if you do not have any "
            "documents",
            organisations=("Driver and Vehicle Licensing Agency",),
            document_type="transaction",
        ),
    )
    assert got.blocks == (
        "Tax your vehicle — https://www.gov.uk/vehicle-tax — 2017-12-07T12:54:39Z",
    )


def test_govuk_search_reads_real_results_in_order() -> None:
    results = json.loads((DATA / "govuk-search/early_years_results_array.json").read_text())
    got = read_search(search_response(results))
    assert [(i.url, i.updated, i.document_type) for i in got.items] == [
        ("https://www.gov.uk/early-years-foundation-stage", "2015-05-11T09:31:21Z", "answer"),
        ("https://www.gov.uk/topic/schools-colleges-childrens-services/early-years", "", "specialist_sector"),
        ("https://www.gov.uk/guidance/early-years-qualifications-finder", "2016-01-04T11:17:25Z", "detailed_guidance"),
        ("https://www.gov.uk/guidance/early-years-pupil-premium-guide-for-local-authorities", "2015-03-27T15:43:00Z", "detailed_guidance"),
        ("https://www.gov.uk/guidance/early-years-initial-teacher-training-funding-guidance", "2015-12-18T09:53:39Z", "detailed_guidance"),
    ]  # fmt: skip
    assert got.items[0].organisations == ("Department for Education",)
    assert got.items[2].organisations == ("National College for Teaching and Leadership",)
    # A search gaining a result at its top yields exactly that one as new.
    older = read_search(search_response(results[1:])).items
    assert new_items(older, got.items, known=()) == [got.items[0]]


def test_the_stated_content_type_wins_over_format() -> None:
    result = {"link": "/x", "title": "X", "format": "publication"}
    result["content_store_document_type"] = "open_consultation"
    assert read_search(search_response([result])).items[0].document_type == "open_consultation"


@pytest.mark.parametrize(
    "body", ['{"total": 0}', "[]", "<html>Not found</html>", '{"results": "none"}']
)
def test_a_search_response_without_results_is_an_error(body: str) -> None:
    with pytest.raises(ExtractError) as caught:
        read_search(body)
    assert caught.value.reason == "search"


# -- listing ---------------------------------------------------------------------------------

LISTING_URL = "https://www.example.org/news/"


def listing_page(items: tuple[Item, ...]) -> str:
    """An HTML listing page built from real feed items (title, link, date in each <li>), with
    the chrome a real one has: a nav bar, a search form, "read more" links, pagination, a mail
    link, a fragment link and a footer linking elsewhere."""
    rows = "".join(
        f'<li class="item"><h3><a href="{escape(i.url)}">{escape(i.title)}</a></h3>'
        f'<time datetime="{i.updated}">{i.updated[:10]}</time><p>{escape(i.summary[:80])}</p>'
        f'<a href="{escape(i.url)}">Read more</a></li>'
        for i in items
    )
    return f"""<!doctype html><html><head><title>Latest news</title></head><body>
<header><a href="/">Home</a><nav><ul><li><a href="/about/">About us</a></li>
<li><a href="/news/">News</a></li><li><a href="/contact/">Contact</a></li></ul></nav></header>
<main><h1>Latest news</h1><p><a href="#content">Skip</a> <a href="mailto:press@example.org">Press office</a></p>
<form><input name="q"><button>Search</button></form>
<ul class="results">{rows}</ul>
<nav class="pagination"><ul><li><a href="?page=1">1</a></li><li><a href="?page=2">2</a></li>
<li><a rel="next" href="?page=2">Next page</a></li></ul></nav></main>
<footer><ul><li><a href="https://twitter.com/example">Twitter</a></li>
<li><a href="/privacy/">Privacy</a></li></ul></footer></body></html>"""


def read_listing(html: str, **extra: object) -> Extracted:
    return kinds.read(
        fetched(html, LISTING_URL, "text/html"), source("listing", LISTING_URL, **extra)
    )


def test_a_listing_built_from_real_feed_items_reads_to_those_items() -> None:
    window = guardian()[:20]
    got = read_listing(listing_page(window))
    assert kinds.kind("listing").lists and got.title == "Latest news"
    assert [(i.url, i.title, i.updated) for i in got.items] == [
        (i.url, i.title, i.updated) for i in window
    ]
    assert got.blocks[0] == f"{window[0].title} — {window[0].url} — {window[0].updated}"


def test_a_listing_reads_dates_written_beside_links_and_links_on_its_own_host() -> None:
    html = """<html><body><main><h1>Publications</h1><div class="list">
<article><h2><a href="report-2024.html">Annual report 2024</a></h2><p>Published 3 March 2024</p></article>
<article><h2><a href="/pubs/strategy">Our strategy</a></h2><p>Updated: April 5, 2023</p></article>
<article><h2><a href="/pubs/plan">Plan</a></h2><p>Undated</p></article>
<article><h2><a href="https://elsewhere.example.com/x">Partner news</a></h2></article>
</div></main></body></html>"""
    got = read_listing(html)
    assert [(i.url, i.updated) for i in got.items] == [
        ("https://www.example.org/news/report-2024.html", "2024-03-03"),
        ("https://www.example.org/pubs/strategy", "2023-04-05"),
        ("https://www.example.org/pubs/plan", ""),
    ]


def test_a_listing_is_its_titled_links_across_odd_even_classes_image_and_topic_links() -> None:
    rows = "".join(
        f'<li class="{("odd", "even")[n % 2]}"><a href="/p/{n}"><img src="/i/{n}.png" alt=""></a>'
        f'<p><a href="/topic/{n}">Topic</a></p>'
        f'<h3><a href="/p/{n}">Paper {n}</a></h3><span>{n + 1} May 2024</span></li>'
        for n in range(4)
    )
    got = read_listing(f'<main><ul class="papers">{rows}</ul></main>')
    assert [(i.title, i.updated) for i in got.items] == [
        (f"Paper {n}", f"2024-05-{n + 1:02d}") for n in range(4)
    ]


def test_a_listing_of_links_to_other_sites_keeps_them_when_most_go_there() -> None:
    html = (
        "<main><ul>"
        + "".join(
            f'<li><a href="https://site{n}.example.com/p">Paper {n}</a></li>' for n in range(4)
        )
        + '<li><a href="/local">Local</a></li></ul></main>'
    )
    assert len(read_listing(html).items) == 5


def test_a_listing_select_narrows_the_region() -> None:
    html = (
        '<main><section id="latest"><ul><li><a href="/a">A</a></li><li><a href="/b">B</a></li>'
        '</ul></section><section id="popular"><ul><li><a href="/c">C</a></li><li><a href="/d">'
        "D</a></li><li><a href='/e'>E</a></li></ul></section></main>"
    )
    assert [i.title for i in read_listing(html, select=("#latest",)).items] == ["A", "B"]
    with pytest.raises(ExtractError, match="matched nothing"):
        read_listing(html, select=("#missing",))


def test_a_listing_gains_one_item_at_the_top_and_drops_one_at_the_bottom() -> None:
    # A window over a real feed: the listing shows items 2-21, then items 1-20.
    feed = guardian()
    before = read_listing(listing_page(feed[1:21])).items
    after = read_listing(listing_page(feed[0:20])).items
    assert len(before) == len(after) == 20
    assert new_items(before, after, known=()) == [after[0]] and after[0].url == feed[0].url
    assert updated_items(before, after) == []


# -- new_items, updated_items ----------------------------------------------------------------


def it(url: str, updated: str = "") -> Item:
    return Item(url=f"https://example.org/{url}", title=url, updated=updated)


A, B, C, D = it("a"), it("b"), it("c"), it("d")


@pytest.mark.parametrize(
    ("before", "after", "known", "new"),
    [
        ((), (A, B), (), (A, B)),  # the first reading: everything is new (the caller decides)
        ((A, B, C), (A, B, C), (), ()),
        ((B, C, D), (A, B, C), (), (A,)),  # gains one at the top, drops one at the bottom
        ((A, B, C), (B, C), (), ()),  # one dropping off is not news
        ((B, C), (A, B, C), (A.url,), ()),  # A was seen before and comes back: not new
        ((C,), (A, B, C), (), (A, B)),  # in the listing's order
        ((A,), (D, A, D), (), (D,)),  # once, even if named twice
        ((A, B), (B, A), (), ()),  # reordered
    ],
    ids=["first", "same", "window", "drop", "reappears", "order", "twice", "reordered"],
)
def test_new_items(
    before: tuple[Item, ...], after: tuple[Item, ...], known: tuple[str, ...], new: tuple[Item, ...]
) -> None:
    assert new_items(before, after, known) == list(new)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ((it("a", "2024-01-01"),), (it("a", "2024-01-02"),), (it("a", "2024-01-02"),)),
        ((it("a", "2024-01-01"),), (it("a", "2024-01-01"),), ()),
        ((it("a", ""),), (it("a", "2024-01-01"),), ()),  # a date newly stated is not an edit
        ((it("a", "2024-01-01"),), (it("b", "2024-01-02"),), ()),  # a new URL is new, not updated
        (
            (it("a", "1"), it("b", "1")),
            (it("b", "2"), it("a", "2")),
            (it("b", "2"), it("a", "2")),
        ),
    ],
    ids=["moved-on", "same", "newly-dated", "other-url", "after-order"],
)
def test_updated_items(
    before: tuple[Item, ...], after: tuple[Item, ...], changed: tuple[Item, ...]
) -> None:
    assert updated_items(before, after) == list(changed)


@pytest.mark.parametrize(
    ("stated", "iso"),
    [
        ("2016-11-21", "2016-11-21"),
        ("2004-10-01T18:23:17+00:00", "2004-10-01T18:23:17Z"),
        ("2015-05-11T10:31:21+01:00", "2015-05-11T09:31:21Z"),
        ("2023-08-16T11:17:43.000+01:00", "2023-08-16T10:17:43Z"),
        ("2017-12-07T12:54:39Z", "2017-12-07T12:54:39Z"),
        ("2017-12-07T12:54:39", "2017-12-07T12:54:39Z"),
        ("yesterday", ""),
        ("", ""),
    ],
)
def test_stated_dates_are_read_as_iso_utc(stated: str, iso: str) -> None:
    assert iso_utc(stated) == iso
