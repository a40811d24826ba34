"""HTML to readable blocks: chrome out, one line per heading, paragraph, list item or table row."""

from __future__ import annotations

import html as htmllib
import time
from pathlib import Path

import pytest

from tests.conftest import SEEDS, html_page
from watcher.errors import ExtractError
from watcher.extract import extract, extract_text, normalise_line


def blocks(markup: str, select: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> list[str]:
    return list(extract(markup, select, exclude).blocks)


# --- what is dropped --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chrome",
    [
        "<script>var gone = 'script';</script>",
        "<style>.gone { color: red }</style>",
        "<noscript>Please enable JavaScript</noscript>",
        "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav>",
        "<header><a href='/'>Example Charity</a></header>",
        "<footer>© Example Charity 2026</footer>",
        "<aside><h2>Related</h2><p>Other story</p></aside>",
        "<form action='/search'><label>Search</label><input name='q'><button>Go</button></form>",
        "<div class='cookie-banner'>We use cookies. <button>Accept</button></div>",
        "<div id='cookieConsent'><p>Accept all cookies?</p></div>",
        "<div class='CookieBanner'>Cookies help us</div>",
        "<section id='CybotCookiebotDialog'>This website uses cookies</section>",
        "<div class='onetrust-consent-sdk'>Your privacy choices</div>",
        "<div class='gdpr-notice'>GDPR notice</div>",
        "<div hidden>hidden attribute</div>",
        "<div style='display: none'>display none</div>",
        "<p style='visibility:hidden'>visibility hidden</p>",
        "<span aria-hidden='true'>aria hidden</span>",
        "<div role='navigation'>role navigation</div>",
        "<div role='banner'>role banner</div>",
        "<template><p>template</p></template>",
        "<iframe src='/ad'>iframe</iframe>",
        "<!-- a comment -->",
    ],
)
def test_chrome_is_dropped(chrome: str) -> None:
    page = f"<html><body>{chrome}<main><p>The content.</p></main>{chrome}</body></html>"
    assert blocks(page) == ["The content."]


def test_scripts_in_head_and_body_never_leak() -> None:
    page = (
        "<html><head><title>T</title><script>window.a = 1;</script><style>p{}</style></head>"
        "<body><p>Text<script>document.write('x')</script> continues.</p></body></html>"
    )
    assert blocks(page) == ["Text continues."]


# --- one line per block -----------------------------------------------------------------------


def test_headings_paragraphs_and_list_items() -> None:
    page = """<body>
      <h1>Stable Homes</h1><h2>Summary</h2><h3>Funding</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6>
      <p>The first paragraph.</p>
      <ul><li>First item</li><li>Second <b>bold</b> item</li></ul>
      <ol><li>Numbered</li></ol>
      <p>Last.</p>
    </body>"""
    assert blocks(page) == [
        "# Stable Homes",
        "## Summary",
        "### Funding",
        "#### Four",
        "##### Five",
        "###### Six",
        "The first paragraph.",
        "- First item",
        "- Second bold item",
        "- Numbered",
        "Last.",
    ]


def test_nested_lists_and_paragraphs_in_items() -> None:
    page = "<ul><li>Outer<ul><li>Inner</li></ul></li><li><p>In a paragraph</p></li></ul>"
    assert blocks(page) == ["- Outer", "- Inner", "- In a paragraph"]


def test_inline_markup_joins_without_extra_spaces() -> None:
    page = "<p>Co<b>ram</b>BAAF <a href='#'>reaction</a>, <em>published</em>.</p>"
    assert blocks(page) == ["CoramBAAF reaction, published."]


def test_whitespace_nbsp_and_zero_width_are_normalised() -> None:
    page = "<p>  £200\u00a0million \n\t over\u200b two\u200d years\ufeff  \u2060</p><p>soft\u00adhyphen</p>"
    assert blocks(page) == ["£200 million over two years", "softhyphen"]


def test_text_is_nfc() -> None:
    assert blocks("<p>Esme\u0301e</p>") == ["Esmée"]


def test_br_splits_lines() -> None:
    page = "<p>10 Downing Street<br>London<br/>SW1A 2AA</p><h2>A<br>B</h2><ul><li>x<br>y</li></ul>"
    assert blocks(page) == ["10 Downing Street", "London", "SW1A 2AA", "## A", "## B", "- x", "- y"]


def test_table_rows_become_one_line_each() -> None:
    page = """<table>
      <thead>
        <tr>
          <th>Consultation</th>
          <th>Closes</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td>Stable Homes</td>
          <td>11 May 2023</td>
        </tr>
        <tr><td>Workforce</td><td>  8 June 2023 </td></tr>
        <tr><td></td><td>Only the second cell</td></tr>
      </tbody>
    </table>"""
    assert blocks(page) == [
        "Consultation | Closes",
        "Stable Homes | 11 May 2023",
        "Workforce | 8 June 2023",
        "Only the second cell",
    ]


