"""Module boundaries, enforced: pure stages stay pure, and only egress speaks HTTP."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "watcher"
PURE = [
    "extract/__init__.py",
    "extract/regions.py",
    "extract/blocks.py",
    "extract/metadata.py",
    "diff.py",
    "blockmarks.py",
    "models.py",
    "normalise.py",
    "volatility/__init__.py",
    "volatility/comparison.py",
    "volatility/slots.py",
    "volatility/site.py",
    "volatility/verdict.py",
    "kinds/__init__.py",
    "kinds/base.py",
    "kinds/page.py",
    "notify/render.py",
    "notify/staleness_render.py",
    "notify/spans.py",
    "notify/channels.py",
    "presentation.py",
    "patterns.py",
    "categories.py",
    "clock.py",
    "config/parse.py",
    "classify/evidence.py",
    "classify/rules.py",
    "classify/pagetype.py",
    "kinds/govuk.py",
    "kinds/feed.py",
    "kinds/sitemap.py",
    "kinds/listing.py",
    "kinds/govuk_search.py",
    "kinds/items.py",
    "urls.py",
    "discover.py",
    "kinds/pdf.py",
    "topics.py",
    "web/charts.py",
    "stories.py",
]
IO_MODULES = {
    "httpx",
    "httpcore",
    "requests",
    "urllib.request",
    "socket",
    "sqlite3",
    "sqlite_utils",
    "apprise",
    "watcher.store",
    "watcher.egress",
    "watcher.notify.deliver",
    "watcher.runtime",
}
# Which file may import which outside-world library.
OWNERS = {
    # httpx parses URLs for the address gate, drives the client and wraps the gated transport.
    "httpx": {"egress/address.py", "egress/client.py", "egress/transport.py"},
    "httpcore": {"egress/transport.py"},
    "anyio": {"egress/transport.py"},
    "requests": {"notify/capture.py"},  # reads the responses of Apprise's own sends, sends nothing
    "urllib.request": set(),
    # web/serve.py binds the web app's listening socket (to report an address in use in one
    # line) and connects nowhere: outbound connections stay in egress.
    "socket": {"egress/address.py", "egress/transport.py", "web/serve.py"},
    "sqlite3": {"store/"},  # a directory: any module of the store package
    "sqlite_utils": {"store/"},
    "apprise": {"notify/deliver.py"},
    "apscheduler": {"scheduler.py"},
    "prometheus_client": {"metrics.py"},
    "feedparser": {"kinds/feed.py"},
    "pypdf": {"kinds/pdf.py"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _matches(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("rel", PURE)
def test_pure_stages_do_no_io(rel: str) -> None:
    imported = _imports(PACKAGE / rel)
    bad = sorted(n for n in imported for io in IO_MODULES if _matches(n, io))
    assert not bad, f"{rel} is a pure stage but imports {bad}"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_only_the_owner_imports_each_outside_library(library: str) -> None:
    users = {
        str(p.relative_to(PACKAGE))
        for p in _files()
        if any(_matches(n, library) for n in _imports(p))
    }
    owners = OWNERS[library]
    outside = sorted(u for u in users if not any(u == o or u.startswith(o) for o in owners))
    assert not outside, f"{library} imported outside its owner: {outside}"


def test_http_clients_are_built_only_in_egress() -> None:
    for path in _files():
        text = path.read_text(encoding="utf-8")
        if path.relative_to(PACKAGE).as_posix() == "egress/client.py":
            continue
        for needle in ("AsyncClient(", "httpx.Client(", "create_connection(", "urlopen("):
            assert needle not in text, (
                f"{path.relative_to(PACKAGE)} builds its own client ({needle})"
            )


def test_no_broad_silent_excepts() -> None:
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ExceptHandler)
                and len(node.body) == 1
                and isinstance(node.body[0], ast.Pass)
            ):
                caught = ast.unparse(node.type) if node.type else "everything"
                assert caught not in ("Exception", "BaseException", "everything"), (
                    f"{path.relative_to(PACKAGE)}:{node.lineno} swallows {caught}"
                )


SQL = re.compile(
    r"^\s*(SELECT\b|INSERT (OR \w+ )?INTO\b|UPDATE \w+ SET\b|DELETE FROM\b|"
    r"CREATE (TABLE|INDEX|TRIGGER|VIRTUAL)\b|ALTER TABLE\b|PRAGMA\b|BEGIN\b|VACUUM\b)"
)
STORE = PACKAGE / "store"


def _outside_store() -> list[Path]:
    return [p for p in _files() if STORE not in p.parents]


def test_no_sql_outside_the_store() -> None:
    found = []
    for path in _outside_store():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.match(node.value)
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found, f"SQL outside watcher/store/: {found}"


def test_nothing_outside_the_store_reaches_for_its_connection() -> None:
    found = []
    for path in _outside_store():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("conn", "_write", "transaction"):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert not found, f"the store's connection used outside it: {found}"


DAEMON = ("watcher.scheduler", "watcher.pipeline", "watcher.egress", "watcher.runtime")


@pytest.mark.parametrize("path", sorted((PACKAGE / "web").rglob("*.py")), ids=str)
def test_the_web_app_imports_no_daemon_module(path: Path) -> None:
    bad = sorted(n for n in _imports(path) for d in DAEMON if _matches(n, d))
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_serving_a_page_loads_no_scheduler_fetcher_or_apprise() -> None:
    code = (
        "import sys, watcher.web.app; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'apscheduler', 'apprise', 'httpx', 'httpcore'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", f"importing the web app loads {out}"


MAX_LINES = 400


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_past_the_size_that_holds_two_ideas(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it by idea"
