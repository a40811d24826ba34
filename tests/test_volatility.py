"""Volatility learning: what changes by nature is learned and suppressed; what matters never is."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from tests.conftest import PageServer, respond, write_config
from watcher import volatility as vol
from watcher.config import load_config
from watcher.diff import diff_blocks
from watcher.models import Diff, Extracted, Snapshot
from watcher.normalise import mask
from watcher.runtime import check_once
from watcher.store import Store

P = "main/article/p"
STABLE = [
    "The Government has published its response to the Independent Review.",
    "It commits £200 million over the next two years to begin reform.",
    "The consultation closes on 11 May 2023.",
    "Local authorities will pilot family help from next year.",
]


def page(rotating: str, body: list[str] = STABLE) -> vol.Side:
    blocks = (body[0], rotating, *body[1:])
    return vol.Side(tuple(blocks), tuple(P for _ in blocks))


class Source:
    """Runs comparisons of one page the way the pipeline does, with no site evidence."""

    def __init__(self) -> None:
        self.learned = vol.Learned()
        self.previous: vol.Side | None = None

    def compare(self, side: vol.Side, host: dict | None = None) -> vol.Verdict | None:  # type: ignore[type-arg]
        if self.previous is None:
            self.previous = side
            return None
        diff = diff_blocks(self.previous.blocks, side.blocks, key=mask)
        compared = vol.compare(self.previous, side, diff)
        obs = vol.observe(compared)
        self.learned = vol.learn(self.learned, obs)
        verdict = vol.judge(
            compared,
            vol.Learned(self.learned.comparisons, self.learned.slots, host or {}),
        )
        self.previous = side
        return verdict


def test_a_block_replaced_on_every_check_is_suppressed_after_learning() -> None:
    src = Source()
    src.compare(page("Quote of the week: Story 1 about families"))
    first = src.compare(page("Read next: a guide to fostering allowances"))
    assert first is not None and first.diff  # nothing learned yet: reported once
    for n in range(3, 8):
        verdict = src.compare(page(f"Read next: story number {n * 37} on adoption support"))
        assert verdict is not None
        assert not verdict.diff, f"check {n}: a slot replaced on every check is volatile"
        assert verdict.suppressed[0][0].startswith("learned volatile")


def test_an_amount_change_in_a_stable_paragraph_still_alerts_after_learning() -> None:
    src = Source()
    for n in range(6):
        src.compare(page(f"Read next: story {n} of {n * 7} on care"))
    edited = [STABLE[0], STABLE[1].replace("£200 million", "£250 million"), *STABLE[2:]]
    verdict = src.compare(page("Read next: story 99 of 3 on care", edited))
    assert verdict is not None
    assert verdict.diff.added == (
        "It commits £250 million over the next two years to begin reform.",
    )
    assert verdict.diff.removed == (STABLE[1],)


def test_the_same_amount_edited_again_and_again_is_never_learned_away() -> None:
    src = Source()
    src.compare(page("x", STABLE))
    for amount in (250, 300, 350, 400, 450):
        body = [
            STABLE[0],
            f"It commits £{amount} million over the next two years to begin reform.",
            *STABLE[2:],
        ]
        verdict = src.compare(page("x", body))
        assert verdict is not None and verdict.diff.added == (body[1],), amount


def test_a_moved_deadline_in_a_volatile_slot_still_alerts() -> None:
    src = Source()
    for n in range(5):
        src.compare(page(f"Rotating banner number {n} for readers"))
    verdict = src.compare(page("The consultation now closes on 18 May 2023."))
    assert verdict is not None and verdict.diff, "a date appearing is never learned away"


def test_a_paragraph_removed_beside_a_rotating_block_is_kept() -> None:
    src = Source()
    for n in range(5):
        src.compare(page(f"Read next: story {n} on care"))
    shorter = [STABLE[0], STABLE[2], STABLE[3]]
    verdict = src.compare(page("Read next: story 77 on care", shorter))
    assert verdict is not None
    assert verdict.diff.removed == (STABLE[1],)


def test_site_template_rotation_is_known_in_the_first_pass() -> None:
    """Ten pages of one site swap a same-shaped block at once; one of them also has a real edit."""
    host: dict[str, tuple[float, float]] = {}
    pairs = []
    for i in range(10):
        body = [f"Page {i} introduction about kinship care.", *STABLE]
        old = page(f"Quote of the week: Story {i} about families", body)
        new_body = body + (
            ["A new paragraph announcing £3 million for kinship carers."] if i == 4 else []
        )
        new = page(f"Quote of the week: Story {i + 50} about families", new_body)
        diff = diff_blocks(old.blocks, new.blocks, key=mask)
        host = vol.host_fold(host, [vol.Page(vol.observe(vol.compare(old, new, diff)))])
        pairs.append((old, new, diff))
    for i, (old, new, diff) in enumerate(pairs):
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        if i == 4:
            assert verdict.diff.added == (
                "A new paragraph announcing £3 million for kinship carers.",
            )
        else:
            assert not verdict.diff, f"page {i}"


def test_reordered_blocks_are_not_a_change_unless_order_matters() -> None:
    items = ["- Apply for a place", "- Read the guidance", "- Get support"]
    old = vol.Side(("Steps", *items), ("p", "li", "li", "li"))
    new = vol.Side(("Steps", *reversed(items)), ("p", "li", "li", "li"))
    diff = diff_blocks(old.blocks, new.blocks, key=mask)
    assert diff
    assert not vol.judge(vol.compare(old, new, diff), vol.Learned()).diff
    assert vol.judge(vol.compare(old, new, diff, order_matters=True), vol.Learned()).diff


def test_the_learning_fetch_waits_for_the_first_change_and_never_hides_an_edit(
    tmp_path: Path, site: PageServer
) -> None:
    """A first check fetches once; the first check that sees a change fetches twice and learns
    what differs between the two, so an edit made since the baseline (in both) still alerts."""
    counter = itertools.count()
    state = {"extra": ""}

    def handler(h) -> None:  # type: ignore[no-untyped-def]
        n = next(counter)
        body = (
            "<html><body><main><h1>Kinship strategy</h1>"
            f"<p>{STABLE[0]}</p><p>Featured: story {n * 13} picked for you today</p>"
            f"<p>{STABLE[1]}</p>{state['extra']}</main></body></html>"
        ).encode()
        respond(h, body)

    site.set("/k", handler=handler)
    config = load_config(
        write_config(tmp_path / "sources.toml", [{"name": "k", "url": site.url("/k")}]), environ={}
    )
    first = asyncio.run(check_once(config))[0][0]
    assert first.outcome == "baseline" and len(site.requests("/k")) == 1
    state["extra"] = "<p>Funding of £40 million is confirmed for kinship carers.</p>"
    changed = asyncio.run(check_once(config))[0][0]
    assert len(site.requests("/k")) == 3, "the first change is fetched twice"
    assert changed.outcome == "changed" and changed.change is not None
    assert changed.change.diff.added == ("Funding of £40 million is confirmed for kinship carers.",)
    assert not any("story" in line for line in changed.change.diff.added)
    again = asyncio.run(check_once(config))[0][0]
    assert again.outcome == "volatile" and len(site.requests("/k")) == 4, "learned: once again"


def test_pipeline_learns_from_the_second_fetch_of_a_new_source(
    tmp_path: Path, site: PageServer
) -> None:
    """A block that differs between two fetches minutes apart is volatile from its first change."""
    counter = itertools.count()
    state = {"extra": ""}

    def handler(h) -> None:  # type: ignore[no-untyped-def]
        n = next(counter)
        body = (
            "<html><body><main><h1>Kinship strategy</h1>"
            f"<p>{STABLE[0]}</p><p>Featured: story {n * 13} picked for you today</p>"
            f"<p>{STABLE[1]}</p>{state['extra']}</main></body></html>"
        ).encode()
        respond(h, body)

    site.set("/k", handler=handler)
    config = load_config(
        write_config(tmp_path / "sources.toml", [{"name": "k", "url": site.url("/k")}]), environ={}
    )
    results = [asyncio.run(check_once(config))[0][0] for _ in range(3)]
    assert [r.outcome for r in results] == ["baseline", "volatile", "volatile"]
    state["extra"] = "<p>A consultation on the National Framework closes on 11 May 2023.</p>"
    changed = asyncio.run(check_once(config))[0][0]
    assert changed.outcome == "changed"
    assert changed.change is not None
    assert changed.change.diff.added == (
        "A consultation on the National Framework closes on 11 May 2023.",
    )
    assert changed.change.diff.removed == ()
    store = Store.open(config.settings.state_dir)
    try:
        assert store.count("changes") == 1
        assert [c.suppressed for c in store.checks("k")][1:] == [1 * 2, 2, 2]
    finally:
        store.close()


def test_unrelated_text_swapped_on_most_pages_is_noise_but_amount_edits_still_alert() -> None:
    """A bare paragraph drawn from a pool of real sentences, swapped on every page of a site."""
    pool = [
        "Become praised the proposed new Care Standards and the steps towards ending the care cliff.",
        "Alliance calls on leaders to provide political and financial support to the workforce.",
        "Like others in the sector, ADCS said it wanted to work through the detail of the report.",
        "The need for a new eco-social world: building trust between people and services.",
    ]
    host: dict[str, tuple[float, float]] = {}
    pairs = []
    for i in range(12):
        body = [f"Page {i} opens with its own introduction.", *STABLE]
        old = page(pool[i % 4], body)
        new_body = list(body)
        if i == 3:
            new_body[2] = new_body[2].replace("£200 million", "£260 million")
        new = page(pool[(i + 1) % 4], new_body)
        diff = diff_blocks(old.blocks, new.blocks, key=mask)
        host = vol.host_fold(host, [vol.Page(vol.observe(vol.compare(old, new, diff)))])
        pairs.append((old, new, diff))
    for i, (old, new, diff) in enumerate(pairs):
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        if i == 3:
            assert verdict.diff.added == (
                "It commits £260 million over the next two years to begin reform.",
            )
        else:
            assert not verdict.diff, f"page {i}: {verdict.diff}"


def test_a_thread_growing_on_most_pages_is_noise_but_a_new_paragraph_is_not() -> None:
    host: dict[str, tuple[float, float]] = {}
    pairs = []
    for i in range(12):
        body = [f"Page {i} opens with its own introduction.", *STABLE]
        comments = [f"Reader {k} wrote about page {i}" for k in range(3)]
        old = vol.Side((*body, *comments), (*[P] * len(body), *["main/div.thread/p"] * 3))
        new_body = (
            [*body, "A new paragraph: the pilot will reach 12 more councils."] if i == 5 else body
        )
        more = [*comments, f"Reader 9 wrote about page {i}"]
        new = vol.Side((*new_body, *more), (*[P] * len(new_body), *["main/div.thread/p"] * 4))
        diff = diff_blocks(old.blocks, new.blocks, key=mask)
        host = vol.host_fold(host, [vol.Page(vol.observe(vol.compare(old, new, diff)))])
        pairs.append((old, new, diff))
    for i, (old, new, diff) in enumerate(pairs):
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        if i == 5:
            assert verdict.diff.added == (
                "A new paragraph: the pilot will reach 12 more councils.",
            )
        else:
            assert not verdict.diff, f"page {i}: {verdict.diff}"


def _pass(
    host: dict[str, tuple[float, float]], pages: list[tuple[vol.Side, vol.Side]], quiet: int = 0
) -> tuple[dict[str, tuple[float, float]], list[tuple[vol.Side, vol.Side, Diff]]]:
    """One pass over a site: every comparison folded together, then each judged."""
    compared = [(old, new, diff_blocks(old.blocks, new.blocks, key=mask)) for old, new in pages]
    folded = vol.host_fold(
        host, [vol.Page(vol.observe(vol.compare(o, n, d))) for o, n, d in compared], quiet
    )
    return folded, compared


def test_a_paragraph_added_on_a_tenth_of_a_site_is_not_growth() -> None:
    """Unchanged pages count: 3 of 30 pages gaining a paragraph is not "most pages"."""
    host: dict[str, tuple[float, float]] = {}
    for version in range(1, 5):
        pages = []
        for i in range(3):
            body = [f"Page {i} introduction.", *STABLE]
            extra = [f"Update {w}: twelve more councils join the pilot." for w in range(1, version)]
            old = vol.Side((*body, *extra), tuple(P for _ in range(len(body) + len(extra))))
            new_extra = [*extra, f"Update {version}: twelve more councils join the pilot."]
            new = vol.Side((*body, *new_extra), tuple(P for _ in range(len(body) + len(new_extra))))
            pages.append((old, new))
        host, compared = _pass(host, pages, quiet=27)
        for old, new, diff in compared:
            verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(version, {}, host))
            assert verdict.diff.added == (new.blocks[-1],), version
    seen, churned = host[f"grow:{P}"]
    assert churned / seen < vol.HOST_MIN_SHARE


def test_a_pass_where_nothing_changed_teaches_nothing() -> None:
    host = {f"grow:{P}": (10.0, 8.0)}
    assert vol.host_fold(host, [], quiet=50) == host


def test_growth_on_most_pages_never_takes_out_a_new_amount() -> None:
    host: dict[str, tuple[float, float]] = {}
    pages = []
    for i in range(10):
        body = [f"Page {i} introduction.", *STABLE]
        added = f"Round {i}: £{i + 3} million confirmed for family help."
        pages.append((page("x", body), page("x", [*body, added])))
    host, compared = _pass(host, pages)
    assert vol.host_volatile(vol.Learned(1, {}, host), f"grow:{P}")
    for old, new, diff in compared:
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        assert verdict.diff.added == (new.blocks[-1],), "a new amount is never learned away"


def test_a_wording_rotating_across_pages_is_known_in_the_first_pass() -> None:
    """Each page swaps its notice for another page's: the texts move around the site."""
    notices = [
        "We use cookies to understand how you use this site. Choose which ones we may set.",
        "This site uses analytics cookies. You can accept or reject them at any time.",
        "Help us improve: allow optional cookies, or continue with essential cookies only.",
    ]
    pages = []
    for i in range(6):
        body = [f"Page {i} introduction about kinship care.", *STABLE]
        old = page(notices[i % 3], body)
        new = page(notices[(i + 1) % 3], body)
        pages.append((old, new))
    host, compared = _pass({}, pages)
    for old, new, diff in compared:
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        assert not verdict.diff, verdict.diff
        assert {why for why, _ in verdict.suppressed} == {
            "a text that rotates across the site's pages"
        }