def test_title_comes_from_title_or_h1() -> None:
    assert extract("<title> Page  title </title><p>x</p>").title == "Page title"
    assert extract("<h1>The <i>heading</i></h1><p>x</p>").title == "The heading"
    assert extract("<p>x</p>").title == ""


# --- select and exclude -----------------------------------------------------------------------

PAGE = """<html><body>
  <div id="intro"><p>Intro text.</p></div>
  <div class="content"><p>Keep me.</p><div class="note">Share this</div><p>And me.</p></div>
  <div class="content"><p>Second region.</p></div>
</body></html>"""


def test_select_limits_to_the_regions_in_page_order() -> None:
    assert blocks(PAGE, select=(".content",)) == [
        "Keep me.",
        "Share this",
        "And me.",
        "Second region.",
    ]


def test_select_reads_nested_matches_once() -> None:
    assert blocks(PAGE, select=(".content", "p")) == [
        "Keep me.",
        "Share this",
        "And me.",
        "Second region.",
        "Intro text.",
    ]


def test_select_keeps_identical_regions_apart() -> None:
    page = "<p>Yes</p><div><p>Yes</p></div><p>No</p>"
    assert blocks(page, select=("p",)) == ["Yes", "Yes", "No"]


def test_exclude_removes_regions() -> None:
    assert blocks(PAGE, select=(".content",), exclude=(".note", "#intro")) == [
        "Keep me.",
        "And me.",
        "Second region.",
    ]
    assert blocks(PAGE, exclude=(".content",)) == ["Intro text."]


def test_select_and_exclude_accept_any_iterable() -> None:
    assert list(extract(PAGE, iter([".content"]), iter([".note"])).blocks) == [
        "Keep me.",
        "And me.",
        "Second region.",
    ]


def test_select_matching_nothing_is_an_error() -> None:
    with pytest.raises(ExtractError) as caught:
        extract(PAGE, select=(".missing",))
    assert caught.value.reason == "select"
    assert ".missing" in str(caught.value)
    with pytest.raises(ExtractError) as caught:
        extract(PAGE, select=(".share",), exclude=(".share",))
    assert caught.value.reason == "select"


@pytest.mark.parametrize(
    "page",
    [
        "",
        "<html></html>",
        "<html><body>   \u00a0 </body></html>",
        "<script>only()</script>",
        "<nav>Home</nav><footer>©</footer>",
        "<!-- nothing -->",
    ],
)
def test_empty_page_is_an_error(page: str) -> None:
    with pytest.raises(ExtractError) as caught:
        extract(page)
    assert caught.value.reason == "empty"


# --- pages built the way real sites build them ------------------------------------------------


def test_article_header_is_content_but_the_site_header_is_not() -> None:
    page = """<body><header><a href="/">Example Charity</a></header>
      <main><article><header><h1>Care Review response</h1><p>Published 2 February 2023</p></header>
      <p>Body.</p><footer>Tags: care</footer></article></main></body>"""
    assert blocks(page) == ["# Care Review response", "Published 2 February 2023", "Body."]


def test_a_form_wrapping_the_whole_page_is_read() -> None:
    # ASP.NET WebForms pages put everything inside one <form>.
    page = """<body><form id="aspnetForm" method="post" action="./page.aspx">
      <input type="hidden" name="__VIEWSTATE" value="abc"><nav>Menu</nav>
      <main><h1>Council notice</h1><p>The consultation is open.</p>
      <form action="/search"><input name="q"><button>Search</button></form></main>
    </form></body>"""
    assert blocks(page) == ["# Council notice", "The consultation is open."]


def test_a_wrapper_named_after_its_cookie_banner_is_read() -> None:
    page = """<body><div class="page has-cookie-banner"><div class="cookie-banner">Cookies?</div>
      <article class="cookie-policy"><p>What we store.</p></article></div></body>"""
    assert blocks(page) == ["What we store."]


def test_deeply_nested_markup_does_not_overflow_the_stack() -> None:
    depth = 5000
    page = "<div>" * depth + "<p>deep</p>" + "</div>" * depth
    assert blocks(page) == ["deep"]
    banners = '<div class="cookie-wrap">' * depth + "<h1>deep</h1>" + "</div>" * depth
    started = time.monotonic()
    assert blocks(banners) == ["# deep"]
    assert time.monotonic() - started < 3.0


