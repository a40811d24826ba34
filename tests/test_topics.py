"""Topics a team follows: the matcher (stemming, synonyms, exclusions), the `[[topic]]` tables and
their errors, changes tagged end to end from the real seed pages with the shipped example topics,
routes that send only some topics, and the home page's picture of them."""

from __future__ import annotations

import asyncio
import html
import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import REPO, SEEDS, Clock, PageServer, html_page, write_config
from watcher.config import Config, load_config
from watcher.errors import ConfigError
from watcher.models import Diff
from watcher.notify.render import render_change
from watcher.rows import ChangeRow
from watcher.runtime import check_once
from watcher.store import Store, migrations
from watcher.store import topics as stored_topics
from watcher.topics import Topic, stem, tag
from watcher.web import charts
from watcher.web.app import create_app

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
SHIPPED = tomllib.loads((REPO / "sources.toml").read_text(encoding="utf-8"))["topic"]


def _toml_topics(tables: list[dict[str, object]]) -> str:
    """`[[topic]]` tables as TOML text (JSON strings are TOML basic strings)."""
    out = []
    for table in tables:
        out.append("[[topic]]")
        out += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in table.items()]
    return "\n".join(out) + "\n"


# --- the matcher --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("carers", "carer"),
        ("fostering", "foster"),
        ("fostered", "foster"),
        ("families", "family"),
        ("homes", "home"),
        ("placed", "placing"),
        ("leavers", "leaver"),
        ("children's", "children"),
        ("agreed", "agree"),
        ("Kinship", "kinship"),
    ],
)
def test_light_stemming_joins_plural_ing_and_ed_forms(a: str, b: str) -> None:
    assert stem(a) == stem(b)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Foster carers will get a higher allowance.", True),
        ("FOSTER CARER recruitment starts today.", True),
        ("Councils are fostering closer links with schools.", False),  # no "carer" after it
        ("The foster-carer charter was updated.", True),  # a hyphen is a word break
        ("Forest carers met on Tuesday.", False),
        ("Fosters carers", True),
        ("A carer who fosters.", False),  # the words must stand in a row
    ],
)
def test_a_phrase_matches_whole_words_in_a_row(sentence: str, expected: bool) -> None:
    assert Topic("Fostering", ("foster carer",)).matches(sentence) is expected


def test_a_single_word_matches_whole_words_only() -> None:
    kinship = Topic("Kinship care", ("kinship",))
    assert kinship.matches("Kinship carers deserve support.")
    assert kinship.matches("The KINSHIP strategy was published.")
    assert not kinship.matches("Kinshipness is not a word.")


def test_synonyms_match_like_phrases_and_exclusions_veto_their_sentence() -> None:
    workforce = Topic(
        "Social work workforce",
        ("social worker",),
        synonyms=("caseload",),
        exclude=("school social worker",),
    )
    assert workforce.matches("Average caseloads fell this year.")
    assert workforce.matches("Agency social workers will be capped.")
    assert not workforce.matches("Every school social worker will be trained.")
    found = tag(
        [workforce],
        ["Every school social worker will be trained. Social workers welcomed the news."],
    )
    assert found == (("Social work workforce", "Social workers welcomed the news."),)


def test_a_change_is_tagged_from_added_or_removed_text_with_the_sentence_as_evidence() -> None:
    topics = [
        Topic("Kinship care", ("kinship",)),
        Topic("Fostering", ("fostering", "foster carer")),
        Topic("Care leavers", ("care leaver",)),
    ]
    found = tag(
        topics,
        added=["The kinship allowance starts in April. It is paid monthly."],
        removed=["Support for care leavers ends at 21."],
    )
    assert found == (
        ("Kinship care", "The kinship allowance starts in April."),
        ("Care leavers", "Support for care leavers ends at 21."),
    )
    assert tag([], added=["kinship"]) == ()


# --- the [[topic]] tables -------------------------------------------------------------------------


def _config_text(tmp_path: Path, extra: str) -> Path:
    path = write_config(tmp_path / "sources.toml", [{"name": "p", "url": "http://127.0.0.1/"}])
    path.write_text(path.read_text() + extra)
    return path


