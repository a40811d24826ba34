"""Throughput benchmark: watcher against urlwatch 2.29 on the same noisy pages, in the same run.

Run from the repository root:

    .venv/bin/python bench/throughput.py                       # N = 500, 2,000, 5,000 + polite + daemon
    .venv/bin/python bench/throughput.py --sizes 500,2000 --steady-sources 2000
    .venv/bin/python bench/throughput.py --quick               # N = 200 only, a smoke run

Prints figures; nothing here is a timed test. Pages come from ../shared/pages/make_pages.py:
version 0, and version 1 where 10% of the pages really changed (every page's noise changes in
every version). They are served by bench/signal_quality.py's loopback servers, with ETags and
Last-Modified, answering 304 to either validator: on one host, and spread over 50 hosts
(127.0.0.2 to 127.0.0.51, as bench/sites.py places its sites).

For each N and layout, three passes, each tool run as its own process (`watcher check`, then
`urlwatch` with its html2text filter and only the stdout reporter): first (v0), unchanged (v0
again: the servers answer 304 where the client sent validators) and changed (v1). Each pass's
wall and CPU seconds (user + sys) and peak RSS are the child's own, from os.wait4; the bytes added
to state are the growth of watcher's state folder and of urlwatch's cache.db. Alerts are counted
as bench/signal_quality.py counts them (watcher: new non-minor changes; urlwatch: CHANGED lines).

The engine comparison relaxes watcher's politeness (per_host_gap "0s", requests to a host may
overlap, concurrency 4: its best on loopback), as
the output says; a second table runs the shipped defaults over 50 hosts and compares the pass
with its politeness floor. Last, `watcher run` over --steady-sources sources checked every few
seconds: RSS sampled over the run, CPU per unchanged and per changed check.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signal_quality import (  # bench/ is on the path when a bench script runs
    DEFAULT_GENERATOR,
    DEFAULT_URLWATCH_VENV,
    REPO,
    WORKDIR,
    BenchError,
    DaemonTool,
    PageSet,
    Pass,
    Servers,
    UrlwatchTool,
    WatcherTool,
    generate_pages,
    last_line,
    load_pages,
    score_pass,
)

PASSES = (("first", 0), ("unchanged", 0), ("changed", 1))  # name, version served
HOSTS = 50
MB = 1024 * 1024
VERSIONS: list[str] = []  # the tools' own --version lines, printed with the figures


# ---------------------------------------------------------------------------------------------
# measuring one child process


@dataclass
class Usage:
    """What one pass cost its process: wall and CPU seconds, peak resident memory."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_rss: int = 0  # bytes


def run_measured(
    cmd: list[str], env: dict[str, str], timeout: float, what: str
) -> tuple[str, Usage]:
    """Run a command to its end; its stdout and its own rusage (wait4: per child, not cumulative)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=env["BENCH_WORKDIR"])
        deadline = start + timeout
        peak = 0
        while True:
            peak = max(peak, high_water(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise BenchError(f"{what} did not finish within {timeout:.0f}s")
            time.sleep(0.005)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        sys.stderr.write(stderr[-8000:])
        raise BenchError(f"{what} exited {proc.returncode}: {last_line(stderr)}")
    # The program's own high-water mark, polled while it runs. Not wait4's ru_maxrss: Linux
    # carries the forked copy of this (large) bench process's RSS across exec into it, which
    # floored every small figure at the bench's own size (201 MB for a pass that peaked at 100).
    return stdout, Usage(wall, usage.ru_utime + usage.ru_stime, peak or usage.ru_maxrss * 1024)


def high_water(pid: int) -> int:
    """Peak RSS in bytes of a running process (VmHWM: the exec'd program's own), 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Measured:
    """Mixin for the signal benchmark's tools: run each pass measured, keep the last Usage."""

    env: dict[str, str]
    timeout: float
    usage: Usage

    def run_check(self, cmd: list[str], what: str) -> tuple[str, float]:
        out, self.usage = run_measured(cmd, self.env, self.timeout, what)
        return out, self.usage.wall


