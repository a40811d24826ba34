#!/usr/bin/env python3
"""Benchmark of main-content extractors: quality (recall, precision) and speed.

Candidates (each turns one HTML page into a list of text lines):

  watcher                 watcher.extract.extract(html).blocks (lxml, drops chrome by tag/role/name)
  watcher-bs4             the same before issue 17 (bs4 trees; tests/reference_extract, kept as reference)
  trafilatura             trafilatura.extract(html, include_comments=False)            (default: with fallbacks)
  trafilatura-fast        the same with fast=True                                       (no fallback extractors)
  trafilatura-precision   the same with favor_precision=True
  readability             readability-lxml Document(html).summary(html_partial=True), flattened to one
                          line per block element with bs4
  baseline                BeautifulSoup(html, "lxml").body.get_text("\\n"), one line per text node

Page sets, each with ground truth read back from the HTML itself (the <p> elements that are direct
children of <article>):

  generated      /work/shared/pages/make_pages.py OUTDIR N 1 0.0 SALT
  inside-noise   the same with --inside-noise (generated-at/comments line, advert and related-articles
                 list inside the article; they are not `article > p`, so not content)
  real-seeds     each /work/shared/corpus/seeds/*.txt in a realistic page template written here (skip
                 link, cookie notice, header with search and navigation, breadcrumbs, aside with "Most
                 popular", job adverts and a newsletter form, footer, inline scripts); article
                 paragraphs = the seed's non-empty lines

Metrics, per extractor and set:

  recall      share of true paragraphs whose normalised text occurs in the normalised output
              (output lines joined with spaces; whitespace collapsed, NFC, invisible characters out)
              (true paragraphs get the same normalisation and marker stripping as output lines)
  precision   characters of output lines that are content / all output characters. A line is content
              when it equals a true paragraph or (20+ characters) is contained in one; a line that
              merges several paragraphs is credited with the paragraphs it contains. List and heading
              markers ("- ", "# ") are stripped from lines before matching and counting. The article's
              <h1> is not a <p>, so it counts as non-content.
  ms/page     median over pages of each page's fastest of --repeat timed runs (time.perf_counter around
              the extractor call including its conversion to lines; file reading excluded). Extractors
              are interleaved page by page so background load hits them alike; small sets get more runs
              per page (at least 200 timed runs per set). --json also has the median over all runs.
  noise/page  mean number of noise lines (less than half their characters content) per page

For the inside-noise set (and every set, in --json) the noise lines that survive are counted by shape:
normalised, each run of digits masked as '#'.

Run with the benchmark's own venv (bench/.venv-extractors: trafilatura, lxml_html_clean,
readability-lxml, beautifulsoup4, lxml and `pip install -e /work/main`):

  bench/.venv-extractors/bin/python bench/extractors.py [--n 200] [--repeat 3] [--json out.json]

With --old-vs-new it only compares watcher's extraction before and after issue 17 (bs4 trees, the
reference kept in tests/reference_extract, against lxml) on the generated ~50 KB pages: ms/page,
pages/s and speed-up, and how many pages give identical results (blocks, element paths, title,
metadata, ignored regions). The project's own venv is enough for that:

  .venv/bin/python bench/extractors.py --old-vs-new [--n 2000] [--repeat 3]

Offline: nothing here touches the network.
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Callable
from html import escape
from pathlib import Path

from bs4 import BeautifulSoup

MAKE_PAGES = Path("/work/shared/pages/make_pages.py")
SEEDS = Path("/work/shared/corpus/seeds")

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
SPACES = re.compile(r"\s+")
MARKER = re.compile(r"^(?:#{1,6} |[-*•] )")
DIGITS = re.compile(r"\d+")
MIN_CONTAINED = 20  # a shorter line only counts as content when it equals a whole paragraph


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    return SPACES.sub(" ", text).strip()


def norm_line(line: str) -> str:
    return MARKER.sub("", norm(line)).strip()


# --------------------------------------------------------------------------- extractors

BLOCKS = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "caption",
    "details",
    "summary",
    "address",
    "hr",
    "form",
    "fieldset",
    "legend",
    "body",
    "html",
]


def flatten_blocks(html: str) -> list[str]:
    """HTML fragment -> one line per block element (inline elements stay inside their line)."""
    soup = BeautifulSoup(html, "lxml")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text("").split("\n")


def make_watcher() -> Callable[[str], list[str]]:
    from watcher.extract import extract

    def run(html: str) -> list[str]:
        return list(extract(html).blocks)

    return run


def make_watcher_bs4() -> Callable[[str], list[str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.reference_extract import extract

    def run(html: str) -> list[str]:
        return list(extract(html).blocks)

    return run


def make_trafilatura(**options: bool) -> Callable[[str], list[str]]:
    import trafilatura

    def run(html: str) -> list[str]:
        text = trafilatura.extract(html, include_comments=False, **options)
        return text.split("\n") if text else []

    return run


def make_readability() -> Callable[[str], list[str]]:
    from readability import Document

    def run(html: str) -> list[str]:
        return flatten_blocks(Document(html).summary(html_partial=True))

    return run


def make_baseline() -> Callable[[str], list[str]]:
    def run(html: str) -> list[str]:
        soup = BeautifulSoup(html, "lxml")
        return (soup.body or soup).get_text("\n").split("\n")

    return run


FACTORIES: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "watcher": make_watcher,
    "watcher-bs4": make_watcher_bs4,
    "trafilatura": lambda: make_trafilatura(),
    "trafilatura-fast": lambda: make_trafilatura(fast=True),
    "trafilatura-precision": lambda: make_trafilatura(favor_precision=True),
    "readability": make_readability,
    "baseline": make_baseline,
}
DISTRIBUTIONS = {
    "watcher": "watcher",
    "trafilatura": "trafilatura",
    "readability": "readability-lxml",
    "bs4": "beautifulsoup4",
    "lxml": "lxml",
    "lxml_html_clean": "lxml_html_clean",
}


def watcher_source() -> dict[str, str] | None:
    """Which watcher/extract/ was measured: the package is installed editable and edited by others."""
    try:
        import hashlib

        import watcher.extract as wx
    except ImportError:
        return None
    path = Path(wx.__file__).parent  # a package: every module of it is what was measured
    files = sorted(path.glob("*.py"))
    stamp = time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(max(f.stat().st_mtime for f in files))
    )
    return {
        "path": str(path),
        "sha256": hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16],
        "mtime": stamp,
    }


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for label, dist in DISTRIBUTIONS.items():
        try:
            out[label] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[label] = None
    return out


# --------------------------------------------------------------------------- page sets

NAV = [
    "Home",
    "About us",
    "Our work",
    "News and views",
    "Resources",
    "Training and events",
    "Membership",
    "Jobs",
    "Donate",
    "Contact us",
]
POPULAR = [
    "Kinship care strategy: what it means for carers",
    "Ofsted annual report on children's social care 2024",
    "Foster carer allowances to rise from April",
    "Families First Partnership programme guidance published",
    "Children's Wellbeing and Schools Bill: second reading",
]
JOBS = [
    ("Senior Social Worker - Fostering Assessment", "£38,000 - £45,500", "Leeds", "12 May 2025"),
    ("Kinship Support Practitioner", "£29,850 - £33,400", "Hybrid / Birmingham", "3 June 2025"),
    ("Independent Reviewing Officer", "£44,000 - £49,200", "London", "28 May 2025"),
]
FOOTER = [
    "Accessibility statement",
    "Privacy notice",
    "Cookies",
    "Terms and conditions",
    "Modern slavery statement",
    "Complaints",
    "Contact us",
    "Sitemap",
]


def real_page(title: str, lines: list[str], k: int) -> str:
    nav = "".join(
        f'<li class="nav__item"><a href="/{i}">{escape(n)}</a></li>' for i, n in enumerate(NAV)
    )
    popular = "".join(
        f'<li><a href="/news/{i}">{escape(h)}</a></li>' for i, h in enumerate(POPULAR)
    )
    jobs = "".join(
        f'<div class="job-card"><h3><a href="/jobs/{i}">{escape(t)}</a></h3><p class="job-card__salary">'
        f'{escape(s)}</p><p class="job-card__location">{escape(loc)}</p><p>Closing date: {escape(c)}</p></div>'
        for i, (t, s, loc, c) in enumerate(JOBS)
    )
    foot = "".join(f'<li><a href="/f/{i}">{escape(f)}</a></li>' for i, f in enumerate(FOOTER))
    paras = "".join(f"<p>{escape(line)}</p>" for line in lines)
    analytics = (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
        "gtag('js',new Date());gtag('config','G-XXXXXXX');"
    ) * 20
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{escape(title)} | Children's Sector Network</title>
<link rel="stylesheet" href="/static/main.css"><style>{".nav__item{display:inline-block;margin:0 1em}" * 200}</style>
<script>{analytics}</script></head>
<body class="template-news has-cookie-banner">
<a class="skip-link" href="#main-content">Skip to main content</a>
<div id="cookieNotice" class="cookie-notice" role="region" aria-label="Cookies on this website">
<h2>Cookies on this website</h2><p>We use some essential cookies to make this website work. We would like
to set additional cookies to understand how you use the site and improve our services.</p>
<button type="button">Accept additional cookies</button> <button type="button">Reject additional cookies</button>
<a href="/cookies">View cookies</a></div>
<header class="site-header"><div class="site-header__inner"><a class="site-header__logo" href="/">Children's Sector Network</a>
<form class="site-search" action="/search" role="search"><label for="q">Search this site</label><input id="q" name="q"><button>Search</button></form>
<nav class="site-nav" aria-label="Main"><ul>{nav}</ul></nav></div></header>
<div class="breadcrumbs"><ol><li><a href="/">Home</a></li><li><a href="/news">News and views</a></li><li>{escape(title)}</li></ol></div>
<div class="page-wrapper"><main id="main-content" class="main"><article class="news-article">
<h1>{escape(title)}</h1>{paras}</article></main>
<aside class="sidebar"><section class="most-popular"><h2>Most popular</h2><ol>{popular}</ol></section>
<section class="jobs"><h2>Latest jobs</h2>{jobs}<p><a href="/jobs">See all jobs</a></p></section>
<section class="newsletter"><h2>Sign up to our newsletter</h2><p>Get the latest sector news in your inbox every week.</p>
<form action="/subscribe"><input type="email" name="email"><button>Subscribe</button></form></section></aside></div>
<footer class="site-footer"><ul>{foot}</ul><p>&copy; 2025 Children's Sector Network. Registered charity number 1{k:06d}.
Company limited by guarantee, registered in England and Wales.</p></footer>
<script>(function(){{var s=document.createElement('script');s.src='/static/app.js';document.body.appendChild(s);}})();</script>
</body></html>"""


