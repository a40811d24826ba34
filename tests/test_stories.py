"""Stories across sources: the linker's signals on their own, then the five real seed pages served
from loopback as separate sources (tests/storydata.py says what the served HTML adds and why),
their alerts, and the story pages with the staff's split and merge."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from starlette.testclient import TestClient

from tests.conftest import REPO, SEEDS, PageServer, html_page, write_config
from tests.storydata import FINAL_REPORT, RESPONSE, START, fill_seeds, shipped_topics
from watcher import stories
from watcher.config import Config, load_config
from watcher.diff import diff_blocks
from watcher.notify.render import render_digest
from watcher.rows import ChangeRow
from watcher.runtime import check_once
from watcher.store import Store
from watcher.store.topics import topics_of
from watcher.stories import Item, StoryMark, Tie, decide, document_names, links_of
from watcher.web.app import create_app

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PAGE = "https://www.corambaaf.org.uk/news/reaction"


def item(n: int, days: int = 0, **kw: object) -> Item:
    base: dict[str, object] = {
        "id": n,
        "at": T0 + timedelta(days=days),
        "source": f"source-{n}",
        "url": f"https://site{n}.example/page",
        "title": f"Page {n}",
    }
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


# The decision, pure.


def test_document_names_are_quoted_or_titled_after_a_colon() -> None:
    text = (
        "The DfE published its strategy: Stable Homes, Built on Love.\n"
        "It said “Keeping Children Safe in Education” applies, calling for a ‘radical reset’.\n"
        "The Children’s Commissioner’s view was clear: we need more.\n"
    )
    assert document_names(text) == {
        "Stable Homes, Built on Love",
        "Keeping Children Safe in Education",
    }


def test_a_change_points_at_the_links_in_what_it_added_off_its_own_site() -> None:
    links = [
        ("https://www.gov.uk/government/publications/x", "the full response here"),
        ("/news/other-story", "another story"),  # its own site: menus and tags
        ("https://twitter.com/intent/tweet?u=x", "Share"),  # a sharing button
        ("https://www.gov.uk/", "GOV.UK"),  # a front page
        ("https://www.legislation.gov.uk/ukpga/1989/41", "Children Act 1989"),  # not added now
        ("../guide.pdf#page=2", "the guide"),
    ]
    added = "Read the full response here.\nAnother story.\nShare this.\nSee the guide."
    got = links_of(PAGE, links, added)
    assert got == {"https://www.gov.uk/government/publications/x": "the full response here"}
    # On GOV.UK, a link to another GOV.UK page is content, not the site's menu.
    govuk = links_of(
        "https://www.gov.uk/government/news/a",
        [("/government/publications/x", "the plan")],
        "the plan",
    )
    assert list(govuk) == ["https://www.gov.uk/government/publications/x"]


def test_a_link_ties_before_a_name_before_similar_text_and_says_why() -> None:
    shared = "https://www.gov.uk/government/publications/framework"
    text = " ".join(f"word{k}" for k in range(60))
    new = item(
        9,
        days=5,
        links=frozenset({shared}),
        anchors=((shared, "National Framework"),),
        added=text,
        names=frozenset({"National Framework Consultation"}),
    )
    by_text = item(1, days=1, added=text)
    by_name = item(2, days=2, names=frozenset({"The National Framework Consultation"}))
    by_link = item(3, days=3, links=frozenset({shared}))
    decision = decide(new, [by_text, by_name, by_link])
    assert decision is not None and decision.partner.id == 3
    assert decision.tie.reason == f"both link {shared} (‘National Framework’)"
    assert decision.tie.name == "National Framework"
    decision = decide(new, [by_text, by_name])
    assert decision is not None and decision.partner.id == 2
    assert decision.tie.reason == "both name ‘National Framework Consultation’"
    decision = decide(new, [by_text])
    assert decision is not None and decision.tie.reason == "similar text (1.00)"
    # Outside the window, nothing ties.
    assert decide(new, [item(3, days=-70, links=frozenset({shared}))]) is None
    # One page linking the other's page ties them too.
    linking = item(4, links=frozenset({"https://site5.example/page"}))
    tie = decide(linking, [item(5)])
    assert tie is not None and tie.tie.reason == (
        "source-4 links source-5's page https://site5.example/page"
    )


def test_similar_text_sits_above_pages_on_one_subject_in_their_own_words() -> None:
    """The threshold against the real seed pages: all five are about the same review; pairwise
    they share under a quarter of TEXT_THRESHOLD, except the two that quote the same statements."""
    texts = {p.name[:3]: p.read_text(encoding="utf-8") for p in SEEDS}
    scores = {}
    for a in texts:
        for b in texts:
            if a < b:
                tie = stories.similar_text(
                    item(1, added=texts[a]), item(2, added=texts[b]), frozenset()
                )
                scores[a, b] = tie
    quoted = scores.pop(("002", "004"))
    assert quoted is not None and quoted.signal == "text"
    assert all(t is None for t in scores.values()), scores


def test_a_key_most_of_the_window_carries_is_a_hub_not_an_event() -> None:
    hub = "https://www.gov.uk/government/organisations/department-for-education"
    recent = [item(n, days=n, links=frozenset({hub})) for n in range(1, 8)]
    assert decide(item(9, days=9, links=frozenset({hub})), recent) is None


def test_another_signal_plugs_in() -> None:
    def shared_topic(a: Item, b: Item, hubs: frozenset[str]) -> Tie | None:
        common = sorted(a.topics & b.topics)
        return Tie("topic", f"both about {common[0]}", 0.5) if common else None

    a = item(1, topics=frozenset({"kinship"}))
    b = item(2, days=1, topics=frozenset({"kinship"}))
    assert decide(b, [a]) is None
    found = decide(b, [a], signals=(*stories.SIGNALS, shared_topic))
    assert found is not None and found.tie.reason == "both about kinship"


def test_topics_carry_text_nearly_similar_enough_never_tie_alone() -> None:
    """A team's topics are the weakest tie: two shared within a week, and added text closer
    than pages on one subject (half the similar-text bar); never topics alone, one topic, or
    weeks apart."""
    both = frozenset({"Kinship care", "Family help"})
    text = frozenset(range(20))
    near = frozenset({0, 1, 2, *range(100, 117)})  # 3 of 20 sampled shingles: 0.15
    a = item(1, topics=both, sketch=text)
    assert stories.similar_text(a, item(2, sketch=near), frozenset()) is None
    tied = decide(item(2, days=3, topics=both | {"Fostering"}, sketch=near), [a])
    assert tied is not None and tied.tie.signal == "topic"
    assert tied.tie.reason == (
        "both about Family help and Kinship care, 3 days apart, with related text (0.15)"
    )
    assert decide(item(3, days=3, topics=both, sketch=frozenset(range(200, 220))), [a]) is None
    assert decide(item(4, days=2, topics=frozenset({"Kinship care"}), sketch=near), [a]) is None
    assert decide(item(5, days=10, topics=both, sketch=near), [a]) is None


def test_alert_and_digest_lines() -> None:
    assert [stories.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip
    mark = StoryMark(7, "National Framework consultation", 3, 4)
    assert stories.story_line(mark) == "3rd update in story: National Framework consultation"

    def row(n: int, category: str) -> ChangeRow:
        diff = diff_blocks((), (f"Line {n}",))
        return ChangeRow(n, f"src{n}", "https://x.example/", "2026-03-01T09:00:00+00:00", "a",
                         "b", 1, f"Title {n}", "s", category, diff.added, (), diff)  # fmt: skip

    changes = [row(1, "news"), row(2, "consultation_open"), row(3, "news")]
    marks = {1: mark, 2: mark}
    body = render_digest(changes, "daily", "text", stories=marks).body
    assert body.index("Story: National Framework consultation (2)") < body.index("Title 1")
    assert body.index("Title 2") < body.index("Title 3")


# The real seed pages, through the real pipeline.


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, PageServer]]:
    site = PageServer().start()
    receiver = PageServer().start()
    receiver.set("/hook", b"{}")
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    config, _ = fill_seeds(tmp_path_factory.mktemp("seeds"), site, env, [("hook", "HOOK")])
    yield config, receiver
    site.stop()
    receiver.stop()


def _store(config: Config) -> Store:
    return Store.open(config.settings.state_dir)


def _by_source(store: Store) -> dict[str, int]:
    return {c.source: c.id for c in store.changes()}


def test_the_government_response_and_its_reaction_are_one_story(
    seeded: tuple[Config, PageServer],
) -> None:
    config, _ = seeded
    store = _store(config)
    try:
        ids = _by_source(store)
        story = store.story_of(ids["esmee-summary"])
        assert story is not None
        assert story.title == "Stable Homes, Built on Love"
        assert set(story.sources) == {"esmee-summary", "corambaaf-reaction"}
        detail = store.story(story.id)
        assert detail is not None
        assert [e.change_id for e in detail.entries] == [
            ids["esmee-summary"],
            ids["corambaaf-reaction"],
        ]
        for entry in detail.entries:
            assert entry.signal == "link"
            assert entry.reason == f"both link {RESPONSE} (‘Stable Homes, Built on Love’)"
        # The pages about the review's final report are not part of it: they tie to each other.
        for name in ("fostering-network", "sector-feature", "care-review-roundup"):
            other = store.story_of(ids[name])
            assert other is None or other.id != story.id
        report = store.story_of(ids["fostering-network"])
        assert report is not None
        assert set(report.sources) == {"fostering-network", "sector-feature", "care-review-roundup"}
        assert FINAL_REPORT in store.story(report.id).entries[0].reason  # type: ignore[union-attr]
        # The page frame (menus, the GOV.UK front page, sharing buttons) tied nothing.
        rows = store.conn.execute("SELECT keys FROM story_keys").fetchall()
        keys = [json.loads(k)["links"] for (k,) in rows]
        assert not any("twitter" in u or u == "https://www.gov.uk/" for k in keys for u in k)
        # What moved since the fifth day: only the response's story, formed on day 8 when the
        # reaction came (both its changes joined it then).
        moved = store.stories_moved(START + timedelta(days=5))
        assert [(s.id, s.moved) for s in moved] == [(story.id, 2)]
    finally:
        store.close()


def test_the_shipped_topics_do_not_glue_the_two_events_together(
    tmp_path: Path, site: PageServer
) -> None:
    """Every seed page is about kinship care and fostering: with the shipped example topics on,
    the response and the final report stay two stories (topics are the weakest tie, and the
    sources that tie by links or names tie first)."""
    config, _ = fill_seeds(tmp_path, site, extra=shipped_topics())
    store = _store(config)
    try:
        ids = _by_source(store)
        tagged = {name: {t for t, _ in topics_of(store, cid)} for name, cid in ids.items()}
        assert all(tagged.values()), tagged  # the topics are really on
        response = store.story_of(ids["esmee-summary"])
        report = store.story_of(ids["fostering-network"])
        assert response is not None and report is not None and response.id != report.id
        assert set(response.sources) == {"esmee-summary", "corambaaf-reaction"}
    finally:
        store.close()


def test_the_alert_names_its_story(seeded: tuple[Config, PageServer]) -> None:
    _, receiver = seeded
    posts = [json.loads(h.body) for h in receiver.requests("/hook", "POST")]
    reaction = [p for p in posts if "corambaaf-reaction" in p["title"]]
    assert len(reaction) == 1
    assert "2nd update in story: Stable Homes, Built on Love" in reaction[0]["message"]
    first = [p for p in posts if "esmee-summary" in p["title"]]
    assert len(first) == 1 and "in story" not in first[0]["message"]  # no story yet then
    roundup = [p for p in posts if "care-review-roundup" in p["title"]]
    assert "3rd update in story: Independent Review of Children" in roundup[0]["message"]


# The story pages, split and merge: a copy of the seeded state, so the module's stays as it was.


@pytest.fixture
def client(seeded: tuple[Config, PageServer], tmp_path: Path) -> Iterator[TestClient]:
    config, _ = seeded
    store = _store(config)
    copy = tmp_path / "watcher.db"
    store.conn.execute("VACUUM INTO ?", (str(copy),))
    store.close()
    with TestClient(create_app(config, store_path=copy), base_url="http://127.0.0.1") as c:
        yield c


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def _story_ids(client: TestClient) -> dict[str, int]:
    page = client.get("/stories").text
    return {
        title: int(sid) for sid, title in re.findall(r'<a href="/stories/(\d+)">([^<]+)</a>', page)
    }


def test_the_change_object_carries_its_story(client: TestClient) -> None:
    """The JSON a tracker reads (API, webhook, Atom) says which story a change is in, which
    update of it, and validates against the published schema."""
    schema = json.loads((REPO / "docs" / "schema" / "change-v1.json").read_text())
    listed = client.get("/api/v1/changes", params={"per_page": 50}).json()
    objects = {o["source"]: o for o in listed["items"]}
    reaction, summary = objects["corambaaf-reaction"], objects["esmee-summary"]
    assert reaction["story"]["title"] == "Stable Homes, Built on Love"
    assert (reaction["story"]["update"], reaction["story"]["updates"]) == (2, 2)
    assert summary["story"]["id"] == reaction["story"]["id"] and summary["story"]["update"] == 1
    assert reaction["story"]["link"].endswith(f"/stories/{reaction['story']['id']}")
    single = client.get(f"/api/v1/changes/{reaction['id']}").json()
    assert single["story"] == reaction["story"]
    for obj in (reaction, summary, single):
        jsonschema.validate(obj, schema)


def test_the_home_page_shows_the_stories_that_moved_this_week(
    seeded: tuple[Config, PageServer], tmp_path: Path
) -> None:
    """Seven days after the reaction joined the response's story, the home page lists that
    story and how many updates it gained; a week later, none."""
    config, _ = seeded
    store = _store(config)
    ids = _by_source(store)
    joined = store.story_of(ids["corambaaf-reaction"])
    reaction_at = next(c.detected_at for c in store.changes() if c.id == ids["corambaaf-reaction"])
    copy = tmp_path / "watcher.db"
    store.conn.execute("VACUUM INTO ?", (str(copy),))
    store.close()
    assert joined is not None
    at = datetime.fromisoformat(str(reaction_at))

    def home(now: datetime) -> str:
        app = create_app(config, store_path=copy, clock=lambda: now)
        with TestClient(app, base_url="http://127.0.0.1") as c:
            return c.get("/").text

    page = home(at + timedelta(days=1))
    panel = page[page.index("Stories that moved this week") :]
    assert f'<a href="/stories/{joined.id}">Stable Homes, Built on Love</a>' in panel
    assert "new update" in panel
    assert "No story moved in the last 7 days." in home(at + timedelta(days=30))


def test_story_pages_show_the_timeline_and_why(client: TestClient) -> None:
    ids = _story_ids(client)
    assert "Stable Homes, Built on Love" in ids
    page = client.get(f"/stories/{ids['Stable Homes, Built on Love']}").text
    assert page.count('class="change-item story-entry"') == 2
    assert "esmee-summary" in page and "corambaaf-reaction" in page
    assert f"both link {RESPONSE} (‘Stable Homes, Built on Love’)" in page
    changes = re.findall(r'href="/changes/(\d+)"', page)
    change_page = client.get(f"/changes/{changes[0]}").text
    assert f'href="/stories/{ids["Stable Homes, Built on Love"]}"' in change_page
    assert client.get("/stories/99999").status_code == 404


def test_staff_merge_two_stories_then_split_a_change_out(client: TestClient) -> None:
    ids = _story_ids(client)
    response_story, report_story = (
        ids["Stable Homes, Built on Love"],
        next(v for k, v in ids.items() if k.startswith("Independent Review")),
    )
    path = f"/stories/{response_story}"
    # No token, no write.
    refused = client.post(f"{path}/merge", data={"other": str(report_story), "reviewer": "Ann"})
    assert refused.status_code == 403
    done = client.post(
        f"{path}/merge",
        data={"csrf": _csrf(client, path), "other": str(report_story), "reviewer": "Ann"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path}?saved=merge"
    page = client.get(done.headers["location"]).text
    assert page.count("story-entry") == 5 and "Stories merged." in page
    assert "merged in from story ‘Independent Review of Children&#39;s Social Care" in page
    assert client.get(f"/stories/{report_story}").status_code == 404
    assert list(_story_ids(client)) == ["Stable Homes, Built on Love"]
    # Split the Fostering Network's page out again.
    entry = re.search(r'name="change_id" value="(\d+)"', page.split("fostering-network", 1)[1])
    assert entry
    split = client.post(
        f"{path}/split",
        data={"csrf": _csrf(client, path), "change_id": entry.group(1)},
        follow_redirects=False,
    )
    assert split.status_code == 303
    page = client.get(path).text
    assert page.count("story-entry") == 4 and "fostering-network" not in page
    assert (
        "Not linked to changes from other sources" in client.get(f"/changes/{entry.group(1)}").text
    )
    # A change that is not in this story cannot be split out of it.
    again = client.post(
        f"{path}/split", data={"csrf": _csrf(client, path), "change_id": entry.group(1)}
    )
    assert again.status_code == 404


def test_a_publication_and_a_page_naming_it_are_one_story(tmp_path: Path, site: PageServer) -> None:
    """A feed names a new publication; a week later a sector page quotes its title: one story,
    whose link to the publication names the publication's row too."""

    def rss(entries: list[tuple[str, str]]) -> str:
        items = "".join(
            f"<item><title>{t}</title><link>{u}</link>"
            "<pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate></item>"
            for u, t in entries
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{items}</channel></rss>'

    feed = {"Content-Type": "application/rss+xml"}
    old = (site.url("/news/old.html"), "Annual report")
    site.set("/news/old.html", html_page("Annual report", ["An older story."]))
    site.set("/feed.xml", rss([old]), headers=feed)
    intro = ["Kinship Care Alliance news for members."]
    site.set("/sector", html_page("Member news", intro))
    path = write_config(
        tmp_path / "sources.toml",
        [
            {"name": "dfe-feed", "url": site.url("/feed.xml"), "kind": "feed"},
            {"name": "alliance", "url": site.url("/sector")},
        ],
    )
    config = load_config(path, environ={})
    asyncio.run(check_once(config, clock=lambda: T0))
    new = (site.url("/news/kinship.html"), "Kinship allowance consultation")
    site.set(
        "/news/kinship.html",
        html_page(
            "Kinship allowance consultation",
            ["The Department for Education is consulting on a kinship allowance."],
        ),
    )
    site.set("/feed.xml", rss([new, old]), headers=feed)
    asyncio.run(check_once(config, clock=lambda: T0 + timedelta(days=1)))
    site.set(
        "/sector",
        html_page(
            "Member news",
            [*intro, "We will answer the “Kinship Allowance Consultation” with our members."],
        ),
    )
    asyncio.run(check_once(config, clock=lambda: T0 + timedelta(days=8)))
    store = Store.open(config.settings.state_dir)
    try:
        ids = _by_source(store)
        story = store.story_of(ids["alliance"])
        assert story is not None and set(story.sources) == {"dfe-feed", "alliance"}
        detail = store.story(story.id)
        assert detail is not None
        [publication] = [p for p in store.publications() if "kinship" in p.url]
        first, second = detail.entries
        assert (first.change_id, first.publication_id, first.kind) == (
            publication.change_id,
            publication.id,
            "publication",
        )
        assert second.reason == "both name ‘Kinship Allowance Consultation’"
        assert story.title == "Kinship Allowance Consultation"
    finally:
        store.close()


def test_govuk_bodies_keep_their_links_for_stories() -> None:
    from watcher.kinds.govuk import read_item

    item = {
        "title": "Children’s social care: national framework",
        "document_type": "policy_paper",
        "details": {
            "body": '<p>Read <a href="/government/publications/children-s-social-care-stable-'
            'homes-built-on-love">Stable Homes, Built on Love</a> first.</p>'
        },
    }
    got = read_item(item)
    assert got.links == (
        (
            "/government/publications/children-s-social-care-stable-homes-built-on-love",
            "Stable Homes, Built on Love",
        ),
    )
    page = "https://www.gov.uk/government/publications/childrens-social-care-national-framework"
    assert list(links_of(page, got.links, got.text)) == [RESPONSE]


def test_story_titles_and_reasons_are_text_on_the_pages(
    seeded: tuple[Config, PageServer], tmp_path: Path
) -> None:
    config, _ = seeded
    store = _store(config)
    copy = tmp_path / "hostile.db"
    store.conn.execute("VACUUM INTO ?", (str(copy),))
    store.close()
    hostile = Store(copy)
    hostile.conn.execute("UPDATE stories SET title = '<script>alert(1)</script> Plan'")
    hostile.conn.execute("UPDATE story_links SET reason = 'both name <img src=x onerror=alert(1)>'")
    hostile.close()
    with TestClient(create_app(config, store_path=copy), base_url="http://127.0.0.1") as c:
        listing = c.get("/stories").text
        sid = re.search(r'href="/stories/(\d+)"', listing)
        assert sid and "<script>alert" not in listing and "&lt;script&gt;alert(1)" in listing
        page = c.get(f"/stories/{sid.group(1)}").text
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<script>alert" not in page