def test_a_text_removed_for_good_is_reported_even_when_it_circulates_elsewhere() -> None:
    """A page losing a paragraph is its own loss, even if the same words rotate on other pages."""
    shared = "Like others in the sector, we want to work through the detail of the report."
    host = {f"text:{vol.text_key(vol.Side((shared,), (P,)), 0)}": (3.0, 3.0)}
    old = page("x", [shared, *STABLE])
    new = page("x", list(STABLE))
    diff = diff_blocks(old.blocks, new.blocks, key=mask)
    verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
    assert verdict.diff.removed == (shared,)


def test_slot_memory_is_bounded() -> None:
    learned = vol.Learned()
    for n in range(400):
        old = page(f"Rotating story {n} about fostering allowances in region {n}")
        new = page(f"Rotating story {n + 1} about fostering allowances in region {n + 1}")
        obs = vol.observe(vol.compare(old, new, diff_blocks(old.blocks, new.blocks, key=mask)))
        learned = vol.learn(learned, obs)
    memory = [k for k in learned.slots if k.startswith(("held:", "alt:", "swapped:"))]
    assert 0 < len(memory) <= vol.MEMORY_SIZE
    assert min(learned.slots[k] for k in memory) >= learned.comparisons - vol.MEMORY_SPAN


def test_a_rewording_in_an_element_most_pages_swap_is_still_an_edit() -> None:
    """Most pages swap a bare paragraph for unrelated text; one page rewords its own paragraph
    in the same element, keeping under half its words (0.44): that is an edit, not a swap."""
    pool = [
        "Become praised the proposed new Care Standards and the steps towards ending the care cliff.",
        "Alliance calls on leaders to provide political and financial support to the workforce.",
        "Like others in the sector, ADCS said it wanted to work through the detail of the report.",
        "The need for a new eco-social world: building trust between people and services.",
    ]
    own = "Local authorities will pilot family help services from next year in twelve areas."
    reworded = "Twelve areas will be asked to run pilots of family help services from next year."
    pages = []
    for i in range(12):
        body = [f"Page {i} opens with its own introduction.", own, *STABLE[2:]]
        new_body = [body[0], reworded, *body[2:]] if i == 3 else body
        pages.append((page(pool[i % 4], body), page(pool[(i + 1) % 4], new_body)))
    host, compared = _pass({}, pages)
    for i, (old, new, diff) in enumerate(compared):
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        assert verdict.diff.added == ((reworded,) if i == 3 else ()), i


