"""Module boundaries, enforced: pure stages stay pure, and only egress speaks HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "watcher"
PURE = [
    "extract/__init__.py",
    "extract/regions.py",
    "extract/blocks.py",
    "extract/metadata.py",
    "diff.py",
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
    "classify/evidence.py",
    "classify/rules.py",
    "classify/pagetype.py",
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
    "socket": {"egress/address.py", "egress/transport.py"},
    "sqlite3": {"store/connection.py", "store/checks.py", "store/codec.py", "store/ops.py"},
    "sqlite_utils": {"store/connection.py", "store/schema.py"},
    "apprise": {"notify/deliver.py"},
    "apscheduler": {"scheduler.py"},
    "prometheus_client": {"metrics.py"},
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
    assert users <= OWNERS[library], (
        f"{library} imported outside its owner: {sorted(users - OWNERS[library])}"
    )


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
