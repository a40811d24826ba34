"""Routing: which targets hear of a change, and when. Pure, so tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.config import Route
from watcher.models import Source
from watcher.notify.policy import route_change

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