def test_the_shipped_example_topics_load() -> None:
    config = load_config(REPO / "sources.toml", environ={})
    names = [t.name for t in config.topics]
    assert names == [t["name"] for t in SHIPPED]
    assert {"Kinship care", "Fostering", "Care leavers", "National Framework"} <= set(names)


def test_topics_and_a_route_on_topics_load(tmp_path: Path) -> None:
    path = _config_text(
        tmp_path,
        '[[topic]]\nname = "Fostering"\nphrases = ["foster carer"]\nsynonyms = "fostering"\n'
        '[[notify]]\nname = "hook"\nenv = "HOOK"\n'
        '[[route]]\ntopics = ["Fostering"]\ntargets = ["hook"]\n',
    )
    config = load_config(path, environ={})
    assert config.topics == (Topic("Fostering", ("foster carer",), synonyms=("fostering",)),)
    assert config.routes[0].topics == ("Fostering",)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('[[topic]]\nname = "Kinship"\n', 1, 'phrases is required, like phrases = ["kinship care"'),
        ('[[topic]]\nphrases = ["kinship"]\n', 1, "topic #1: name is required"),
        ('[[topic]]\nname = "Kinship"\nphrases = []\n', 3, "phrases is empty"),
        ('[[topic]]\nname = "Kinship"\nphrases = [1, 2]\n', 3, "must be a string or a list"),
        ('[[topic]]\nname = "Kinship"\nphrases = ["--"]\n', 3, "have no words to match"),
        (
            '[[topic]]\nname = "Kinship"\nphrases = ["kinship"]\nexcludes = ["x"]\n',
            4,
            "unknown key 'excludes'; did you mean 'exclude'?",
        ),
        (
            '[[topic]]\nname = "K"\nphrases = ["k"]\n[[topic]]\nname = "K"\nphrases = ["k"]\n',
            5,
            "topic name 'K' is used twice",
        ),
        (
            '[[topic]]\nname = "Kinship"\nphrases = ["kinship"]\n'
            '[[notify]]\nname = "hook"\nenv = "HOOK"\n'
            '[[route]]\ntopics = ["Fostering"]\ntargets = ["hook"]\n',
            8,
            "topics ['Fostering'] not known; the [[topic]] names are: Kinship",
        ),
    ],
)
def test_a_bad_topic_table_names_the_line_and_the_fix(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    path = _config_text(tmp_path, text)
    base = len(path.read_text().splitlines()) - len(text.splitlines())
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{base + line}: "), message
    assert says in message


# --- end to end: the seed pages -------------------------------------------------------------------


def _seed(prefix: str) -> tuple[str, list[str]]:
    path = next(p for p in SEEDS if p.name.startswith(prefix))
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln != "info icon"]
    return lines[0], lines[1:]


def _topics_config(tmp_path: Path, sources: list[dict[str, object]], extra: str = "") -> Path:
    path = write_config(tmp_path / "sources.toml", sources, targets=[("hook", "HOOK")])
    path.write_text(path.read_text() + _toml_topics(SHIPPED) + extra)
    return path


@pytest.fixture
def seeded(tmp_path: Path, site: PageServer) -> Iterator[tuple[Config, dict[str, int]]]:
    """Two seed pages served as HTML: first a short page, then the page with the seed's text."""
    intro = "This page is updated when there is news."
    sources = []
    for prefix in ("000", "002"):
        title, _ = _seed(prefix)
        site.set(f"/{prefix}", html_page(html.escape(title), [intro]))
        sources.append({"name": f"seed-{prefix}", "url": site.url(f"/{prefix}")})
    path = _topics_config(tmp_path, sources)
    config = load_config(path, environ={})
    clock = Clock(START)
    asyncio.run(check_once(config, clock=clock))
    for prefix in ("000", "002"):
        title, lines = _seed(prefix)
        site.set(f"/{prefix}", html_page(html.escape(title), [intro, *map(html.escape, lines)]))
    clock.advance(timedelta(minutes=10))
    results, _ = asyncio.run(check_once(config, clock=clock))
    ids = {r.source: r.change_id for r in results}
    assert all(ids.values()), results
    yield config, {k: v for k, v in ids.items() if v is not None}


