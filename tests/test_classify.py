"""Rules-based categories with their evidence: the seed pages, the CLI, and changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SEEDS, PageServer, html_page, write_config
from watcher.classify import Classifier, classify, gather
from watcher.classify.minor import is_minor
from watcher.cli import cli
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.store import Store


def _page(path: Path) -> tuple[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [line for line in lines if line != "info icon"]
    return lines[0], "\n".join(lines)


def test_the_government_response_summary_is_a_strategy_with_funding_and_consultations() -> None:
    title, text = _page(next(p for p in SEEDS if p.name.startswith("003")))
    categories = {c.label: c for c in classify(text, title=title)}
    assert {"strategy", "funding", "consultation_open"} <= set(categories)
    assert "£200 million over the next two years" in categories["funding"].sentence
    assert "consultations" in categories["consultation_open"].sentence
    evidence = gather(tuple(text.splitlines()))
    facts = {(f.kind, f.text, f.value) for f in evidence.facts}
    assert ("money", "£200 million over the next two years", "200000000") in facts
    assert ("deadline", "11 May 2023", "2023-05-11") in facts
    assert (
        "The deadline for responding to all three consultations is 11 May 2023."
        in evidence.sentences
    )


@pytest.mark.parametrize("prefix", ["000", "002", "004"])
def test_sector_reaction_pages_are_news_or_comment(prefix: str) -> None:
    title, text = _page(next(p for p in SEEDS if p.name.startswith(prefix)))
    assert classify(text, title=title)[0].label == "news"


def test_a_small_edit_without_facts_is_minor() -> None:
    (category,) = classify(
        "The guidance is now avaliable online.", removed="The guidance is now available online."
    )
    assert category.label == "minor"


MINOR_EDITS = [
    ("The guidance is now avaliable online.", "The guidance is now available online.", True),
    ("Hello,  world", "Hello world", True),
    ("Social Work England", "social work england", True),
    ("Last updated 3 May 2027", "Last updated 14 May 2027", True),
    (
        "Page last reviewed: 03/05/2027. The fund is open.",
        "Page last reviewed: 04/05/2027. The fund is open.",
        True,
    ),
    # Not minor: a word added or swapped changes the meaning; a digit is a fact.
    ("We will fund the scheme.", "We will not fund the scheme.", False),
    ("The fund is £9.5 million.", "The fund is £95 million.", False),
    ("Closes 11 May", "Closes 12 May", False),
    ("The fund opens", "The fund closes", False),
    ("We fund carers", "We find carers", False),
    ("Last updated 3 May 2027. Closes 1 June.", "Last updated 4 May 2027. Closes 8 June.", False),
]


@pytest.mark.parametrize(("removed", "added", "minor"), MINOR_EDITS)
def test_minor_edits_are_typos_spacing_punctuation_or_a_stamp(
    removed: str, added: str, minor: bool
) -> None:
    assert is_minor(added, removed) is minor


def test_url_paths_weigh_in_the_rules() -> None:
    labels = [
        c.label
        for c in classify(
            "Some text about children.",
            url="https://www.gov.uk/government/consultations/x",
            model=False,
        )
    ]
    assert labels == ["consultation_open"]


def test_a_story_told_in_the_past_tense_is_news_and_one_told_to_you_is_not() -> None:
    story = (
        "The regional team hosted a meeting in Leeds on Tuesday. Delegates discussed the "
        "arrangements that started last spring and visited two centres that opened recently. "
        "The chair thanked the volunteers who organised the programme and welcomed the "
        "partners who joined the network during the year. Several schools attended the "
        "sessions, which were recorded for those who missed them."
    )
    advice = (
        "Before the visit you should check the arrangements with your local centre. If your "
        "child needs support you can ask the school, and you may need to bring documents that "
        "show where you live. Tell the centre if your circumstances change after you register."
    )
    assert classify(story, title="Regional meeting", model=False)[0].label == "news"
    assert all(c.label != "news" for c in classify(advice, title="Visiting a centre", model=False))


def test_classify_cli_text_and_jsonl() -> None:
    cmd = [sys.executable, "-m", "watcher.cli", "classify"]
    out = subprocess.run(
        [*cmd, "--title", "Kinship care strategy"],
        input="The government published its kinship care strategy, backed by £20 million.",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.splitlines()[0].startswith("strategy")
    assert "money: £20 million = 20000000" in out
    lines = "\n".join(
        json.dumps({"id": str(i), "title": "News", "text": t})
        for i, t in enumerate(
            [
                "The charity said it welcomed the review, calling on ministers to act.",
                "The consultation closes on 11 May 2023. Have your say.",
            ]
        )
    )
    rows = [
        json.loads(x)
        for x in subprocess.run(
            [*cmd, "--jsonl"], input=lines, capture_output=True, text=True, timeout=60, check=True
        ).stdout.splitlines()
    ]
    assert [r["id"] for r in rows] == ["0", "1"]
    assert rows[0]["categories"][0]["label"] == "news"
    assert rows[1]["categories"][0]["label"] == "consultation_open"
    assert rows[1]["evidence"]["facts"] == [
        {"kind": "deadline", "text": "11 May 2023", "value": "2023-05-11"}
    ]
    bad = subprocess.run(
        [*cmd, "--jsonl"],
        input="not json\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "line 1 is not a JSON object" in bad.stderr


def test_changes_carry_category_confidence_and_the_alert_names_it(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    site.set("/k", html_page("Kinship care", ["Kinship carers look after children."]))
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "k", "url": site.url("/k")}],
        targets=[("hook", "HOOK")],
    )
    config = load_config(path, environ={"HOOK": f"json://127.0.0.1:{receiver.port}/hook"})
    asyncio.run(check_once(config))
    site.set(
        "/k",
        html_page(
            "Kinship care",
            [
                "Kinship carers look after children.",
                "The Department for Education has opened a consultation on kinship allowances; it closes on 11 May 2027.",
            ],
        ),
    )
    asyncio.run(check_once(config))
    store = Store.open(config.settings.state_dir)
    try:
        change = store.changes()[0]
    finally:
        store.close()
    assert change.category == "consultation_open"
    assert 0 < change.evidence.categories[0][1] <= 0.99  # never certain
    (post,) = receiver.requests("/hook", "POST")
    assert json.loads(post.body)["title"].startswith(
        "[Consultation] k — Kinship care: closes 11 May 2027"
    )


FAMILY_HELP = (
    "Local authorities will be able to bid for a share of a new £20 million Family Help fund"
)


def test_a_fund_to_bid_for_is_funding_as_a_page_a_change_and_on_the_command_line() -> None:
    assert classify(FAMILY_HELP)[0].label == "funding"
    (top, *_) = Classifier.shipped()(FAMILY_HELP, title="Community Care")
    assert (top.label, top.sentence) == ("funding", FAMILY_HELP)
    out = CliRunner().invoke(cli, ["classify"], input=FAMILY_HELP)
    assert out.exit_code == 0 and out.output.startswith("funding"), out.output


@pytest.mark.parametrize(
    "title",
    ["", "Kent County Council: news", "CoramBAAF", "Children and Young People Now", "GOV.UK"],
)
def test_a_consultation_launched_is_open_whoever_publishes_it(title: str) -> None:
    text = (
        "The Department has today launched a consultation on changes to kinship allowances, "
        "which closes on 11 May 2027."
    )
    assert classify(text, title=title)[0].label == "consultation_open"
    assert Classifier.shipped()(text, title=title)[0].label == "consultation_open"


def test_several_events_give_several_categories_each_with_its_sentence() -> None:
    text = (
        "The government has published its new kinship care strategy. "
        "It is backed by £40 million of new funding for local authorities. "
        "A consultation on the national framework has opened and closes on 11 May 2027."
    )
    found = {c.label: c.sentence for c in Classifier.shipped()(text, title="Kinship care")}
    assert "funding" in found and "£40 million" in found["funding"]
    assert "consultation_open" in found and "11 May 2027" in found["consultation_open"]
    assert "strategy" in found and "strategy" in found["strategy"]


@pytest.mark.parametrize(
    ("metadata", "url", "label", "why"),
    [
        (
            {"govuk:format": "open_consultation"},
            "https://www.gov.uk/x",
            "consultation_open",
            "metadata: govuk:format=open_consultation",
        ),
        ({"schema:@type": "WebPage,Report"}, "", "report", "metadata: schema.org @type=Report"),
        (
            {"schema:@type": "https://schema.org/Legislation"},
            "",
            "legislation",
            "metadata: schema.org @type=Legislation",
        ),
        ({"govuk:format": "answer"}, "", "guidance", "metadata: govuk:format=answer"),
        (
            {},
            "https://www.legislation.gov.uk/uksi/2026/1",
            "legislation",
            "host: legislation.gov.uk",
        ),
    ],
)
def test_stated_metadata_outweighs_the_wording(
    metadata: dict[str, str], url: str, label: str, why: str
) -> None:
    text = "The minister said today that the results were welcome."
    (top, *_) = classify(text, title="Results", url=url, metadata=metadata)
    assert (top.label, top.decided_by) == (label, why)


def test_a_type_that_only_says_article_does_not_decide() -> None:
    (top, *_) = classify(
        FAMILY_HELP, metadata={"schema:@type": "NewsArticle", "og:type": "article"}
    )
    assert (top.label, top.decided_by) == ("funding", "text")


def test_a_govuk_format_decides_a_change_and_its_json_says_so(
    tmp_path: Path, site: PageServer
) -> None:
    def page(paragraphs: list[str]) -> str:
        return html_page("Kinship allowances", paragraphs).replace(
            "<title>", '<meta name="govuk:format" content="open_consultation"><title>', 1
        )

    intro = ["Kinship carers look after children."]
    site.set("/c", page(intro))
    path = write_config(tmp_path / "sources.toml", [{"name": "c", "url": site.url("/c")}])
    config = load_config(path, environ={})
    asyncio.run(check_once(config))
    site.set(
        "/c", page([*intro, "The minister said the meeting had gone well, and thanked staff."])
    )
    asyncio.run(check_once(config))
    out = CliRunner().invoke(cli, ["changes", "--format", "json", "--config", str(path)])
    assert out.exit_code == 0, out.output
    [change] = json.loads(out.output)
    assert change["category"] == "consultation_open"
    assert change["evidence"]["decided_by"] == "metadata: govuk:format=open_consultation"


def test_the_shipped_model_is_read_at_the_first_change_not_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first pass or a pass of 304s classifies nothing, so it never pays for the model."""
    import watcher.classify as classify_pkg

    reads: list[object] = []
    real = classify_pkg.load

    def counting(path: object = None) -> object:
        reads.append(path)
        return real()

    monkeypatch.setattr(classify_pkg, "load", counting)
    classifier = classify_pkg.Classifier.shipped()
    assert reads == []
    first = classifier("Consultation opens today on the new fostering allowance.")
    classifier.thresholds()
    classifier("Funding of £3 million is announced for family hubs.")
    assert reads == [None]  # read once, at the first change
    assert first and first[0].label
    daemon = classify_pkg.Classifier.shipped()
    daemon.warm()  # what `watcher run` does at start
    assert reads == [None, None]
    daemon("A new strategy is published.")
    assert reads == [None, None]
