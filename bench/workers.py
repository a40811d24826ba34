"""Several workers on one PostgreSQL store: checks per second with 1, 2 and 3 `watcher check`
processes at once, against one process on SQLite, on the same pages.

Run from the repository root:

    .venv/bin/python bench/workers.py            # 2,000 pages on 50 hosts
    .venv/bin/python bench/workers.py --quick    # 200 pages, a smoke run

Prints figures; nothing here is a timed test. Pages come from ../shared/pages/make_pages.py
through bench/throughput.py's helpers (versions 0 and 1, 10% really edited, spread over 50 hosts
127.0.0.2 to 127.0.0.51, served from loopback with ETags). A throwaway PostgreSQL server is started
with tests/postgres.py's harness (fsync off: a bench cluster, deleted at the end). Politeness is
relaxed as in throughput.py's engine comparison (per_host_gap 0s, concurrency 4,
per_host_concurrency 16).

For K = 1, 2, 3 on a fresh database, K `watcher check --worker wK` processes start together for
each of three passes: first (v0), unchanged (v0 again: 304s) and changed (v1). Each site is
released due again about an interval after its pass; the bench clears those due times between
passes (its stand-in for the interval having passed), so every pass has every site due. Per pass:
wall time (the first start to the last exit), checks per second, the speed-up over K = 1, CPU
seconds of the workers (wait4), of the PostgreSQL server (its processes' /proc stat, reaped
backends included) and of this process (the loopback page servers), each worker's share of the
checks, and whether any source was checked twice (from the outputs and the checks table).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from signal_quality import (  # bench/ is on the path when a bench script runs
    DEFAULT_GENERATOR,
    REPO,
    WATCHER_OUTCOME,
    WORKDIR,
    BenchError,
    PageSet,
    Servers,
    clean_env,
    last_line,
    toml_str,
)
from throughput import HOSTS, PASSES, folder_bytes, machine, make_pages, serve, spread, tree_usage

sys.path.insert(0, str(REPO))  # tests/postgres.py: the throwaway server's harness
from tests.postgres import PostgresServer, PostgresUnavailable, start_postgres

WORKERS = (1, 2, 3)
EVERY = "1h"  # the sources' interval; due times are cleared between passes


@dataclass
class Run:
    """One pass of K processes (K = 0: one process on SQLite)."""

    k: int
    pass_name: str
    wall: float
    worker_cpu: float
    server_cpu: float
    bench_cpu: float
    shares: list[int]
    twice: int  # sources checked more than once in the pass
    missed: int  # sources no worker checked
    skipped: list[str] = field(default_factory=list)  # each worker's "… skipped" line

    @property
    def checks(self) -> int:
        return sum(self.shares)

    @property
    def per_second(self) -> float:
        return self.checks / self.wall if self.wall else 0.0


def write_config(run_dir: Path, pages: PageSet, servers: Servers, concurrency: int) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "[watcher]",
        f"state_dir = {toml_str(str(run_dir / 'state'))}",
        'per_host_gap = "0s"',
        f"concurrency = {concurrency}",
        "per_host_concurrency = 16",
        'timeout = "20s"',
        f'default_every = "{EVERY}"',
        "",
        "[egress]",
        'allow_cidrs = ["127.0.0.0/8"]',
    ]
    for name, file in pages.names.items():
        lines += [
            "",
            "[[source]]",
            f"name = {toml_str(name)}",
            f"url = {toml_str(servers.url(file))}",
        ]
    config = run_dir / "sources.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def watcher_cmd() -> list[str]:
    exe = REPO / ".venv" / "bin" / "watcher"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "watcher.cli"]


def run_workers(
    config: Path, k: int, database: str | None, timeout: float
) -> tuple[float, float, list[list[str]], list[str]]:
    """Start k `watcher check` processes together (one, on SQLite, when database is None); wall
    seconds to the last exit, their CPU seconds, each one's checked sources, their skip lines."""
    env = clean_env({"WATCHER_DATABASE_URL": database} if database else None)
    with ExitStack() as files:
        outs = [files.enter_context(tempfile.TemporaryFile()) for _ in range(max(k, 1))]
        errs = [files.enter_context(tempfile.TemporaryFile()) for _ in range(max(k, 1))]
        return _run_all(config, k, database, timeout, env, outs, errs)