@pytest.mark.parametrize("prefix", ["000", "002"])
def test_a_seed_pages_text_is_tagged_kinship_and_fostering_with_its_sentences(
    seeded: tuple[Config, dict[str, int]], prefix: str
) -> None:
    config, ids = seeded
    change_id = ids[f"seed-{prefix}"]
    _, lines = _seed(prefix)
    text = " ".join(" ".join(lines).split())
    store = Store.open(config.settings.state_dir)
    try:
        found = dict(stored_topics.topics_of(store, change_id))
        [row] = store.changes(ids=[change_id])
    finally:
        store.close()
    assert {"Kinship care", "Fostering"} <= set(found), found
    assert re.search(r"\bkinship\b", found["Kinship care"], re.I)
    assert re.search(r"\bfoster", found["Fostering"], re.I)
    for sentence in found.values():
        assert sentence in text  # the evidence is the page's own sentence
    assert dict(row.topics) == found  # and the alerting read carries them


def test_the_change_page_lists_its_topics_and_the_timeline_filters_by_them(
    seeded: tuple[Config, dict[str, int]],
) -> None:
    config, ids = seeded
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        page = client.get(f"/changes/{ids['seed-000']}").text
        section = page.split('id="topics"', 1)[1].split('id="diff"', 1)[0]
        assert "Kinship care" in section and "Fostering" in section
        # The seed's own sentence about a fostering and a kinship strategy, read from the corpus.
        _, lines = _seed("000")
        sentences = [s for ln in lines for s in re.split(r"(?<=[.!?])\s+", ln)]
        wanted = [s for s in sentences if "fostering strategy" in s and "kinship strategy" in s]
        assert wanted and any(s in html.unescape(section) for s in wanted)
        home = client.get("/").text
        assert '<option value="Kinship care"' in home
        filtered = client.get("/", params={"topic": "National Framework"}).text
        everything = client.get("/", params={"topic": "Fostering"}).text
    assert everything.count('class="change-item"') == 2
    assert filtered.count('class="change-item"') == 0