@pytest.mark.parametrize(("pages", "edited"), [(4, 2), (5, 3), (6, 3), (10, 5)])
def test_the_same_new_paragraph_on_half_a_small_site_is_news(pages: int, edited: int) -> None:
    """A coordinated edit (a notice added to half of a site's pages at once, no amount, no date)
    is neither growth nor boilerplate: every page that got it alerts."""
    notice = "This consultation has now closed and responses are being analysed."
    pairs = []
    for i in range(pages):
        body = [f"Page {i} introduction about kinship care.", *STABLE[:2]]
        pairs.append((page("x", body), page("x", [*body, notice] if i < edited else body)))
    changed = [(o, n) for o, n in pairs if o.blocks != n.blocks]
    host, compared = _pass({}, changed, quiet=pages - edited)
    for old, new, diff in compared:
        verdict = vol.judge(vol.compare(old, new, diff), vol.Learned(1, {}, host))
        assert verdict.diff.added == (notice,)


def _compared(old: list[str], new: list[str], order_matters: bool = False) -> vol.Comparison:
    a, b = vol.Side(tuple(old), tuple(P for _ in old)), vol.Side(tuple(new), tuple(P for _ in new))
    return vol.compare(a, b, diff_blocks(a.blocks, b.blocks, key=mask), order_matters)


