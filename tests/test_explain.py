"""`watcher explain`: what is read, what is ignored and why, from the real page and the store."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import PageServer, respond, write_config
from watcher import volatility as vol
from watcher.config import load_config
from watcher.explain import block_notes
from watcher.runtime import check_once


def test_explain_names_ignored_regions_masks_and_learned_slots(
    tmp_path: Path, site: PageServer
) -> None:
    counter = itertools.count()

    def handler(h) -> None:  # type: ignore[no-untyped-def]
        n = next(counter)
        body = (
            "<html><body><nav>Home | News</nav><main><h1>Kinship strategy</h1>"
            "<p>It commits £200 million over the next two years.</p>"
            f"<p>Featured: story {n * 13} picked for you</p>"
            f"<p>Updated {n + 2} minutes ago</p>"
            "<div class='related'>Related: other news</div>"
            "<p>The consultation closes on 11 May 2023.</p></main></body></html>"
        ).encode()
        respond(h, body)

    site.set("/k", handler=handler)
    path = write_config(tmp_path / "sources.toml", [{"name": "k", "url": site.url("/k")}])
    config = load_config(path, environ={})
    for _ in range(2):
        asyncio.run(check_once(config))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "watcher.cli",
            "explain",
            "k",
            "--config",
            str(path),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by_text = {b["text"][:12]: b for b in data["blocks"]}
    assert by_text["It commits £"]["watched"] is True and by_text["It commits £"]["notes"] == []
    assert by_text["The consultat"[:12]]["watched"] is True
    featured = by_text["Featured: st"]
    assert featured["watched"] is False
    assert any("learned volatile" in n for n in featured["notes"])
    updated = next(b for b in data["blocks"] if b["text"].startswith("Updated"))
    assert updated["watched"] is True and updated["notes"] == ["masked: ago"]
    reasons = {reason for reason, _ in data["ignored"]}
    assert any("page furniture" in r for r in reasons)

    text = subprocess.run(
        [sys.executable, "-m", "watcher.cli", "explain", "k", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "ignored regions" in text and "learned volatile" in text


def test_explain_says_a_slot_alternates_and_a_text_rotates_across_the_site() -> None:
    side = vol.Side(
        ("Kinship care update", "Get the support you need", "A notice that moves between pages"),
        ("main/h1", "main/p", "main/div/p"),
    )
    slot = f"main/p|{vol.anchor(side, 1)}"
    host = {f"text:{vol.text_key(side, 2)}": (2.0, 3.0)}
    notes = block_notes(side, vol.Learned(4, {f"alt:{slot}": 3.0}, host))
    assert notes[0].watched
    assert notes[1].notes[0].startswith("learned alternating") and not notes[1].watched
    assert notes[2].notes[0].startswith("site rotation") and not notes[2].watched