def test_topic_sentences_are_escaped_on_the_change_page(tmp_path: Path, site: PageServer) -> None:
    site.set("/p", html_page("Kinship", ["Intro text here."]))
    path = _topics_config(tmp_path, [{"name": "p", "url": site.url("/p")}])
    config = load_config(path, environ={})
    clock = Clock(START)
    asyncio.run(check_once(config, clock=clock))
    hostile = "Kinship carers &lt;script&gt;alert(1)&lt;/script&gt; get help."
    site.set("/p", html_page("Kinship", ["Intro text here.", hostile]))
    clock.advance(timedelta(minutes=10))
    [result], _ = asyncio.run(check_once(config, clock=clock))
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        page = client.get(f"/changes/{result.change_id}").text
    section = page.split('id="topics"', 1)[1].split('id="diff"', 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "<script>" not in section


# --- routes on topics -----------------------------------------------------------------------------


def test_a_route_with_topics_sends_only_changes_about_them(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    intro = ["Our service supports families across the county with advice and help."]
    site.set("/fostering", html_page("Fostering news", intro))
    site.set("/roads", html_page("Roads news", intro))
    path = _topics_config(
        tmp_path,
        [
            {"name": "fostering-news", "url": site.url("/fostering")},
            {"name": "roads-news", "url": site.url("/roads")},
        ],
        '[[route]]\nname = "fostering-now"\ntopics = ["Fostering", "Care leavers"]\n'
        'targets = ["hook"]\n',
    )
    env = {"HOOK": f"json://127.0.0.1:{receiver.port}/hook"}
    config = load_config(path, environ=env)
    clock = Clock(START)
    asyncio.run(check_once(config, clock=clock))
    site.set(
        "/fostering",
        html_page(
            "Fostering news",
            [*intro, "Foster carers will receive a higher allowance from April 2027."],
        ),
    )
    site.set(
        "/roads",
        html_page("Roads news", [*intro, "The council has resurfaced the high street."]),
    )
    clock.advance(timedelta(minutes=10))
    results, _ = asyncio.run(check_once(config, clock=clock))
    assert all(r.change_id for r in results), results
    posts = [json.loads(h.body) for h in receiver.requests("/hook", "POST")]
    assert len(posts) == 1, posts
    assert "fostering-news" in posts[0]["title"]
    assert "Topics: Fostering" in posts[0]["message"]


def test_an_alert_names_the_changes_topics() -> None:
    row = ChangeRow(
        id=1,
        source="dfe",
        url="https://www.gov.uk/x",
        detected_at="2026-11-23T09:00:00+00:00",
        before_hash="a",
        after_hash="b",
        check_id=1,
        title="Kinship care",
        summary="Added a sentence.",
        category="news",
        added=("Kinship carers get an allowance.",),
        removed=(),
        diff=Diff(hunks=()),
        topics=(("Kinship care", "Kinship carers get an allowance."), ("Fostering", "x")),
    )
    for channel in ("email", "slack", "text"):
        assert "Topics: Kinship care, Fostering" in render_change(row, channel).body


# --- the home page's picture ------------------------------------------------------------------


def test_weekly_counts_fall_in_their_weeks_and_charts_share_one_scale(tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
    starts = stored_topics.week_starts(now)
    assert len(starts) == 12 and starts[-1] == datetime(2026, 11, 23, tzinfo=UTC)
    assert all(s.weekday() == 0 for s in starts)
    found = charts.charts({"Kinship": [0] * 11 + [4], "Fostering": [2] + [0] * 11}, starts)
    assert [c.name for c in found] == ["Kinship", "Fostering"]
    kinship, fostering = found
    assert kinship.bars[-1].height == 2 * fostering.bars[0].height  # one scale
    assert kinship.bars[-1].tip == "Kinship: 4 changes in the week of 23 Nov 2026"
    assert fostering.summary.startswith("Fostering: 2 changes in the last 12 weeks")
    assert kinship.this_week == 4


def test_m011_topics_is_the_newest_migration_here() -> None:
    names = [m.name for m in migrations._migrations]  # type: ignore[attr-defined]
    assert "m011_topics" in names
    assert names.index("m011_topics") > names.index("m010_compressed_snapshots")


def test_a_new_publication_is_tagged_and_routed_by_its_topics(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    from tests.test_publications import KINSHIP, config, posts, rss, run

    old = [(site.url("/news/old.html"), "Our annual report", "Mon, 02 Nov 2026 09:00:00 GMT")]
    feed = {"Content-Type": "application/rss+xml"}
    site.set("/news.rss", rss(site, old), headers=feed)
    site.set("/news/old.html", html_page("Our annual report", ["An older story about us."]))
    cfg = config(
        tmp_path,
        site,
        f'[[source]]\nname = "news"\nurl = "{site.url("/news.rss")}"\nkind = "feed"\n'
        + _toml_topics(SHIPPED)
        + '[[route]]\ntopics = ["Fostering"]\ntargets = ["hook"]\n'
        + '[[route]]\ntopics = ["Kinship care"]\ntargets = ["hook"]\nmode = "daily"\n',
        receiver,
    )
    run(cfg)
    new = (site.url("/news/kinship.html"), "Kinship allowance", "Sun, 29 Nov 2026 09:00:00 GMT")
    site.set("/news/kinship.html", html_page("Kinship allowance consultation", KINSHIP))
    site.set("/news.rss", rss(site, [new, *old]), headers=feed)
    second, _ = run(cfg)
    assert second["news"].outcome == "changed"
    assert posts(receiver) == []  # kinship goes to the daily digest, not at once
    store = Store.open(cfg.settings.state_dir)
    try:
        [change] = store.changes()
        assert change.kind == "publication"
        assert change.topics == (("Kinship care", "Kinship allowance consultation"),)
        assert [r.mode for r in store.outbox()] == ["daily"]
    finally:
        store.close()
    with TestClient(create_app(cfg), base_url="http://127.0.0.1") as client:
        body = client.get(f"/api/changes/{change.id}").json()
    assert body["topics"] == [
        {"topic": "Kinship care", "sentence": "Kinship allowance consultation"}
    ]
