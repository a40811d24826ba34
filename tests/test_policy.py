"""Alert policy: routes and due times, storms, source health, reminder windows. Pure, so tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from watcher.config import Route
from watcher.models import Source
from watcher.notify.policy import (
    Batch,
    StormPolicy,
    batches,
    due_at,
    health_change,
    reminder_window,
    route_change,
)
from watcher.rows import OutboxRow

NOW = datetime(2027, 5, 3, 10, 0, tzinfo=UTC)
SOURCE = Source("dfe", "https://www.gov.uk/x", timedelta(hours=6), tags=("dfe",))
MINOR = [("minor", 0.6)]
FUNDING = [("funding", 0.8)]


def targets_of(routes: list[Route], categories: list[tuple[str, float]]) -> list[str]:
    return [d.target for d in route_change(routes, ["team", "ops"], SOURCE, categories, NOW)]


def test_with_no_routes_every_target_hears_of_a_change_but_not_of_a_minor_edit() -> None:
    assert targets_of([], FUNDING) == ["team", "ops"]
    assert targets_of([], MINOR) == []


def test_a_minor_edit_reaches_only_a_route_that_names_the_category() -> None:
    routes = [
        Route("all", ("team",)),
        Route("typos", ("ops",), categories=("minor",), mode="daily"),
    ]
    assert targets_of(routes, MINOR) == ["ops"]
    assert targets_of(routes, FUNDING) == ["team"]
    [delivery] = route_change(routes, ["team", "ops"], SOURCE, MINOR, NOW)
    assert delivery.mode == "daily"


# --- routes x modes x times ---------------------------------------------------------------------

HOLD = timedelta(seconds=60)
MONDAY_10 = datetime(2027, 5, 3, 10, 0, tzinfo=UTC)  # a Monday
SUNDAY_7 = datetime(2027, 5, 9, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "now", "due"),
    [
        ("immediate", MONDAY_10, MONDAY_10 + HOLD),
        ("hourly", MONDAY_10 + timedelta(minutes=20), datetime(2027, 5, 3, 11, 0, tzinfo=UTC)),
        ("daily", MONDAY_10, datetime(2027, 5, 4, 8, 0, tzinfo=UTC)),  # 08:00 passed: tomorrow
        ("daily", SUNDAY_7, datetime(2027, 5, 9, 8, 0, tzinfo=UTC)),  # before 08:00: today
        ("weekly", MONDAY_10, datetime(2027, 5, 10, 8, 0, tzinfo=UTC)),  # next Monday
        ("weekly", SUNDAY_7, datetime(2027, 5, 10, 8, 0, tzinfo=UTC)),
        (
            "weekly",
            datetime(2027, 5, 10, 7, 59, tzinfo=UTC),
            datetime(2027, 5, 10, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_each_mode_is_due_at_its_boundary(mode: str, now: datetime, due: datetime) -> None:
    assert due_at(mode, now, HOLD, (8, 0)) == due


ROUTES = [
    Route("urgent", ("team",), categories=("consultation_open",), mode="immediate"),
    Route("digest", ("team", "ops"), mode="daily"),
    Route("weekly-dfe", ("board",), tags=("dfe",), mode="weekly"),
    Route("other-site", ("ops",), sources=("ofsted",)),
    Route("confident", ("board",), min_confidence=0.9),
]


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        # each target once, at the soonest of the modes that route it there
        ([("consultation_open", 0.7)], {"team": "immediate", "ops": "daily", "board": "weekly"}),
        ([("funding", 0.95)], {"team": "daily", "ops": "daily", "board": "immediate"}),
        ([("funding", 0.5)], {"team": "daily", "ops": "daily", "board": "weekly"}),
        ([], {"team": "daily", "ops": "daily", "board": "weekly"}),
    ],
)
def test_routes_choose_targets_and_modes(
    categories: list[tuple[str, float]], expected: dict[str, str]
) -> None:
    chosen = route_change(ROUTES, ["team", "ops", "board"], SOURCE, categories, MONDAY_10, HOLD)
    assert {d.target: d.mode for d in chosen} == expected
    for d in chosen:
        assert d.due == due_at(d.mode, MONDAY_10, HOLD, (8, 0))


def test_a_target_without_a_url_is_never_chosen() -> None:
    chosen = route_change(ROUTES, ["ops"], SOURCE, [("funding", 0.95)], MONDAY_10)
    assert [d.target for d in chosen] == ["ops"]


def test_a_calibrated_route_holds_each_category_to_its_own_threshold() -> None:
    route = Route("cal", ("team",), calibrated=True)
    thresholds = {"funding": 0.7, "guidance_update": 0.4}

    def hit(cats: list[tuple[str, float]]) -> bool:
        return bool(route_change([route], ["team"], SOURCE, cats, NOW, thresholds=thresholds))

    assert hit([("funding", 0.75)])
    assert not hit([("funding", 0.65)])
    assert hit([("guidance_update", 0.45)])


# --- storms -------------------------------------------------------------------------------------


def _sources(spec: dict[str, int]) -> dict[str, Source]:
    out = {}
    for host, n in spec.items():
        for i in range(n):
            out[f"{host}-{i}"] = Source(f"{host}-{i}", f"https://{host}/p{i}", timedelta(hours=1))
    return out


def _rows(
    names: list[str], target: str = "team", kind: str = "change", mode: str = "immediate"
) -> list[OutboxRow]:
    return [
        OutboxRow(i + 1, i + 1, target, 0, kind=kind, mode=mode, source=n)
        for i, n in enumerate(names)
    ]


SITES = _sources({"a.example": 4, "b.example": 4, "c.example": 2})


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        # 3 of a's 4 pages (more than half): one storm for a, b's one page alone
        (
            ["a.example-0", "a.example-1", "a.example-2", "b.example-0"],
            [("storm", "a.example", 3), ("change", "", 1)],
        ),
        # exactly half is no storm
        (["a.example-0", "a.example-1"], [("change", "", 1), ("change", "", 1)]),
        # a site watched through fewer pages than min_sources never storms
        (["c.example-0", "c.example-1"], [("change", "", 1), ("change", "", 1)]),
        # more than half of every source: one summary for all
        ([*SITES][:6], [("storm", "all sources", 6)]),
    ],
)
def test_storms_fold_a_sites_alerts_when_most_of_it_changed(
    changed: list[str], expected: list[tuple[str, str, int]]
) -> None:
    got = batches(_rows(changed), SITES, StormPolicy(share=0.5, min_sources=4))
    assert sorted((b.kind, b.scope, len(b.rows)) for b in got) == sorted(expected)


def test_digests_group_by_target_and_mode_and_other_kinds_go_alone() -> None:
    rows = [
        *_rows(["a.example-0", "b.example-0"], mode="daily"),
        OutboxRow(10, None, "team", 0, kind="health", source="c.example-0"),
        OutboxRow(11, 3, "team", 0, kind="reminder", deadline_id=1, days=7),
    ]
    got = batches(rows, SITES, StormPolicy())
    assert [(b.kind, b.scope, len(b.rows)) for b in got] == [
        ("digest", "daily", 2),
        ("health", "", 1),
        ("reminder", "", 1),
    ]
    assert all(isinstance(b, Batch) for b in got)


# --- source health ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "streak", "outcome", "status", "reason", "expected"),
    [
        ("ok", 0, "error", 500, "http", None),  # one failure is not yet a failing source
        ("ok", 1, "error", 500, "http", None),
        ("ok", 2, "error", 500, "http", ("failing", "failing")),  # the third in a row
        ("ok", 0, "error", 404, "http", ("failing", "failing")),  # gone: at once
        ("ok", 0, "error", 410, "http", ("failing", "failing")),
        ("ok", 0, "error", 301, "moved", ("failing", "failing")),  # moved: at once
        ("failing", 5, "error", 500, "http", None),  # still failing: no repeat
        ("failing", 5, "changed", 200, None, ("ok", "recovered")),
        ("failing", 5, "not_modified", 304, None, ("ok", "recovered")),
        ("ok", 0, "unchanged", 200, None, None),
    ],
)
def test_health_alerts_once_on_failing_and_once_on_recovery(
    state: str,
    streak: int,
    outcome: str,
    status: int,
    reason: str | None,
    expected: tuple[str, str] | None,
) -> None:
    change = health_change(state, streak, outcome, status, reason, "boom" if reason else None, 3)
    if expected is None:
        assert change is None
    else:
        assert change is not None
        assert (change.state, change.payload["state"]) == expected
        assert change.payload["status"] == status
        assert change.payload["reason"] == ("boom" if expected[0] == "failing" else "")


# --- reminder windows ---------------------------------------------------------------------------

DUE = date(2027, 6, 30)


@pytest.mark.parametrize(
    ("found", "today", "reminded", "window", "done"),
    [
        (date(2027, 5, 1), date(2027, 6, 1), [], None, []),  # 29 days left: no window open
        (date(2027, 5, 1), date(2027, 6, 23), [], 7, [7]),  # 7 days left
        (date(2027, 5, 1), date(2027, 6, 25), [7], None, [7]),  # the 7-day window is used up
        (date(2027, 5, 1), date(2027, 6, 29), [7], 1, [1, 7]),
        (date(2027, 5, 1), date(2027, 6, 29), [], 1, [1, 7]),  # both open: one, the nearest
        (date(2027, 6, 26), date(2027, 6, 27), [], None, [7]),  # found inside 7: its alert said so
        (date(2027, 6, 26), date(2027, 6, 29), [], 1, [1, 7]),
        (date(2027, 6, 30), date(2027, 6, 30), [], None, [1, 7]),  # found on the day
    ],
)
def test_each_reminder_window_is_used_once_per_deadline(
    found: date, today: date, reminded: list[int], window: int | None, done: list[int]
) -> None:
    assert reminder_window(DUE, today, found, (7, 1), reminded) == (window, done)