@pytest.mark.parametrize(
    ("old", "new", "order_matters", "gone", "came", "pairs", "lone_old", "lone_new"),
    [
        # A block moved to the end: set aside as moved, nothing left to pair.
        (["A one", "B two", "C three"], ["B two", "C three", "A one"], False, {0}, {2}, [], [], []),
        # ... unless order matters: then it is removed in one place and added in another.
        (
            ["A one", "B two", "C three"],
            ["B two", "C three", "A one"],
            True,
            set(),
            set(),
            [],
            [0],
            [2],
        ),
        # A reworded block replaces the old one in place.
        (
            ["Intro text here", "It commits £200 million now.", "Outro"],
            ["Intro text here", "It commits £250 million now.", "Outro"],
            False,
            set(),
            set(),
            [(1, 1)],
            [],
            [],
        ),
        # A block only added: no counterpart.
        (
            ["Intro text here", "Outro"],
            ["Intro text here", "A new paragraph on kinship care.", "Outro"],
            False,
            set(),
            set(),
            [],
            [],
            [1],
        ),
    ],
)
def test_compare_sets_moved_blocks_aside_and_pairs_what_is_left(
    old: list[str],
    new: list[str],
    order_matters: bool,
    gone: set[int],
    came: set[int],
    pairs: list[tuple[int, int]],
    lone_old: list[int],
    lone_new: list[int],
) -> None:
    cmp = _compared(old, new, order_matters)
    assert (set(cmp.gone), set(cmp.came)) == (gone, came)
    assert [p for r in cmp.regions for p in r.pairs] == pairs
    assert (list(cmp.lone_old), list(cmp.lone_new)) == (lone_old, lone_new)