class MeasuredWatcher(Measured, WatcherTool):
    # Relaxed: requests to one host may overlap as they do for urlwatch (the shipped default is 1).
    settings = ("per_host_concurrency = 16",)

    def state_bytes(self) -> int:
        return folder_bytes(self.config.parent / "state")


class PoliteWatcher(MeasuredWatcher):
    """watcher with the shipped politeness defaults: no gap or concurrency setting written."""

    settings = ()
    name = "watcher-polite"
    run_dir = "watcher-polite-run"
    relaxed = False


class MeasuredUrlwatch(Measured, UrlwatchTool):
    def state_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.dir.glob("cache.db*") if f.is_file())


def folder_bytes(root: Path) -> int:
    """Bytes in a folder (SQLite's -shm index excluded: it is a shared-memory map, not data)."""
    if not root.exists():
        return 0
    files = (f for f in root.rglob("*") if f.is_file() and not f.name.endswith("-shm"))
    return sum(f.stat().st_size for f in files)


# ---------------------------------------------------------------------------------------------
# pages


def make_pages(args: argparse.Namespace, n: int, root: Path) -> Path:
    """Generate n pages at versions 0 and 1 (once per n) into root; the one-host layout."""
    if not (root / "truth.json").exists():
        print(f"generating {n} pages x 2 versions ...", file=sys.stderr)
        gen = argparse.Namespace(
            generator=args.generator,
            n=n,
            versions=2,
            fraction=args.fraction,
            salt=args.salt,
            inside_noise=False,
        )
        generate_pages(gen, root)
    return root


def spread(one_host: Path, dest: Path, hosts: int) -> Path:
    """The same pages spread round-robin over `hosts` sites (hard links, so nothing is copied):
    page p<i> becomes h<i mod hosts>-p<i>, and hosts.json gives site h<k> the address 127.0.0.<k+2>."""
    if (dest / "truth.json").exists():
        return dest

    def renamed(file: str) -> str:
        i = int(file.removeprefix("p").removesuffix(".html"))
        return f"h{i % hosts}-{file}"

    for version in sorted(one_host.glob("v*")):
        (dest / version.name).mkdir(parents=True)
        for f in version.iterdir():
            os.link(f, dest / version.name / renamed(f.name))
    truth = json.loads((one_host / "truth.json").read_text())
    (dest / "truth.json").write_text(
        json.dumps({v: [renamed(f) for f in files] for v, files in truth.items()})
    )
    used = {renamed(f.name).split("-", 1)[0] for f in (one_host / "v0").iterdir()}
    sites = {f"h{k}": f"127.0.0.{k + 2}" for k in range(hosts) if f"h{k}" in used}
    (dest / "hosts.json").write_text(json.dumps(sites, indent=1))
    return dest


def serve(root: Path) -> tuple[PageSet, Servers]:
    pages = load_pages(root, None)
    servers = Servers(pages)
    for server in servers.by_site.values():
        server.etag = True
    servers.start()
    return pages, servers


# ---------------------------------------------------------------------------------------------
# the engine comparison


@dataclass
class Row:
    """One tool's figures for one pass."""

    tool: str
    usage: Usage
    added: int  # bytes added to the tool's state
    pass_: Pass
    truth: set[str]
    pages: int

    @property
    def per_second(self) -> float:
        return self.pages / self.usage.wall if self.usage.wall else 0.0


@dataclass
class Table:
    title: str
    rows: dict[str, list[Row]] = field(default_factory=dict)  # pass name -> a row per tool
    load: str = ""  # the machine's load while the passes ran: other work skews wall times


def run_passes(tools: list[Any], servers: Servers, pages: PageSet, table: Table) -> None:
    """First, unchanged and changed passes, each tool in turn on the same pages."""
    load_before = os.getloadavg()[0]
    for pass_name, version in PASSES:
        if pass_name != "unchanged":  # re-stamping v0 would make the unchanged pass a 200 pass
            servers.switch(version)
        servers.take_counts()
        for tool in tools:
            before = tool.state_bytes()
            result = tool.run_pass(version)
            row = Row(
                tool.name,
                tool.usage,
                tool.state_bytes() - before,
                result,
                pages.truth[version],
                len(pages.files),
            )
            table.rows.setdefault(pass_name, []).append(row)
            print(
                f"  {table.title[:40]} {pass_name} {tool.name}: {row.usage.wall:.1f}s, "
                f"http {result.http}",
                file=sys.stderr,
            )
    table.load = (
        f"load average (1 min) before / after these passes: {load_before:.2f} / {os.getloadavg()[0]:.2f}"
        f" on {os.cpu_count()} cores (other processes on the machine inflate wall times)"
    )