def _run_all(
    config: Path,
    k: int,
    database: str | None,
    timeout: float,
    env: dict[str, str],
    outs: list[IO[bytes]],
    errs: list[IO[bytes]],
) -> tuple[float, float, list[list[str]], list[str]]:
    start = time.monotonic()
    procs = []
    for i, (out, err) in enumerate(zip(outs, errs, strict=True)):
        worker = ["--worker", f"w{i + 1}"] if database else []
        cmd = [*watcher_cmd(), "check", "--config", str(config), "--no-diff", *worker]
        procs.append(subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=config.parent))
    cpu, wall = 0.0, 0.0
    for proc in procs:
        left = max(timeout - (time.monotonic() - start), 1.0)
        deadline = time.monotonic() + left
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                raise BenchError(f"watcher check did not finish within {timeout:.0f}s")
            time.sleep(0.005)
        wall = max(wall, time.monotonic() - start)
        cpu += usage.ru_utime + usage.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
    checked, skipped = [], []
    for proc, out, err in zip(procs, outs, errs, strict=True):
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            sys.stderr.write(stderr[-4000:])
            raise BenchError(f"watcher check exited {proc.returncode}: {last_line(stderr)}")
        names = [m.group(2) for m in map(WATCHER_OUTCOME.match, stdout.splitlines()) if m]
        checked.append(names)
        skipped += [line for line in stderr.splitlines() if line.endswith("skipped")]
    return wall, cpu, checked, skipped


def server_cpu(server: PostgresServer | None) -> float:
    return tree_usage(server.process.pid)[0] if server else 0.0