def test_extraction_is_deterministic() -> None:
    page = html_page("Stable Homes", ["One.", "Two £200 million."], sidebar="Rotating")
    assert extract(page) == extract(page)
    assert blocks(page) == ["# Stable Homes", "One.", "Two £200 million."]


# --- the five real seed pages -----------------------------------------------------------------

NAV_LINKS = ["Skip to main content zq", "About us zq", "Our work zq", "Donate today zq"]
COOKIE_TEXT = "We use cookies to improve this site zq"
HEADER_TEXT = "Example Sector Body zq"
POPULAR = ["Most popular this week zq", *(f"Popular story number {n} zq" for n in range(1, 6))]
JOBS = ["Jobs board zq", "Team Manager, Northshire Council, £48,000 zq", "Apply for this job zq"]
FOOTER_TEXT = "Registered charity 1234567 zq"
SCRIPT_TEXT = "trackingIdentifier zq"
CHROME = [*NAV_LINKS, COOKIE_TEXT, HEADER_TEXT, *POPULAR, *JOBS, FOOTER_TEXT, SCRIPT_TEXT]


def seed_paragraphs(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def seed_page(paragraphs: list[str]) -> str:
    esc = htmllib.escape
    nav = "".join(f'<li><a href="/n{n}">{esc(t)}</a></li>' for n, t in enumerate(NAV_LINKS))
    popular = "".join(f'<li><a href="/p{n}">{esc(t)}</a></li>' for n, t in enumerate(POPULAR[1:]))
    article = "\n".join(f"<p>{esc(p)}</p>" for p in paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Seed page</title>
<script>window.dataLayer = [{{"{SCRIPT_TEXT}": 1}}];</script></head>
<body>
<div class="cookie-notice" id="cookieNotice"><p>{COOKIE_TEXT}</p><button>Accept all</button></div>
<header class="site-header"><a href="/">{HEADER_TEXT}</a>
  <nav aria-label="Main"><ul>{nav}</ul></nav></header>
<main id="content"><article>
{article}
</article></main>
<aside class="most-popular"><h2>{POPULAR[0]}</h2><ol>{popular}</ol></aside>
<aside class="jobs"><h3>{JOBS[0]}</h3><p><a href="/job/1">{JOBS[1]}</a></p><a href="/job/1/apply">{JOBS[2]}</a></aside>
<footer><p>{FOOTER_TEXT}</p></footer>
<script>document.querySelectorAll('a').forEach(a => a.dataset.t = '{SCRIPT_TEXT}');</script>
</body></html>"""


def test_there_are_five_seeds() -> None:
    assert len(SEEDS) == 5


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_page_reads_as_its_paragraphs_without_chrome(seed: Path) -> None:
    paragraphs = seed_paragraphs(seed)
    got = extract(seed_page(paragraphs))
    expected = [normalise_line(p) for p in paragraphs]
    assert list(got.blocks) == [line for line in expected if line]
    text = got.text
    leaked = [chrome for chrome in CHROME if chrome in text]
    assert not leaked, f"chrome leaked into {seed.name}: {leaked}"
    assert "zq" not in text  # every chrome string carries this marker; the seeds do not
    assert got.title == "Seed page"


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_page_select_main_gives_the_same_blocks(seed: Path) -> None:
    page = seed_page(seed_paragraphs(seed))
    assert extract(page, select=("main",)).blocks == extract(page).blocks


# --- plain text documents ---------------------------------------------------------------------


def test_extract_text_is_one_block_per_line() -> None:
    got = extract_text("Title line\n\n  second\u00a0line  \n\u200b\nthird")
    assert got.blocks == ("Title line", "second line", "third")
    assert got.title == "Title line"
    with pytest.raises(ExtractError) as caught:
        extract_text(" \n\u200b\n")
    assert caught.value.reason == "empty"


def test_what_the_publisher_states_is_read_from_meta_tags_and_json_ld() -> None:
    html = """<html><head><title>T</title>
<meta name="govuk:format" content="open_consultation">
<meta name="govuk:schema-name" content="consultation">
<meta property="og:type" content="article"><meta name="description" content="not kept">
<script type="application/ld+json">{"@context": "https://schema.org",
 "@graph": [{"@type": "WebPage"}, {"@type": ["Report", "CreativeWork"]}]}</script>
<script type="application/ld+json">{ broken</script></head>
<body><main><p>Body text.</p></main></body></html>"""
    page = extract(html)
    assert dict(page.metadata) == {
        "govuk:format": "open_consultation",
        "govuk:schema-name": "consultation",
        "og:type": "article",
        "schema:@type": "WebPage,Report,CreativeWork",
    }
    assert page.blocks == ("Body text.",)  # metadata is never page text
    assert extract("<p>No metadata here.</p>").metadata == ()