def make_real_pages(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, seed in enumerate(sorted(SEEDS.glob("*.txt"))):
        lines = [
            line.strip() for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        path = outdir / f"{seed.stem}.html"
        path.write_text(real_page(f"Sector news item {k + 1}", lines, k), encoding="utf-8")
        paths.append(path)
    return paths


def make_generated(outdir: Path, n: int, salt: str, inside: bool) -> list[Path]:
    cmd = [sys.executable, str(MAKE_PAGES), str(outdir), str(n), "1", "0.0", salt]
    if inside:
        cmd.append("--inside-noise")
    subprocess.run(cmd, check=True)
    return sorted((outdir / "v0").glob("p*.html"), key=lambda p: int(p.stem[1:]))


def truth_of(html: str) -> list[str]:
    """The <p> elements that are direct children of an <article>: the page's true paragraphs."""
    soup = BeautifulSoup(html, "lxml")
    # The same marker stripping as output lines get: seeds hold lines such as "- Kinship: ..." and "• Date:".
    paras = [norm_line(p.get_text()) for p in soup.select("article > p")]
    return [p for p in paras if p]


# --------------------------------------------------------------------------- scoring


def content_chars(line: str, paras: set[str], para_list: list[str]) -> int:
    if line in paras:
        return len(line)
    if len(line) >= MIN_CONTAINED and any(line in p for p in para_list):
        return len(line)
    # A line that merges paragraphs (or a paragraph with noise) is credited with what it holds.
    return min(len(line), sum(len(p) for p in para_list if len(p) >= MIN_CONTAINED and p in line))


def shape(line: str) -> str:
    s = DIGITS.sub("#", line)
    return s if len(s) <= 90 else s[:87] + "..."


def score_page(lines: list[str], truth: list[str]) -> dict:
    out = [x for x in (norm_line(raw) for raw in lines) if x]
    joined = norm(" ".join(out))
    para_set = set(truth)
    found = sum(1 for p in truth if p in joined)
    total_chars = good_chars = 0
    noise: list[str] = []
    for line in out:
        good = content_chars(line, para_set, truth)
        total_chars += len(line)
        good_chars += good
        if good * 2 < len(line):
            noise.append(line)
    return {
        "paras": len(truth),
        "found": found,
        "chars": total_chars,
        "good": good_chars,
        "lines": len(out),
        "noise": noise,
    }


def time_and_score(
    extractors: dict[str, Callable[[str], list[str]]],
    pages: list[tuple[str, str, list[str]]],
    repeat: int,
) -> dict[str, dict]:
    """Score every extractor on one set. Extractors are interleaved page by page (in a rotating order)
    so that background load on the machine falls on all of them alike; a page's time is the minimum
    of its `repeat` runs, the least disturbed one."""
    log = logging.getLogger("bench")
    names = list(extractors)
    for fn in extractors.values():
        fn(pages[0][1])  # warm-up: lazy imports, compiled patterns
    acc = {
        n: {
            "times": [],
            "all_times": [],
            "paras": 0,
            "found": 0,
            "chars": 0,
            "good": 0,
            "lines": 0,
            "errors": 0,
            "noise_lines": 0,
            "shapes": collections.Counter(),
            "recall": [],
            "precision": [],
        }
        for n in names
    }
    for k, (_pid, html, truth) in enumerate(pages):
        order = names[k % len(names) :] + names[: k % len(names)]
        for name in order:
            extract, a = extractors[name], acc[name]
            runs = []
            result: list[str] = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                try:
                    result = extract(html)
                except Exception as exc:  # an extractor failing on a page scores nothing on it
                    result = []
                    a["errors"] += 1
                    log.debug("%s failed: %s", name, exc)
                runs.append((time.perf_counter() - t0) * 1000)
            a["times"].append(min(runs))
            a["all_times"].extend(runs)
            sc = score_page(result, truth)
            for key in ("paras", "found", "chars", "good", "lines"):
                a[key] += sc[key]
            a["noise_lines"] += len(sc["noise"])
            a["shapes"].update(shape(x) for x in sc["noise"])
            a["recall"].append(sc["found"] / sc["paras"] if sc["paras"] else 1.0)
            a["precision"].append(sc["good"] / sc["chars"] if sc["chars"] else 0.0)
    out = {}
    for name, a in acc.items():
        times = sorted(a["times"])
        out[name] = {
            "pages": len(pages),
            "timed_runs_per_page": repeat,
            "recall": a["found"] / a["paras"] if a["paras"] else 1.0,
            "precision": a["good"] / a["chars"] if a["chars"] else 0.0,
            "recall_page_mean": statistics.fmean(a["recall"]),
            "precision_page_mean": statistics.fmean(a["precision"]),
            "pages_full_recall": sum(r == 1.0 for r in a["recall"]),
            "ms_median": statistics.median(times),
            "ms_median_all_runs": statistics.median(a["all_times"]),
            "ms_mean": statistics.fmean(times),
            "ms_p90": times[int(0.9 * (len(times) - 1))],
            "lines_per_page": a["lines"] / len(pages),
            "noise_lines_per_page": a["noise_lines"] / len(pages),
            "errors": a["errors"],
            "top_noise": a["shapes"].most_common(10),
        }
    return out


# --------------------------------------------------------------------------- old vs new


def old_vs_new(pages: list[str], repeat: int) -> dict[str, object]:
    """Time the extraction before (bs4) and after (lxml) issue 17 on the same pages, and count the
    pages where both give the same Extracted (blocks, paths, title, metadata, ignored regions)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.reference_extract import extract as old
    from watcher.extract import extract as new

    same = sum(old(page, explain=True) == new(page, explain=True) for page in pages)
    figures: dict[str, object] = {"pages": len(pages), "identical": same}
    for name, fn in (("old", old), ("new", new)):
        per_page = [float("inf")] * len(pages)
        passes = []
        for _ in range(repeat):  # whole passes, interleaved old/new would not change the ranking
            started = time.perf_counter()
            for k, page in enumerate(pages):
                t0 = time.perf_counter()
                fn(page)
                per_page[k] = min(per_page[k], (time.perf_counter() - t0) * 1000)
            passes.append(time.perf_counter() - started)
        figures[name] = {
            "ms_median": statistics.median(per_page),
            "ms_mean": statistics.fmean(per_page),
            "pages_per_s": len(pages) / min(passes),
        }
    return figures


def print_old_vs_new(figures: dict, kb: float) -> None:
    old, new = figures["old"], figures["new"]
    print(
        f"watcher extraction on {figures['pages']} generated pages (~{kb:.0f} KB each), "
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(f"{'':<22} {'ms/page (median)':>17} {'ms/page (mean)':>15} {'pages/s':>9}")
    for label, r in (("old: bs4 + 2 scans", old), ("new: lxml, one pass", new)):
        print(f"{label:<22} {r['ms_median']:>17.2f} {r['ms_mean']:>15.2f} {r['pages_per_s']:>9.0f}")
    print(
        f"speed-up: {old['ms_median'] / new['ms_median']:.1f}x per page (median), "
        f"{new['pages_per_s'] / old['pages_per_s']:.1f}x pages/s; identical results "
        f"(blocks, paths, title, metadata, ignored): {figures['identical']} of {figures['pages']}"
    )


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="generated pages per set (default 200)")
    ap.add_argument("--salt", default="extract", help="make_pages.py salt (default 'extract')")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per page, the fastest counts (default 3; small sets get more)",
    )
    ap.add_argument(
        "--extractors",
        default=",".join(FACTORIES),
        help="comma-separated subset of: " + ", ".join(FACTORIES),
    )
    ap.add_argument(
        "--pages-dir", type=Path, help="write pages here and keep them (default: a temp dir)"
    )
    ap.add_argument("--json", type=Path, help="save all figures to this JSON file")
    ap.add_argument(
        "--top", type=int, default=5, help="noise shapes to print per extractor (default 5)"
    )
    ap.add_argument(
        "--old-vs-new",
        action="store_true",
        help="only time watcher's extraction before/after issue 17 on the generated pages",
    )
    args = ap.parse_args()
    if args.old_vs_new:
        with tempfile.TemporaryDirectory(prefix="bench-extractors-") as tmp:
            paths = make_generated(Path(tmp), args.n, args.salt, inside=False)
            paths += make_generated(Path(tmp) / "inside", args.n // 2, args.salt, inside=True)
            pages = [path.read_text(encoding="utf-8") for path in paths]
        figures = old_vs_new(pages, args.repeat)
        print_old_vs_new(figures, sum(map(len, pages)) / len(pages) / 1000)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        return 0

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("trafilatura", "readability", "readability.readability", "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")

    extractors: dict[str, Callable[[str], list[str]]] = {}
    unavailable: dict[str, str] = {}
    for name in args.extractors.split(","):
        name = name.strip()
        if name not in FACTORIES:
            ap.error(f"unknown extractor {name!r}; choose from {', '.join(FACTORIES)}")
        try:
            extractors[name] = FACTORIES[name]()
        except ImportError as exc:
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    for name, why in unavailable.items():
        print(f"skipped {name}: {why}", file=sys.stderr)

    base = args.pages_dir or Path(tempfile.mkdtemp(prefix="bench-extractors-"))
    try:
        sets: dict[str, list[Path]] = {
            "generated": make_generated(base / "generated", args.n, args.salt, inside=False),
            "inside-noise": make_generated(base / "inside-noise", args.n, args.salt, inside=True),
            "real-seeds": make_real_pages(base / "real-seeds"),
        }
        # File reading and truth parsing happen here, outside every timed region.
        loaded: dict[str, list[tuple[str, str, list[str]]]] = {}
        for set_name, paths in sets.items():
            loaded[set_name] = []
            for path in paths:
                html = path.read_text(encoding="utf-8")
                truth = truth_of(html)
                if not truth:
                    raise SystemExit(
                        f"{path}: no `article > p` paragraphs; cannot derive the truth"
                    )
                loaded[set_name].append((path.name, html, truth))
    finally:
        if args.pages_dir is None:
            shutil.rmtree(base, ignore_errors=True)

    results: dict[str, dict[str, dict]] = {name: {} for name in extractors}
    repeats: dict[str, int] = {}
    t_start = time.perf_counter()
    for set_name, pages in loaded.items():
        # Small sets get more runs per page, so that every set has about 200 timed runs or more.
        repeats[set_name] = max(args.repeat, -(-200 // len(pages)))
        for name, r in time_and_score(extractors, pages, repeats[set_name]).items():
            results[name][set_name] = r
        print(
            f"  done {set_name:<13} ({time.perf_counter() - t_start:.0f}s)",
            file=sys.stderr,
            flush=True,
        )

    vers = versions()
    print()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in vers.items() if v)
    )
    wsrc = watcher_source()
    if wsrc:
        print(
            f"watcher extractor: {wsrc['path']} sha256:{wsrc['sha256']} (modified {wsrc['mtime']})"
        )
    print(
        f"pages: generated {len(loaded['generated'])}, inside-noise {len(loaded['inside-noise'])}, "
        f"real-seeds {len(loaded['real-seeds'])}; timed runs per page: "
        + ", ".join(f"{k} {v}" for k, v in repeats.items())
        + " (ms/page = median over pages of each page's fastest run)"
    )
    print()
    header = f"{'extractor':<22} {'set':<13} {'recall':>7} {'precision':>10} {'ms/page':>8} {'noise/page':>11} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for name, per_set in results.items():
        for set_name, r in per_set.items():
            print(
                f"{name:<22} {set_name:<13} {r['recall']:>7.3f} {r['precision']:>10.3f} "
                f"{r['ms_median']:>8.1f} {r['noise_lines_per_page']:>11.1f} {r['errors']:>7}"
            )
    print()
    print(
        f"Surviving noise lines on the inside-noise set (top {args.top} shapes, digits masked as #; "
        f"count = lines over {len(loaded['inside-noise'])} pages):"
    )
    for name, per_set in results.items():
        top = per_set["inside-noise"]["top_noise"][: args.top]
        print(f"\n  {name}:")
        if not top:
            print("    (none)")
        for text, count in top:
            print(f"    {count:>5}  {text}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "versions": vers,
                    "watcher_extract_source": wsrc,
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                    "cpus": os.cpu_count(),
                    "n": args.n,
                    "salt": args.salt,
                    "repeat": args.repeat,
                    "timed_runs_per_page": repeats,
                    "unavailable": unavailable,
                    "results": results,
                },
                indent=1,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        print(f"\nsaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