def bench_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sql(server: PostgresServer, database: str, statement: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(server.url(database), autocommit=True) as db:
        cur = db.execute(statement)
        return list(cur.fetchall()) if cur.description else []


def passes(
    k: int,
    pages: PageSet,
    servers: Servers,
    server: PostgresServer | None,
    workdir: Path,
    args: argparse.Namespace,
) -> list[Run]:
    """The three passes with k workers on a fresh database (k = 0: SQLite, one process)."""
    database = None
    if server:
        name = f"bench_k{k}"
        sql(server, "postgres", f"DROP DATABASE IF EXISTS {name}")
        sql(server, "postgres", f"CREATE DATABASE {name}")
        database = server.url(name)
    config = write_config(workdir / f"run-k{k}", pages, servers, args.concurrency)
    runs = []
    for pass_name, version in PASSES:
        if pass_name != "unchanged":  # re-stamping v0 would make the unchanged pass a 200 pass
            servers.switch(version)
        servers.take_counts()
        if server and database:
            # Every site due again, as if its interval had passed.
            tables = sql(server, f"bench_k{k}", "SELECT to_regclass('site_claims')")
            if tables and tables[0][0]:
                sql(server, f"bench_k{k}", "UPDATE site_claims SET next_due = NULL")
            rows_before = sql(server, f"bench_k{k}", "SELECT to_regclass('checks')")
        before = (server_cpu(server), bench_cpu())
        wall, cpu, checked, skipped = run_workers(config, max(k, 1), database, args.timeout)
        after = (server_cpu(server), bench_cpu())
        seen = Counter(name for names in checked for name in names)
        twice = sum(1 for n in seen.values() if n > 1)
        if server and database and rows_before and rows_before[0][0]:
            per_source = sql(server, f"bench_k{k}", "SELECT count(*) FROM checks GROUP BY source")
            expected = {len(PASSES[: [p for p, _ in PASSES].index(pass_name) + 1])}
            twice = max(twice, sum(1 for (n,) in per_source if n not in expected))
        run = Run(
            k,
            pass_name,
            wall,
            cpu,
            after[0] - before[0],
            after[1] - before[1],
            [len(names) for names in checked],
            twice,
            len(set(pages.names) - set(seen)),
            skipped,
        )
        runs.append(run)
        label = f"K = {k}" if k else "SQLite"
        print(
            f"  {label} {pass_name}: {wall:.1f}s, {run.per_second:.0f} checks/s, shares {run.shares}",
            file=sys.stderr,
        )
    return runs


def print_results(baseline: list[Run], by_k: dict[int, list[Run]], n: int) -> None:
    one = {r.pass_name: r for r in by_k[min(by_k)]}
    base = {r.pass_name: r for r in baseline}
    cores = os.cpu_count() or 1
    print(
        "| workers | pass | wall s | checks/s | vs K=1 | vs SQLite | CPU s: workers / PostgreSQL "
        "/ page servers | CPU busy | shares | checked twice |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = [*baseline, *(r for k in sorted(by_k) for r in by_k[k])]
    for r in rows:
        label = "SQLite, 1" if r.k == 0 else str(r.k)
        busy = (r.worker_cpu + r.server_cpu + r.bench_cpu) / (r.wall * cores) if r.wall else 0
        vs_one = r.per_second / one[r.pass_name].per_second if r.k else 0.0
        vs_base = r.per_second / base[r.pass_name].per_second
        share = " / ".join(f"{s / r.checks:.0%}" for s in r.shares) if r.checks else "-"
        print(
            f"| {label} | {r.pass_name} | {r.wall:.1f} | {r.per_second:,.0f} | "
            f"{f'{vs_one:.2f}x' if r.k else '-'} | {vs_base:.2f}x | {r.worker_cpu:.1f} / "
            f"{r.server_cpu:.1f} / {r.bench_cpu:.1f} | {busy:.0%} of {cores} cores | {share} | "
            f"{r.twice}{f' ({r.missed} missed)' if r.missed else ''} |"
        )
    print()
    twice = sum(r.twice for k in by_k for r in by_k[k])
    missed = sum(r.missed for k in by_k for r in by_k[k])
    print(
        f"no source checked twice in any pass: {'yes' if not twice else f'NO ({twice})'}; "
        f"every source checked in every pass: {'yes' if not missed else f'NO ({missed} missed)'}"
    )
    print(where_it_stops(by_k, cores))


def where_it_stops(by_k: dict[int, list[Run]], cores: int) -> str:
    """Say at which K adding a worker stopped paying (< 10% more checks per second), per pass."""
    lines = []
    for pass_name, _ in PASSES:
        rate = {k: next(r for r in runs if r.pass_name == pass_name) for k, runs in by_k.items()}
        stop = next(
            (k for k in sorted(rate)[1:] if rate[k].per_second < rate[k - 1].per_second * 1.1),
            None,
        )
        best = max(rate, key=lambda k: rate[k].per_second)
        r = rate[best]
        busy = (r.worker_cpu + r.server_cpu + r.bench_cpu) / (r.wall * cores)
        where = (
            f"stops scaling at K = {stop} (K = {stop} is not 10% faster than K = {stop - 1})"
            if stop
            else "still scaling at K = 3"
        )
        lines.append(
            f"{pass_name}: {where} (best K = {best}, {r.per_second:,.0f} checks/s; at K = {best} "
            f"the workers, PostgreSQL and the page servers keep {busy:.0%} of the {cores} cores "
            "busy)"
        )
    lines.append(
        f"why: this machine has {cores} cores, shared by the K workers, the PostgreSQL server and "
        "the loopback page servers; once they fill the cores a further worker only competes "
        "with PostgreSQL and the others for CPU."
    )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/workers.py", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="pages (2,000)")
    ap.add_argument("--quick", action="store_true", help="200 pages, a smoke run")
    ap.add_argument("--concurrency", type=int, default=4, help="each worker's concurrency (4)")
    ap.add_argument("--fraction", type=float, default=0.1, help="share really edited (0.1)")
    ap.add_argument("--salt", default="throughput", help="generator salt")
    ap.add_argument("--generator", default=str(DEFAULT_GENERATOR), help="make_pages.py")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds a pass may take")
    ap.add_argument("--workdir", metavar="DIR", help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)
    if args.quick:
        args.n = 200
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="workers-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    WORKDIR[0] = str(workdir)
    server = None
    try:
        for line in machine():
            print(line)
        one = make_pages(args, args.n, workdir / f"pages-{args.n}")
        root = spread(one, workdir / f"pages-{args.n}-{HOSTS}hosts", HOSTS)
        page_kb = folder_bytes(one / "v0") / args.n / 1024
        try:
            server = start_postgres()
        except PostgresUnavailable as exc:
            raise BenchError(f"no PostgreSQL server to run: {exc}") from exc
        version = sql(server, "postgres", "SHOW server_version")[0][0]
        print(
            f"pages: {args.n:,} from ../shared/pages/make_pages.py ({page_kb:.0f} KB each), "
            f"{args.fraction:.0%} really edited, over {HOSTS} hosts on loopback with ETags"
        )
        print(
            f"PostgreSQL {version} on 127.0.0.1 (tests/postgres.py's throwaway cluster: fsync "
            "and synchronous_commit off, shared_buffers 16MB)"
        )
        print(
            f"each worker: `watcher check --worker wK`, politeness RELAXED (per_host_gap 0s, "
            f"concurrency {args.concurrency}: up to {args.concurrency} sites in flight, "
            "per_host_concurrency 16); site due times cleared between passes"
        )
        print()
        pages, servers = serve(root)
        try:
            load = os.getloadavg()[0]
            baseline = passes(0, pages, servers, None, workdir, args)
            by_k = {k: passes(k, pages, servers, server, workdir, args) for k in WORKERS}
            load_after = os.getloadavg()[0]
        finally:
            servers.stop()
        print_results(baseline, by_k, args.n)
        print(
            f"load average (1 min) before / after: {load:.2f} / {load_after:.2f} on "
            f"{os.cpu_count()} cores (other processes on the machine inflate wall times)"
        )
        print(f"bench wall time: {time.monotonic() - started:.0f}s")
        return 0
    except BenchError as exc:
        print(f"workers: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    finally:
        if server:
            server.stop()
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