def tool_args(args: argparse.Namespace, n: int) -> argparse.Namespace:
    return argparse.Namespace(
        timeout=args.timeout or max(300.0, n * 0.5),
        snapshot_code=False,
        concurrency=args.concurrency,
        urlwatch_venv=args.urlwatch_venv,
    )


def compare(args: argparse.Namespace, n: int, root: Path, hosts: int, workdir: Path) -> Table:
    layout = "1 host" if hosts == 1 else f"{hosts} hosts"
    pages, servers = serve(root)
    title = f"N = {n:,}, {layout}: watcher politeness RELAXED (per_host_gap 0s, concurrency {args.concurrency}, per_host_concurrency 16)"
    table = Table(title)
    try:
        targs = tool_args(args, n)
        tools = [
            MeasuredWatcher(workdir, pages, servers, targs),
            MeasuredUrlwatch(workdir, pages, servers, targs),
        ]
        if not VERSIONS:
            VERSIONS.extend(t.version for t in tools)
            print("tools: " + "; ".join(VERSIONS), file=sys.stderr)
        run_passes(tools, servers, pages, table)
    finally:
        servers.stop()
    return table


def polite(args: argparse.Namespace, root: Path, workdir: Path) -> Table:
    pages, servers = serve(root)
    table = Table(f"N = {len(pages.files):,}, {len(servers.by_site)} hosts: shipped politeness")
    try:
        run_passes(
            [PoliteWatcher(workdir, pages, servers, tool_args(args, 500))], servers, pages, table
        )
    finally:
        servers.stop()
    return table


# ---------------------------------------------------------------------------------------------
# the daemon's steady state


def process_tree(pid: int) -> Iterator[int]:
    yield pid
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        text = children.read_text() if children.exists() else ""
        for child in text.split():
            yield from process_tree(int(child))


