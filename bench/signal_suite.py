"""The signal suite: precision and recall of watcher (`check` and daemon) beside urlwatch's, on
every replay set the signal issues name, one table at the end.

Run from the repository root (about 25 minutes on 2 cores; --quick about 6):

    .venv/bin/python bench/signal_suite.py
    .venv/bin/python bench/signal_suite.py --quick --tools watcher,daemon
    .venv/bin/python bench/signal_suite.py --only sites-alternate,shared-5-10

Sets:
- sites-KIND (bench/sites.py, our own generator): three sites on three templates, one per
  loopback host, one noise-only version before real edits; KIND is alternate (A/B wordings that
  come back), relative (ages in words), furniture (a consent notice and recommendations inside
  <main> under hashed class names), mixed (all three), growth (a page on a site of its own that
  gains a paragraph with a new amount at every version, 15 edits).
- shared-N-P (../shared/pages/make_pages.py): N pages, all on ONE host, P% of them really edited
  in each version (the recall bug of issue 12: a paragraph added on a tenth of a site must never
  look like template churn).

Each set runs bench/signal_quality.py --pages DIR --json; its own output goes to the work folder.
The suite runs a copy of watcher/ taken when it starts, so every set measures the same code
while others edit the tree.
Exit code: 0 when every set ran, 1 when one broke.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
SHARED_GENERATOR = REPO.parent / "shared" / "pages" / "make_pages.py"
PYTHON = sys.executable


def site_set(kind: str, pages: int, versions: int) -> tuple[str, list[str]]:
    return f"sites-{kind}", ["--kind", kind, "--pages", str(pages), "--versions", str(versions)]


def build_sites(out: Path, options: list[str]) -> None:
    run([PYTHON, str(BENCH / "sites.py"), str(out), *options], 600)


def build_shared(out: Path, n: int, percent: int, versions: int) -> None:
    """N pages of the shared generator on one host, exactly max(1, round(N*P/100)) of them edited.

    The generator edits page i when i % 100 < P, so a set of fewer than 100 pages is cut from a
    100-page run: the first edited pages and then unedited ones, renamed p0.. in that order.
    """
    if n >= 100:
        run(
            [PYTHON, str(SHARED_GENERATOR), str(out), str(n), str(versions), str(percent / 100)],
            1800,
        )
        return
    raw = out.parent / f"{out.name}-raw"
    run([PYTHON, str(SHARED_GENERATOR), str(raw), "100", str(versions), str(percent / 100)], 600)
    edited = max(1, round(n * percent / 100))
    chosen = [*range(edited), *range(percent, percent + n - edited)]
    rename = {f"p{i}.html": f"p{k}.html" for k, i in enumerate(chosen)}
    for v in range(versions):
        (out / f"v{v}").mkdir(parents=True)
        for old, new in rename.items():
            shutil.copy2(raw / f"v{v}" / old, out / f"v{v}" / new)
    truth = json.loads((raw / "truth.json").read_text())
    truth = {v: [rename[f] for f in files if f in rename] for v, files in truth.items()}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    (out / "current").symlink_to("v0")
    shutil.rmtree(raw)


def run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"signal suite: {Path(cmd[1]).name} failed: {tail}")
    return proc.stdout


def sets(quick: bool) -> list[tuple[str, str, object]]:
    """(name, builder, options) for every set."""
    pages, versions = (8, 5) if quick else (20, 7)
    out: list[tuple[str, str, object]] = []
    for kind in ("alternate", "relative", "furniture", "mixed"):
        name, options = site_set(kind, pages, versions)
        out.append((name, "sites", options))
    name, options = site_set("growth", 6 if quick else 10, 16)
    out.append((name, "sites", options))
    sizes = (5, 10, 30) if quick else (5, 10, 30, 500)
    for n in sizes:
        for percent in (10, 30):
            out.append((f"shared-{n}-{percent}", "shared", (n, percent, 4)))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tools", default="watcher,daemon,urlwatch")
    ap.add_argument("--quick", action="store_true", help="smaller sites, no 500-page sets")
    ap.add_argument("--only", help="comma-separated set names")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", metavar="PATH", help="write every set's figures here")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="signal-suite-"))
    chosen = [s for s in sets(args.quick) if not args.only or s[0] in args.only.split(",")]
    results: dict[str, dict[str, object]] = {}
    code = work / "code"
    shutil.copytree(
        REPO / "watcher", code / "watcher", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {**os.environ, "PYTHONPATH": str(code)}
    try:
        for name, builder, options in chosen:
            t0 = time.monotonic()
            pages = work / name
            if builder == "sites":
                build_sites(pages, options)  # type: ignore[arg-type]
            else:
                build_shared(pages, *options)  # type: ignore[misc]
            figures = work / f"{name}.json"
            cmd = [PYTHON, str(BENCH / "signal_quality.py"), "--pages", str(pages)]
            cmd += ["--tools", args.tools, "--json", str(figures)]
            run(cmd, 7200, env)
            results[name] = json.loads(figures.read_text())
            print(f"  {name}: done in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def print_table(results: dict[str, dict[str, object]]) -> None:
    tools = sorted(
        {t for r in results.values() for t in r["tools"]},
        key=("watcher", "daemon", "urlwatch").index,
    )  # type: ignore[attr-defined]
    head = f"{'set':<18} {'pages':>5} {'real':>5}"
    for tool in tools:
        head += f"  {tool + ' P':>10} {'R':>5} {'false':>5}"
    print(head)
    for name, r in results.items():
        config: dict[str, object] = r["config"]  # type: ignore[assignment]
        real = sum(config["truth_counts"].values())  # type: ignore[attr-defined]
        line = f"{name:<18} {config['pages']:>5} {real:>5}"
        for tool in tools:
            t = r["tools"].get(tool)  # type: ignore[attr-defined]
            if t is None:
                line += f"  {'-':>10} {'-':>5} {'-':>5}"
            else:
                line += f"  {t['precision']:>10.3f} {t['recall']:>5.3f} {t['false']:>5}"
        print(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
