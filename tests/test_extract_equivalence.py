"""The lxml extraction (issue 17) gives what the bs4 one gave: the same blocks, element paths,
title, metadata, explanation and errors, on generated pages, the corpus rendered as pages, broken
markup, and every page the extraction tests feed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, html_page
from tests.extract_compare import (
    SELECTOR_CASES,
    corpus_pages,
    difference,
    generated_pages,
    truncations,
)

PLUGIN = ("-p", "tests.extract_compare_plugin")


def _compare_generated(tmp_path: Path, n: int, versions: int) -> None:
    compared, differing = 0, []
    for inside in (False, True):
        paths = generated_pages(tmp_path / f"inside{inside}", n, versions, inside)
        for k, path in enumerate(paths):
            page = path.read_text(encoding="utf-8")
            cases = [((), ())] + (
                [SELECTOR_CASES[k // 10 % len(SELECTOR_CASES)]] if k % 10 == 0 else []
            )
            for select, exclude in cases:
                compared += 1
                diff = difference(page, select, exclude)
                if diff:
                    differing.append(f"{path} {select} {exclude}\n{diff}")
    assert compared >= 2 * n * versions
    assert not differing, f"{len(differing)} of {compared} differ:\n" + "\n\n".join(differing[:5])


def test_generated_pages_read_the_same(tmp_path: Path) -> None:
    _compare_generated(tmp_path, 100, 1)  # 200 pages of ~50 KB


@pytest.mark.slow
def test_thousands_of_generated_pages_read_the_same(tmp_path: Path) -> None:
    _compare_generated(tmp_path, 1000, 2)  # 4,000 pages: 1,000 each in 2 versions, 2 kinds


def test_the_corpus_as_pages_reads_the_same() -> None:
    differing = []
    pages = list(corpus_pages(html_page))
    assert len(pages) >= 500
    for key, page in pages:
        for select, exclude in ((), ()), (("article",), ("p:nth-child(3)",)):
            diff = difference(page, select, exclude)
            if diff:
                differing.append(f"{key} {select} {exclude}\n{diff}")
    assert not differing, f"{len(differing)} differ:\n" + "\n\n".join(differing[:5])


def test_broken_markup_reads_the_same() -> None:
    base = [page for _, page in corpus_pages(html_page)][:40]
    hostile = [
        "",
        "   ",
        "<!-- only a comment -->",
        "\ufeff<p>bom</p>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>declared</p></body></html>",
        "<html><head><title>No body</title></head></html>",
        "<title><!--c--></title><h1>Fallback</h1>",
        "<title>a<b>b</b></title><p>x</p>",
        "<p>ruby <ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby></p>",
        "<main><template><p>t</p></template></main><article><p>a</p></article>",
        "<div>" * 300 + "<p>deep</p>" + "</div>" * 300,
        "<x-a>one</x-a> <x-b>two</x-b>",
        "<table><tr><td>a</td> <td>b</td></tr></table><p>x\x00y\x0bz</p>",
    ]
    differing = []
    for page in [*hostile, *truncations(base, 150)]:
        for select, exclude in (((), ()), (("p",), ()), ((), ("p",))):
            diff = difference(page, select, exclude)
            if diff:
                differing.append(f"{page[:80]!r} {select} {exclude}\n{diff}")
    assert not differing, f"{len(differing)} differ:\n" + "\n\n".join(differing[:5])


@pytest.mark.slow
def test_the_extraction_tests_read_the_same(tmp_path: Path) -> None:
    """Every extraction the extraction, hostile-page and kind tests run, run by both."""
    record = tmp_path / "differences.txt"
    files = [
        "tests/test_extract.py",
        "tests/test_hostile.py",
        "tests/test_explain.py",
        "tests/test_heavy_page.py",
        "tests/test_kinds.py",
        "tests/test_kind_lists.py",
    ]
    env = {**os.environ, "WATCHER_COMPARE_EXTRACT": str(record)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", *PLUGIN, *files],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    lines = record.read_text(encoding="utf-8").splitlines()
    compared = sum(line.startswith("same") for line in lines)
    differing = [line for line in lines if not line.startswith("same")]
    assert compared >= 75, compared
    assert not differing, "\n".join(differing[:20])
