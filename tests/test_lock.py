"""The Docker image installs exactly requirements.lock: it must pin every runtime dependency
pyproject.toml names, or the image starts without one (`make lock` regenerates it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_runtime_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {
        _name(line): line
        for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = [d for d in project["dependencies"] if _name(d) not in pinned]
    assert not missing, f"requirements.lock lacks {missing}; run `make lock`"
    assert all("==" in line for line in pinned.values())
