"""Prometheus metrics: valid text format, read from the database, moving after real passes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PageServer, html_page, write_config
from watcher.config import load_config
from watcher.metrics import CONTENT_TYPE, render
from watcher.runtime import check_once
from watcher.store import Store
from watcher.store.ops import DURATION_BUCKETS

PARAS = ["Kinship carers will receive an allowance.", "The strategy was published in 2023."]


def samples(store: Store) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, parsed by Prometheus' own parser."""
    found = {}
    for family in text_string_to_metric_families(render(store).decode("utf-8")):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def test_metrics_move_after_passes_and_survive_a_restart(tmp_path: Path, site: PageServer) -> None:
    site.set("/kinship", html_page("Kinship strategy", PARAS))
    site.set("/gone", "missing", status=404)
    config = load_config(
        write_config(
            tmp_path / "sources.toml",
            [
                {"name": "kinship", "url": site.url("/kinship")},
                {"name": "gone", "url": site.url("/gone")},
            ],
        )
    )
    assert CONTENT_TYPE.startswith("text/plain; version=")

    store = Store.open(config.settings.state_dir)
    empty = samples(store)
    assert value(empty, "watcher_checks_total", outcome="changed") == 0
    assert value(empty, "watcher_fetch_duration_seconds_count") == 0
    assert value(empty, "watcher_alerts", status="pending") == 0
    assert ("watcher_last_pass_timestamp_seconds", ()) not in empty

    asyncio.run(check_once(config))
    first = samples(store)
    assert value(first, "watcher_checks_total", outcome="baseline") == 1
    assert value(first, "watcher_checks_total", outcome="error") == 1
    assert value(first, "watcher_sources_failing") == 1
    assert value(first, "watcher_last_pass_timestamp_seconds") > 1.7e9

    site.set(
        "/kinship", html_page("Kinship strategy", [*PARAS, "Funding of £40 million is confirmed."])
    )
    asyncio.run(check_once(config))
    second = samples(store)
    assert value(second, "watcher_checks_total", outcome="changed") == 1
    assert value(second, "watcher_checks_total", outcome="error") == 2
    assert sum(v for (name, _), v in second.items() if name == "watcher_changes_total") == 1
    # The histogram holds every check, its buckets are cumulative, and the sum is their time.
    count = value(second, "watcher_fetch_duration_seconds_count")
    assert count == 4 == store.count("checks")
    buckets = [
        value(second, "watcher_fetch_duration_seconds_bucket", le=str(b)) for b in DURATION_BUCKETS
    ]
    assert buckets == sorted(buckets)
    assert value(second, "watcher_fetch_duration_seconds_bucket", le="+Inf") == count
    total_ms = store.conn.execute("SELECT sum(duration_ms) FROM checks").fetchone()[0]
    assert abs(value(second, "watcher_fetch_duration_seconds_sum") - total_ms / 1000) < 1e-9
    store.close()

    # Nothing lives in process memory: a fresh store (a restarted daemon) reads the same totals.
    again = Store.open(config.settings.state_dir)
    assert samples(again) == second
    again.close()
