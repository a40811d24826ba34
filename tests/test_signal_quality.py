"""Signal quality end to end: a real loopback site, real checks, a real SQLite state.

Each test replays how a kind of real-world noise or a real edit behaves over many checks and
asserts what a reader would get: one change per real edit, nothing for noise that comes back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from tests.conftest import PageServer, write_config
from watcher.config import Config, load_config
from watcher.models import CheckResult
from watcher.runtime import check_once
from watcher.store import Store

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
STABLE = [
    "The Government has published its response to the Independent Review of Children's Social Care.",
    "Local authorities will pilot family help services from next year in twelve areas.",
    "The National Framework sets out what good practice looks like for every council.",
]


def page(main: str, title: str = "Update") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><main><h1>{title}</h1>{main}</main>"
        "<footer>Registered charity</footer></body></html>"
    )


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def config(tmp_path: Path, site: PageServer, paths: list[str]) -> Config:
    sources = [{"name": p.strip("/").replace("/", "-"), "url": site.url(p)} for p in paths]
    return load_config(write_config(tmp_path / "sources.toml", sources), environ={})


def check(cfg: Config) -> dict[str, CheckResult]:
    results, _ = asyncio.run(check_once(cfg))
    return {r.source: r for r in results}


def test_a_page_that_grows_by_one_funding_paragraph_alerts_on_every_one_of_15_checks(
    tmp_path: Path, site: PageServer
) -> None:
    """The outside probe's recall bug: a page on a site of its own that appends a paragraph with
    a new amount was learned away as growth after nine edits. No learned rule, of the page or of
    its site, may take out a block that brings a new amount."""
    cfg = config(tmp_path, site, ["/latest"])
    items: list[str] = []
    site.set("/latest", page(paragraphs(*STABLE), "Latest funding announcements"))
    assert check(cfg)["latest"].outcome == "baseline"
    for n in range(1, 16):
        items.insert(
            0, f"Round {n}: the Department confirmed £{5 + 3 * n} million for family help."
        )
        site.set("/latest", page(paragraphs(*STABLE, *items), "Latest funding announcements"))
        result = check(cfg)["latest"]
        assert result.outcome == "changed", f"edit {n} was {result.outcome}"
        assert result.change is not None and result.change.diff.added == (items[0],)


def test_an_ab_pair_alternating_is_quiet_once_seen_but_amounts_that_come_back_alert(
    tmp_path: Path, site: PageServer
) -> None:
    heads = ["Get the support you need", "Help for families, when you need it"]
    cfg = config(tmp_path, site, ["/ab"])
    outcomes = []
    for n in range(6):
        site.set("/ab", page(paragraphs(heads[n % 2], *STABLE)))
        outcomes.append(check(cfg)["ab"].outcome)
    # The first switch is a change nobody could tell from an edit; once a wording comes back,
    # the slot is known to alternate and says nothing more.
    assert outcomes[0] == "baseline"
    assert "changed" not in outcomes[2:], outcomes
    # £9m -> £12m -> £9m in the very same slot: three real changes, a known wording or not.
    amounts = [9, 12, 9]
    for n, amount in enumerate(amounts):
        body = f"The fund is worth £{amount} million over two years."
        site.set("/ab", page(paragraphs(heads[n % 2], body, *STABLE)))
        result = check(cfg)["ab"]
        assert result.outcome == "changed", (amount, result.outcome)
        assert result.change is not None and body in result.change.diff.added


def test_relative_ages_in_words_alert_nothing(tmp_path: Path, site: PageServer) -> None:
    cfg = config(tmp_path, site, ["/news"])
    ages = ["today", "yesterday", "2 days ago", "3 days ago", "last week"]
    for n, age in enumerate(ages):
        listing = (
            "<ul>"
            f"<li><a href='/a'>Kinship carers to get new allowance</a> Published {age}</li>"
            f"<li><a href='/b'>Family hubs open in twelve areas</a> Published {ages[-1 - n]}</li>"
            "</ul>"
        )
        site.set("/news", page(paragraphs(*STABLE) + listing))
        outcome = check(cfg)["news"].outcome
        assert outcome != "changed", age


def test_a_consent_block_inside_main_with_a_hashed_class_alerts_nothing_on_a_10_page_site(
    tmp_path: Path, site: PageServer
) -> None:
    wordings = [
        "We use cookies to understand how you use this site. Choose which ones we may set.",
        "This site uses analytics cookies. You can accept or reject them at any time.",
        "Help us improve: allow optional cookies, or continue with essential cookies only.",
    ]
    paths = [f"/p{i}" for i in range(10)]
    cfg = config(tmp_path, site, paths)

    def serve(version: int, edited: int | None = None) -> None:
        for i, p in enumerate(paths):
            consent = wordings[(i + version * (i % 3 + 1)) % 3]
            body = [f"Page {i}: what the reforms mean for families in area {i}.", *STABLE]
            if i == edited:
                body.append("The council will open two new family hubs this spring.")
            block = f"<div class='_x9f3k'><p>{consent}</p><button>Accept</button></div>"
            site.set(p, page(block + paragraphs(*body), f"Page {i}"))

    serve(0)
    check(cfg)
    for version in (1, 2, 3):
        serve(version)
        changed = [s for s, r in check(cfg).items() if r.outcome == "changed"]
        assert changed == [], f"version {version}: {changed}"
    serve(4, edited=7)
    changed = {s: r for s, r in check(cfg).items() if r.outcome == "changed"}
    assert list(changed) == ["p7"], "the one real edit among the rotations still alerts"
    change = changed["p7"].change
    assert change is not None
    assert change.diff.added == ("The council will open two new family hubs this spring.",)


def test_a_tenth_of_a_one_host_site_edited_at_once_all_alert(
    tmp_path: Path, site: PageServer
) -> None:
    """Issue 12's worse recall bug: with every page on one host and a tenth of them gaining a
    real paragraph in the same pass, the site rules counted only the changed pages and called
    all the edits growth. The share is over every page checked."""
    paths = [f"/n{i}" for i in range(30)]
    cfg = config(tmp_path, site, paths)
    for version in range(5):
        for i, p in enumerate(paths):
            body = [f"Briefing {i} for social workers in region {i % 7}.", *STABLE]
            if i < 3:
                body += [
                    f"Update {w}: the council confirmed {w + 2} more family hubs will open."
                    for w in range(1, version + 1)
                ]
            site.set(p, page(paragraphs(*body), f"Briefing {i}"))
        results = check(cfg)
        changed = sorted(s for s, r in results.items() if r.outcome == "changed")
        assert changed == ([] if version == 0 else ["n0", "n1", "n2"]), (version, changed)


def test_a_reworded_sentence_reads_as_a_word_level_edit(tmp_path: Path, site: PageServer) -> None:
    cfg = config(tmp_path, site, ["/w"])
    site.set("/w", page(paragraphs(*STABLE)))
    check(cfg)
    reworded = STABLE[1].replace("will pilot", "are now asked to pilot")
    site.set("/w", page(paragraphs(STABLE[0], "A new paragraph comes first.", reworded, STABLE[2])))
    change = check(cfg)["w"].change
    assert change is not None
    edits = [(h.before, h.after) for h in change.diff.hunks if any(h.words)]
    assert edits == [((STABLE[1],), (reworded,))], change.diff.hunks
    assert change.diff.added == ("A new paragraph comes first.", reworded)


def test_a_typo_fix_is_a_minor_change_that_alerts_no_one(tmp_path: Path, site: PageServer) -> None:
    cfg = config(tmp_path, site, ["/t"])
    site.set("/t", page(paragraphs("The guidance is now avaliable online.", *STABLE)))
    check(cfg)
    site.set("/t", page(paragraphs("The guidance is now available online.", *STABLE)))
    result = check(cfg)["t"]
    assert result.outcome == "changed"
    assert result.change is not None and result.change.category == "minor"


def test_every_change_in_a_real_page_history_is_one_a_reader_would_call_real(
    tmp_path: Path, site: PageServer
) -> None:
    """FosterTalk's "have your say" page (England), four stored versions 2016 to 2018, served
    as the text the crawler kept. Between any two of them the consultation lists were rewritten,
    so each check must be a change, and each change must carry what a reader would name."""
    history = SHARED / "changes" / "fostertalk-say-england"
    manifest = json.loads((history / "manifest.json").read_text())
    cfg = config(tmp_path, site, ["/say"])
    found = []
    for version in manifest["versions"]:
        data = (history / version["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == version["sha256"]
        site.set("/say", data, headers={"Content-Type": "text/plain; charset=utf-8"})
        found.append(check(cfg)["say"])
    assert [r.outcome for r in found] == ["baseline", "changed", "changed", "changed"]
    real = {
        # v0 -> v1: the 2016 consultations closed; the Fostering Stocktake call for evidence
        # opened (closing 16 June 2017) and the page gained a "Closed Consultations" list.
        1: ["Call for evidence – Fostering Stocktake", "16 June 2017"],
        # v1 -> v2: the restraint guidance consultation (closes 24 January 2018) and the sex and
        # relationship education consultation (opened 19 December 2017) are listed as open.
        2: ["Restraint and Restrictive Intervention", "24 January 2018", "19 December 2017"],
        # v2 -> v3: the family and friends care consultation (published 10 May 2018, closes
        # 4 July 2018) and a foster carers' survey closing 31 May 2018.
        3: ["Family and friends care: revising guidance", "4 July 2018", "31 May 2018"],
    }
    for k, expected in real.items():
        change = found[k].change
        assert change is not None
        added = "\n".join(change.diff.added)
        for text in expected:
            assert text in added, (k, text)
        # The page's furniture never reads as part of a change.
        assert "Enquire Now About Membership" not in added + "\n".join(change.diff.removed)
    store = Store.open(cfg.settings.state_dir)
    try:
        assert store.count("changes") == 3
    finally:
        store.close()