def tree_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (with reaped children) and RSS bytes of a process and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    cpu, rss = 0.0, 0
    for p in set(process_tree(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            statm = Path(f"/proc/{p}/statm").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended between the listing and the read
        # fields from state (3rd in proc(5)): utime 14, stime 15, cutime 16, cstime 17
        cpu += sum(int(x) for x in fields[11:15]) / tick
        rss += int(statm[1]) * page
    return cpu, rss


@dataclass
class Steady:
    sources: int
    every: str
    seconds: float = 0.0
    rss_start: int = 0  # after the first pass: the steady state begins
    rss_end: int = 0
    rss_peak: int = 0
    rss_boot: int = 0  # after start-up, before the first pass ends
    samples: list[tuple[float, int]] = field(default_factory=list)
    phases: dict[str, tuple[float, int, dict[str, int]]] = field(default_factory=dict)
    checks: int = 0


def steady(args: argparse.Namespace, root: Path, workdir: Path) -> Steady:
    """`watcher run` over every page: a first pass, then unchanged checks, then the switch to
    version 1 (changed checks), then unchanged again, sampling RSS and CPU throughout."""
    pages, servers = serve(root)
    targs = tool_args(args, len(pages.files))
    targs.daemon_every = args.steady_every
    result = Steady(len(pages.files), f"{args.steady_every}s")
    daemon = DaemonTool(workdir, pages, servers, targs)
    t0 = time.monotonic()
    deadline = t0 + args.steady_seconds + args.steady_timeout

    def counts(after: int = 0) -> dict[str, int]:
        rows = daemon.query(
            "SELECT outcome, count(*) FROM checks WHERE id > ? GROUP BY outcome", (after,)
        )
        return {str(k): int(v) for k, v in rows}

    def sample() -> tuple[float, int]:
        assert daemon.proc is not None
        if daemon.proc.poll() is not None:
            raise BenchError(f"watcher run exited ({daemon.proc.returncode}); see daemon.log")
        cpu, rss = tree_usage(daemon.proc.pid)
        result.samples.append((time.monotonic() - t0, rss))
        result.rss_peak = max(result.rss_peak, rss)
        return cpu, rss

    def wait(until: Callable[[], bool], what: str) -> None:
        while not until():
            if time.monotonic() > deadline:
                raise BenchError(f"watcher run: {what} did not happen in time")
            sample()
            time.sleep(args.sample_every)

    def phase(name: str, until: Callable[[int], bool]) -> None:
        mark, (cpu0, _) = daemon.last_row(), sample()
        start = time.monotonic()
        wait(lambda: until(mark), name)
        cpu1, _ = sample()
        result.phases[name] = (cpu1 - cpu0, daemon.last_row() - mark, counts(mark))
        print(f"  steady {name}: {time.monotonic() - start:.0f}s", file=sys.stderr)

    try:
        daemon.switch(0)  # serves v0 and starts the daemon
        time.sleep(1.0)
        result.rss_boot = sample()[1]
        n = len(pages.files)
        wait(lambda: len(daemon.query("SELECT DISTINCT source FROM checks")) >= n, "a first pass")
        steady_start = time.monotonic()
        result.rss_start = sample()[1]
        share = args.steady_seconds / 3
        phase("unchanged (v0)", lambda mark: time.monotonic() - steady_start >= share)
        servers.switch(1)
        # until every source has fetched the new bytes (a site's pass may 304 before its switch)
        fetched = (
            "SELECT count(DISTINCT source) FROM checks WHERE id > ? AND outcome != 'not_modified'"
        )
        phase("new bytes (v1)", lambda mark: daemon.query(fetched, (mark,))[0][0] >= n)
        # at least a third of the run, even when the new bytes took longer than planned
        end = max(steady_start + args.steady_seconds, time.monotonic() + share)
        phase("unchanged (v1)", lambda mark: time.monotonic() >= end)
        result.rss_end = sample()[1]
        result.seconds = time.monotonic() - steady_start
        result.checks = daemon.last_row()
    finally:
        daemon.stop()
        servers.stop()
    return result


# ---------------------------------------------------------------------------------------------
# printing


def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return [
        f"machine: {cpu}, {os.cpu_count()} cores, {ram:.1f} GB RAM, "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({sys.executable})",
    ]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def kb(n: int) -> str:
    return f"{n / 1024:,.0f}"


def alerts(row: Row) -> str:
    s = score_pass(row.pass_, row.truth)
    return f"{s.true}/{len(row.truth)} found, {s.false} false, {s.missed} missed"


def http(p: Pass) -> str:
    return " ".join(f"{k}x{v}" for k, v in sorted(p.http.items())) or "-"


def print_table(table: Table, page_bytes: float) -> None:
    print(table.title)
    head = (
        f"{'pass':<10} {'tool':<15} {'wall s':>7} {'CPU s':>7} {'pages/s':>8} {'peak RSS MB':>11} "
        f"{'state +KB':>10} {'KB/changed page':>15}  alerts vs truth; HTTP"
    )
    print(head)
    for pass_name, rows in table.rows.items():
        for row in rows:
            per_changed = f"{row.added / row.pages / 1024:.1f}" if pass_name == "changed" else ""
            print(
                f"{pass_name:<10} {row.tool:<15} {row.usage.wall:>7.2f} {row.usage.cpu:>7.2f} "
                f"{row.per_second:>8.1f} {row.usage.peak_rss / MB:>11.0f} {kb(row.added):>10} "
                f"{per_changed:>15}  {alerts(row)}; {http(row.pass_)}"
            )
        if len(rows) == 2:
            w, u = rows
            per_changed = ratio(w.added, u.added) if pass_name == "changed" else ""
            print(
                f"{'':<10} {'w/u ratio':<15} {ratio(w.usage.wall, u.usage.wall):>7} "
                f"{ratio(w.usage.cpu, u.usage.cpu):>7} {ratio(w.per_second, u.per_second):>8} "
                f"{ratio(w.usage.peak_rss, u.usage.peak_rss):>11} {ratio(w.added, u.added):>10} "
                f"{per_changed:>15}  speed x{ratio(u.usage.wall, w.usage.wall)} of urlwatch's"
            )
    print(
        f"(a page is {page_bytes / 1024:.0f} KB on average; every page's bytes change in the changed pass)"
    )
    print(table.load)
    print()


def print_polite(table: Table, gap: float, hosts: int) -> None:
    rows = [r[0] for r in table.rows.values()]
    per_host = -(-rows[0].pages // hosts)
    floor = per_host * gap
    print(table.title)
    print(
        f"shipped defaults: per_host_gap {gap:g}s, one request per host at a time; "
        f"floor = {per_host} sources per host x {gap:g}s = {floor:.0f}s"
    )
    print(
        f"{'pass':<10} {'wall s':>7} {'CPU s':>7} {'floor s':>8} {'wall/floor':>10}  alerts; HTTP"
    )
    for pass_name, (row,) in table.rows.items():
        print(
            f"{pass_name:<10} {row.usage.wall:>7.1f} {row.usage.cpu:>7.2f} {floor:>8.0f} "
            f"{ratio(row.usage.wall, floor):>10}  {alerts(row)}; {http(row.pass_)}"
        )
    print(table.load)
    print()


def print_steady(result: Steady, urlwatch_cpu: dict[str, float]) -> None:
    print(
        f"daemon steady state: `watcher run`, {result.sources:,} sources on {HOSTS} hosts, every "
        f"{result.every}, politeness relaxed as above, {result.seconds:.0f}s after its first pass"
    )
    passes = result.checks / result.sources if result.sources else 0
    print(
        f"checks done: {result.checks:,} ({passes:.1f} per source; at every = 1h this is "
        f"{passes:.1f} hours of checks)"
    )
    grow = 100 * (result.rss_end - result.rss_start) / result.rss_start if result.rss_start else 0
    print(
        f"RSS: {result.rss_boot / MB:.0f} MB after start-up, {result.rss_start / MB:.0f} MB after the "
        f"first pass, {result.rss_end / MB:.0f} MB at the end ({grow:+.1f}%), peak "
        f"{result.rss_peak / MB:.0f} MB"
    )
    print(
        f"{'phase':<16} {'checks':>7} {'CPU s':>7} {'CPU ms/check':>12} {'urlwatch CPU ms/page':>20}  outcomes"
    )
    base = result.phases.get("unchanged (v0)")
    per_304 = base[0] / base[1] if base and base[1] else 0.0
    for name, (cpu, checks, outcomes) in result.phases.items():
        theirs = urlwatch_cpu.get("changed" if name.startswith("new") else "unchanged")
        mine = 1000 * cpu / checks if checks else 0.0
        fetched = checks - outcomes.get("not_modified", 0)
        if name.startswith("new") and fetched:
            # the phase's 304s at the unchanged phase's rate, the rest per fetched check
            net = cpu - per_304 * outcomes.get("not_modified", 0)
            name = f"{name}: {1000 * net / fetched:.2f} ms per fetched check, net of its 304s;"
            print(name)
            name = "new bytes (v1)"
        their_text = f"{1000 * theirs:.2f}" if theirs is not None else "-"
        mix = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"{name:<16} {checks:>7} {cpu:>7.1f} {mine:>12.2f} {their_text:>20}  {mix}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    samples = result.samples
    step = max(1, len(samples) // 12)
    trace = ", ".join(f"{t:.0f}s {rss / MB:.0f}" for t, rss in samples[::step])
    print(f"RSS samples (s MB): {trace}")
    print()


def shipped_gap() -> float:
    """The shipped per_host_gap, read from watcher's own declaration."""
    probe = "from watcher.models import EgressPolicy as E; print(E.__dataclass_fields__['per_host_gap'].default)"
    python = REPO / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python) if python.exists() else sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=WORKDIR[0],
        timeout=60,
    )
    if out.returncode != 0:
        raise BenchError(f"could not read watcher's per_host_gap: {last_line(out.stderr)}")
    return float(out.stdout)


# ---------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/throughput.py", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="500,2000,5000", help="N pages per run (500,2000,5000)")
    ap.add_argument("--hosts", default="1,50", help="layouts: 1 host and/or 50 hosts (1,50)")
    ap.add_argument("--quick", action="store_true", help="N = 200 only, shorter daemon run")
    # 4 is watcher's fastest on loopback here (measured 4 / 8 / 16: first pass of 2,000 in 4.3 /
    # 4.7 / 5.6 s): with no network wait to hide, each pooled connection only adds client CPU
    # (httpcore scans its whole pool on every request). urlwatch runs 6 threads (its default).
    ap.add_argument("--concurrency", type=int, default=4, help="watcher's relaxed concurrency (4)")
    ap.add_argument("--fraction", type=float, default=0.1, help="share really edited (0.1)")
    ap.add_argument("--salt", default="throughput", help="generator salt")
    ap.add_argument("--generator", default=str(DEFAULT_GENERATOR), help="make_pages.py")
    ap.add_argument("--urlwatch-venv", default=str(DEFAULT_URLWATCH_VENV), help="urlwatch's venv")
    ap.add_argument("--no-polite", action="store_true", help="skip the shipped-defaults table")
    ap.add_argument("--polite-n", type=int, default=500, help="pages for the defaults table")
    ap.add_argument("--no-steady", action="store_true", help="skip the daemon's steady state")
    ap.add_argument("--steady-sources", type=int, default=5000, help="daemon sources (5000)")
    ap.add_argument("--steady-every", type=int, default=10, help="daemon interval, s (10)")
    ap.add_argument("--steady-seconds", type=float, default=150.0, help="after its first pass")
    ap.add_argument("--steady-timeout", type=float, default=900.0, help="slack for slow passes")
    ap.add_argument("--sample-every", type=float, default=2.0, help="RSS sampling, s (2)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds a pass may take")
    ap.add_argument("--workdir", metavar="DIR", help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
        args.hosts = [int(x) for x in args.hosts.split(",") if x.strip()]
    except ValueError:
        ap.error("--sizes and --hosts take comma-separated whole numbers")
    if args.quick:
        args.sizes, args.polite_n = [200], 200
        args.steady_sources, args.steady_seconds = min(args.steady_sources, 200), 30.0
    if not args.sizes or min(args.sizes) < 1 or set(args.hosts) - {1, HOSTS}:
        ap.error(f"need --sizes >= 1 and --hosts among 1,{HOSTS}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="throughput-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    WORKDIR[0] = str(workdir)
    try:
        for line in machine():
            print(line)
        print(
            f"pages: ../shared/pages/make_pages.py, versions 0 and 1, {args.fraction:.0%} really edited"
        )
        print()
        urlwatch_cpu: dict[str, float] = {}
        page_kb: dict[int, float] = {}

        def pages_of(n: int, hosts: int) -> Path:
            one = make_pages(args, n, workdir / f"pages-{n}")
            page_kb[n] = folder_bytes(one / "v0") / n
            return one if hosts == 1 else spread(one, workdir / f"pages-{n}-{hosts}hosts", hosts)

        for n in args.sizes:
            for hosts in args.hosts:
                run_dir = workdir / f"run-{n}-{hosts}"
                table = compare(args, n, pages_of(n, hosts), hosts, run_dir)
                print_table(table, page_kb[n])
                sys.stdout.flush()
                for pass_name in ("unchanged", "changed"):
                    u = table.rows[pass_name][1]
                    urlwatch_cpu[pass_name] = u.usage.cpu / u.pages  # the last, largest N
        if not args.no_polite:
            table = polite(args, pages_of(args.polite_n, HOSTS), workdir / "run-polite")
            print_polite(table, shipped_gap(), HOSTS)
            sys.stdout.flush()
        if not args.no_steady:
            root = pages_of(args.steady_sources, HOSTS)
            print_steady(steady(args, root, workdir / "run-steady"), urlwatch_cpu)
        print("tools: " + "; ".join(VERSIONS) + " (urlwatch with its html2text filter)")
        print(f"bench wall time: {time.monotonic() - started:.0f}s")
        return 0
    except BenchError as exc:
        print(f"throughput: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
