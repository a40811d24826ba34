"""The store on both engines: `database` is None for SQLite (a temp dir) or the URL of a fresh
PostgreSQL database (tests/postgres.py); `engine_store` is a Store opened on it.

A test taking either runs twice, `[sqlite]` and `[postgresql]`; the PostgreSQL case skips,
saying why, where the server is not installed (and fails under WATCHER_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.store import Store

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest) -> str | None:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_db"))
    return None


def open_on(tmp_path: Path, database: str | None) -> Store:
    """The store of a test: the SQLite file under tmp_path, or the PostgreSQL database."""
    return Store.open(tmp_path / "state", database)


@pytest.fixture
def engine_store(tmp_path: Path, database: str | None) -> Iterator[Store]:
    store = open_on(tmp_path, database)
    try:
        yield store
    finally:
        store.close()
