"""Old and new extraction side by side: the bs4 reference (tests/reference_extract, the code before
issue 17) and watcher.extract (lxml), on the same input, with every difference described."""

from __future__ import annotations

import dataclasses
import html as htmllib
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tests.reference_extract import extract as reference_extract
from watcher.errors import ExtractError
from watcher.extract import extract as lxml_extract  # bound now: the plugin replaces the name

MAKE_PAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "pages" / "make_pages.py"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

# What sources use: regions chosen and removed by CSS (soupsieve's meaning in both).
SELECTOR_CASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    ((), (".advert", ".related", ".article-tools")),
    (("article",), ()),
    (("main p", "h1"), ("p:first-of-type",)),
    (("aside", "footer"), ("li:nth-child(2n)",)),
    ((), ("main",)),
    ((), ("p", "p")),
    (("article > p:nth-of-type(3)",), ()),
    (("nav",), ("nav",)),
    (("div.nothing-here",), ()),
)


def outcome(
    extract: Callable[..., Any], page: str, select: tuple[str, ...], exclude: tuple[str, ...]
) -> object:
    """What an extraction gives: its Extracted, or its error's kind, reason and message."""
    try:
        got = extract(page, select, exclude, explain=True)
    except ExtractError as error:
        return ("ExtractError", error.reason, str(error))
    # `watcher explain` also lists the chrome outside <main>/<article> as ignored (issue 20), which
    # the bs4 reference never listed: the reading itself is what must agree.
    kept = tuple(i for i in got.ignored if ", outside <" not in i[0])
    return dataclasses.replace(got, ignored=kept) if kept != got.ignored else got


def difference(page: str, select: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> str:
    """'' when both extractions agree on blocks, paths, title, metadata, ignored and errors."""
    old = outcome(reference_extract, page, select, exclude)
    new = outcome(lxml_extract, page, select, exclude)
    if old == new:
        return ""
    if isinstance(old, tuple) or isinstance(new, tuple):
        return f"old {old!r}\nnew {new!r}"
    out = []
    for name in ("title", "blocks", "paths", "metadata", "ignored"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(f"{name}: old {a!r}\n{' ' * len(name)}  new {b!r}")
    return "\n".join(out)


def generated_pages(outdir: Path, n: int, versions: int, inside: bool) -> list[Path]:
    """make_pages.py's ~50 KB sector-news pages: n pages in each of `versions` versions."""
    cmd = [sys.executable, str(MAKE_PAGES), str(outdir), str(n), str(versions), "0.1", "equiv"]
    subprocess.run([*cmd, "--inside-noise"] if inside else cmd, check=True)
    return sorted(outdir.glob("v*/p*.html"))


def _paragraphs(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        return lines
    return [s.strip() + "." for s in text.split(". ") if s.strip()]


def corpus_pages(page: Callable[[str, list[str], str], str]) -> Iterator[tuple[str, str]]:
    """The seeds and the labelled corpora rendered as pages (escaped, and raw as hostile text)."""
    texts: list[tuple[str, str, str]] = []
    for seed in sorted((CORPUS / "seeds").glob("*.txt")):
        body = seed.read_text(encoding="utf-8")
        texts.append((seed.stem, body.splitlines()[0], body))
    for name in ("dev.jsonl", "topical_dev.jsonl", "pages_dev.jsonl"):
        path = CORPUS / "classify" / name
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            item = json.loads(line)
            texts.append((f"{name}:{k}", str(item.get("title") or ""), str(item.get("text") or "")))
    for key, title, body in texts:
        paras = _paragraphs(body)
        yield key, page(htmllib.escape(title), [htmllib.escape(p) for p in paras], "Most read")
        yield key + ":raw", page(title, paras, "")


def truncations(pages: Iterable[str], count: int, seed: int = 17) -> Iterator[str]:
    """Pages cut off at random places: what the parser's recovery makes of broken markup."""
    rnd = random.Random(seed)
    pool = list(pages)
    for _ in range(count):
        page = rnd.choice(pool)
        yield page[: rnd.randrange(len(page))]
