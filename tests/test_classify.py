"""Rules-based categories with their evidence: the seed pages, the CLI, and changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, PageServer, html_page, write_config
from watcher.classify import classify, gather
from watcher.config import load_config
from watcher.runtime import check_once
from watcher.store import Store

SEEDS = sorted((DATA / "seeds").glob("*.txt"))


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
    assert change["category"] == "consultation_open"
    assert 0 < change["evidence"]["categories"][0]["confidence"] <= 0.95
    (post,) = receiver.requests("/hook", "POST")
    assert json.loads(post.body)["title"].startswith(
        "[Consultation] k — Kinship care: closes 11 May 2027"
    )