def test_compare_keeps_both_versions_and_the_diff_it_was_given() -> None:
    old, new = page("Quote of the week: Story 1"), page("Quote of the week: Story 2")
    diff = diff_blocks(old.blocks, new.blocks, key=mask)
    cmp = vol.compare(old, new, diff)
    assert (cmp.old, cmp.new, cmp.diff) == (old, new, diff)
    assert [r.hunk for r in cmp.regions] == list(diff.hunks)


def test_one_comparison_serves_observe_and_judge_alike() -> None:
    """The value observe kept is the value judge reads: judging it twice, or a fresh comparison
    of the same versions, gives the same verdict."""
    old = page("Read next: a guide to fostering allowances")
    new = page("Read next: story number 37 on adoption support")
    diff = diff_blocks(old.blocks, new.blocks, key=mask)
    cmp = vol.compare(old, new, diff)
    learned = vol.learn(vol.learn(vol.Learned(), vol.observe(cmp)), vol.observe(cmp))
    assert vol.observe(cmp) == vol.observe(vol.compare(old, new, diff))
    assert vol.judge(cmp, learned) == vol.judge(vol.compare(old, new, diff), learned)
    assert not vol.judge(cmp, learned).diff


def test_side_reads_a_snapshot_an_extraction_or_nothing() -> None:
    extracted = Extracted("T", ("# T", "Body"), ("main/h1", "main/p"))
    snapshot = Snapshot(hash="h", title="T", text="# T\nBody", paths=("main/h1", "main/p"))
    assert (
        vol.side(extracted)
        == vol.side(snapshot)
        == vol.Side(("# T", "Body"), ("main/h1", "main/p"))
    )
    assert vol.side(None) == vol.Side((), ())
