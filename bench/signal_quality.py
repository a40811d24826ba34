"""Signal benchmark: alert precision and recall of watcher against urlwatch on generated noisy pages.

Run from the repository root:

    .venv/bin/python bench/signal_quality.py                      # 500 pages x 4 versions, 10% real edits
    .venv/bin/python bench/signal_quality.py --inside-noise       # volatile blocks inside the article too
    .venv/bin/python bench/signal_quality.py --n 50 --versions 3 --verbose --show-false 5
    .venv/bin/python bench/signal_quality.py --pages DIR          # score an existing replay set (v0.., truth.json)

The pages come from ../shared/pages/make_pages.py (OUTDIR/v0..v{V-1}/p{i}.html, truth.json,
current -> vK). They are served from an in-process loopback HTTP server on 127.0.0.1 that reads
OUTDIR/current at each request, so switching the link replays a new version. At each version
both tools make one pass: `watcher check` (then `watcher changes --format json`, new change ids
being the alerts) and `urlwatch` (its stdout report: CHANGED lines are the alerts). Version 0 is
the baseline: an alert there is a false alert. truth.json says which pages really changed.

urlwatch lives in its own venv, bench/.venv-urlwatch (created with `pip install urlwatch
html2text` when absent). Exit code: 0 when the measurement ran, whatever the figures; 1 when
something broke (generator, server, a tool crashing); 2 for bad options.
"""

import argparse
import email.utils
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GENERATOR = REPO.parent / "shared" / "pages" / "make_pages.py"
DEFAULT_URLWATCH_VENV = REPO / "bench" / ".venv-urlwatch"
LOOPBACK = "127.0.0.1"
WORKDIR = [tempfile.gettempdir()]  # set to the work folder once it exists: the tools' cwd
SOURCE_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]")
WATCHER_OUTCOME = re.compile(r"^(same \(304\)|\S+)\s+(\S+)")  # "<outcome> <source>  <summary>"
URLWATCH_LINE = re.compile(r"^(NEW|CHANGED|UNCHANGED|ERROR): (\S+)")
MINOR = "minor"  # a change of this category alerts no one by default: not counted as an alert
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


def code_stamp() -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of watcher's modules: others may edit them while the bench runs."""
    files = sorted((REPO / "watcher").rglob("*.py"))
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


class BenchError(Exception):
    """Something broke: the message is printed as one line and the exit code is 1."""


# ---------------------------------------------------------------------------------------------
# pages


@dataclass
class PageSet:
    """A replay set: OUTDIR/v0..v{V-1}/<files>, truth.json, and the `current` link."""

    root: Path
    versions: int
    files: list[str]  # page file names, e.g. p0.html
    truth: dict[int, set[str]]  # version -> files that really changed (version 0: none)
    names: dict[str, str]  # source/job name -> file name
    hosts: dict[str, str] = field(default_factory=dict)  # site prefix -> loopback address

    def site_of(self, file: str) -> str:
        """The site a page belongs to: its name's prefix when hosts.json names it, else one site."""
        prefix = file.split("-", 1)[0]
        return prefix if prefix in self.hosts else ""

    def address_of(self, site: str) -> str:
        return self.hosts.get(site, LOOPBACK)

    def file_of(self, name: str) -> str | None:
        return self.names.get(name)


def natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def generate_pages(args: argparse.Namespace, outdir: Path) -> None:
    generator = Path(args.generator).expanduser()
    if not generator.is_file():
        raise BenchError(
            f"page generator not found at {generator}; pass --generator PATH to make_pages.py"
        )
    cmd = [sys.executable, str(generator), str(outdir), str(args.n), str(args.versions)]
    cmd += [str(args.fraction), args.salt]
    if args.inside_noise:
        cmd.append("--inside-noise")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise BenchError(f"page generator failed ({proc.returncode}): {last_line(proc.stderr)}")


def load_pages(root: Path, max_versions: int | None) -> PageSet:
    if not (root / "v0").is_dir():
        raise BenchError(f"{root} has no v0/ folder; expected v0..vN/ and truth.json")
    versions = 0
    while (root / f"v{versions}").is_dir() and (max_versions is None or versions < max_versions):
        versions += 1
    truth_file = root / "truth.json"
    if not truth_file.is_file():
        raise BenchError(f"{truth_file} is missing; it must map 'v1'.. to the changed page files")
    try:
        raw = json.loads(truth_file.read_text())
    except ValueError as exc:
        raise BenchError(f"{truth_file} is not JSON: {exc}") from exc
    files = sorted(
        (f.name for f in (root / "v0").iterdir() if f.is_file() and not f.name.startswith(".")),
        key=natural_key,
    )
    if not files:
        raise BenchError(f"{root / 'v0'} holds no pages")
    truth = {v: set(raw.get(f"v{v}", [])) if v > 0 else set() for v in range(versions)}
    unknown = set().union(*truth.values()) - set(files)
    if unknown:
        raise BenchError(f"truth.json names pages that are not in v0/: {sorted(unknown)[:5]}")
    names: dict[str, str] = {}
    for f in files:
        base = SOURCE_NAME_BAD.sub("_", Path(f).stem) or "page"
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base}_{k}"
        names[name] = f
    hosts_file = root / "hosts.json"
    hosts: dict[str, str] = json.loads(hosts_file.read_text()) if hosts_file.is_file() else {}
    for site, address in hosts.items():
        if not address.startswith("127."):
            raise BenchError(
                f"hosts.json maps {site} to {address}; only 127.x addresses are served"
            )
    return PageSet(root, versions, files, truth, names, hosts)


# ---------------------------------------------------------------------------------------------
# the loopback server


class PageHandler(BaseHTTPRequestHandler):
    """Serves OUTDIR/current/<file>, the link resolved at each request; answers conditional GETs."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, a keep-alive client (httpx) waits for
    # its delayed ACK, ~40 ms a response, which clients opening a connection per page never see.
    disable_nagle_algorithm = True
    server: "PageServer"

    def do_GET(self) -> None:
        self.serve(with_body=True)

    def do_HEAD(self) -> None:
        self.serve(with_body=False)

    def serve(self, with_body: bool) -> None:
        name = unquote(urlsplit(self.path).path).lstrip("/")
        current = os.path.realpath(self.server.root / self.server.link)
        path = os.path.join(current, name)
        if not name or "/" in name or name.startswith(".") or not os.path.isfile(path):
            self.answer(404, b"not found\n", {"Content-Type": "text/plain"}, with_body)
            return
        with open(path, "rb") as fh:
            mtime = int(os.fstat(fh.fileno()).st_mtime)
            body = fh.read()
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        validators = {"Last-Modified": last_modified}
        if self.server.etag:
            validators["ETag"] = f'"{mtime:x}-{len(body):x}"'  # as nginx makes them
        if_none_match = self.headers.get("If-None-Match")
        if (
            if_none_match is not None
            and "ETag" in validators
            and validators["ETag"] in {t.strip() for t in if_none_match.split(",")}
        ) or (if_none_match is None and not_modified(self.headers.get("If-Modified-Since"), mtime)):
            # RFC 9110 13.2.2: If-None-Match, when sent, is evaluated instead of If-Modified-Since
            self.server.count(304)
            self.send_response(304)
            for key, value in validators.items():
                self.send_header(key, value)
            self.end_headers()
            return
        headers = {"Content-Type": "text/html; charset=utf-8", **validators}
        self.answer(200, body, headers, with_body)

    def answer(self, status: int, body: bytes, headers: dict[str, str], with_body: bool) -> None:
        self.server.count(status)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def not_modified(if_modified_since: str | None, mtime: int) -> bool:
    """True when the page has not changed since the given date (RFC 9110: Last-Modified <= IMS)."""
    if not if_modified_since:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return mtime <= int(since.timestamp())


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, address: str = LOOPBACK, link: str = "current") -> None:
        super().__init__((address, 0), PageHandler)
        self.root = root
        self.address = address
        self.link = link  # the version link this server reads: one site can move on alone
        self.etag = False  # also send ETags and answer If-None-Match (bench/throughput.py)
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.thread = threading.Thread(target=self.serve_forever, name="pages", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def take_counts(self) -> dict[int, int]:
        with self.lock:
            counts, self.statuses = self.statuses, {}
        return counts

    def url(self, file: str) -> str:
        return f"http://{self.address}:{self.port}/{quote(file)}"


class Servers:
    """One loopback server per site of a page set (each site on its own 127.x address, so each
    is its own host to the tools), all reading the same version folders."""

    def __init__(self, pages: PageSet) -> None:
        self.pages = pages
        sites = sorted({pages.site_of(f) for f in pages.files})
        self.by_site = {
            site: PageServer(pages.root, pages.address_of(site), link_name(site)) for site in sites
        }

    def start(self) -> None:
        for server in self.by_site.values():
            server.thread.start()

    def stop(self) -> None:
        for server in self.by_site.values():
            server.shutdown()
            server.server_close()

    def url(self, file: str) -> str:
        return self.by_site[self.pages.site_of(file)].url(file)

    def take_counts(self) -> dict[int, int]:
        total: Counter[int] = Counter()
        for server in self.by_site.values():
            total.update(server.take_counts())
        return dict(total)

    def switch(self, version: int, site: str | None = None) -> None:
        """Point every site's link (or one site's) at a version."""
        names = self.by_site if site is None else [site]
        switch_version(self.pages.root, version, *(link_name(name) for name in names))


def link_name(site: str) -> str:
    return f"current-{site}" if site else "current"


def switch_version(root: Path, version: int, *links: str) -> None:
    """Point `current` (or the links given) at v<version>, its files stamped with the current time.

    Waits for the next whole second first: Last-Modified has one-second resolution, and a stamp in
    the same second as a previous check would let a client's If-Modified-Since hide the change.
    """
    now = time.time()
    time.sleep(1.0 - (now % 1.0) + 0.01)
    stamp = time.time()
    target = root / f"v{version}"
    for f in target.iterdir():
        if f.is_file():
            os.utime(f, (stamp, stamp))
    for link in links or ("current",):
        tmp = root / f".{link}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(f"v{version}", tmp)
        os.replace(tmp, root / link)


# ---------------------------------------------------------------------------------------------
# the tools


@dataclass
class Pass:
    """One tool's pass over all pages at one version."""

    version: int
    seconds: float
    alerts: set[str] = field(default_factory=set)  # page files alerted on
    errors: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # page file -> tool's own word
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # page file -> change record
    http: dict[int, int] = field(default_factory=dict)  # status -> requests served in the pass


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without proxies (everything goes to 127.0.0.1 directly) or watcher settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in PROXY_VARS and not k.startswith("WATCHER_")
    }
    env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
    env["BENCH_WORKDIR"] = WORKDIR[0]
    env.update(extra or {})
    return env


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_tool(cmd: list[str], env: dict[str, str], timeout: float, what: str) -> tuple[str, float]:
    start = time.monotonic()
    try:
        # cwd: the work folder, never the repository (python -c would import ./watcher from it)
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=env["BENCH_WORKDIR"]
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{what} did not finish within {timeout:.0f}s") from exc
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-8000:])
        raise BenchError(f"{what} exited {proc.returncode}: {last_line(proc.stderr)}")
    return proc.stdout, seconds


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


class WatcherTool:
    name = "watcher"
    run_dir = "watcher-run"
    settings: tuple[str, ...] = ()  # more [watcher] lines
    relaxed = True  # politeness off (no gap between requests to a host), for engine speed

    def __init__(self, workdir: Path, pages: PageSet, server: Servers, args: argparse.Namespace):
        self.pages = pages
        self.server = server
        self.timeout = args.timeout
        self.config = workdir / self.run_dir / "sources.toml"
        self.config.parent.mkdir(parents=True)
        exe = REPO / ".venv" / "bin" / "watcher"
        self.cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "watcher.cli"]
        self.seen: set[int] = set()
        self.env = clean_env()
        if args.snapshot_code:
            # Others edit watcher/ while the bench runs: run a copy taken now, so that every pass
            # measures the same code. PYTHONPATH comes before the editable install's finder.
            code = workdir / self.run_dir / "code"
            shutil.copytree(
                REPO / "watcher", code / "watcher", ignore=shutil.ignore_patterns("__pycache__")
            )
            self.env = clean_env({"PYTHONPATH": str(code)})
        self.version = self.query_version()
        if args.snapshot_code:
            self.version += f" (code snapshot of {time.strftime('%H:%M:%S')})"
        lines = [
            "[watcher]",
            f"state_dir = {toml_str(str(workdir / self.run_dir / 'state'))}",
            *(('per_host_gap = "0s"', f"concurrency = {args.concurrency}") if self.relaxed else ()),
            'timeout = "20s"',
            *self.settings,
            "",
            "[egress]",
            'allow_cidrs = ["127.0.0.0/8"]',
        ]
        for name, file in pages.names.items():
            lines += ["", "[[source]]", f"name = {toml_str(name)}"]
            lines.append(f"url = {toml_str(server.url(file))}")
        self.config.write_text("\n".join(lines) + "\n")

    def run_check(self, cmd: list[str], what: str) -> tuple[str, float]:
        """Run one pass of the tool: its output and wall seconds (bench/throughput.py measures more)."""
        return run_tool(cmd, self.env, self.timeout, what)

    def query_version(self) -> str:
        probe = "import watcher, sys; print(watcher.__file__, file=sys.stderr)"
        venv_python = REPO / ".venv" / "bin" / "python"
        python = str(venv_python) if venv_python.exists() else sys.executable
        proc = subprocess.run(
            [python, "-c", probe],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.env["BENCH_WORKDIR"],
        )
        self.code_file = proc.stderr.strip()
        out, _ = run_tool([*self.cmd, "--version"], self.env, 60, "watcher --version")
        return out.strip()

    def run_pass(self, version: int) -> Pass:
        cmd = [*self.cmd, "check", "--config", str(self.config), "--no-diff"]
        out, seconds = self.run_check(cmd, f"watcher check (v{version})")
        (self.config.parent / f"check-v{version}.txt").write_text(out)  # kept with --keep
        result = Pass(version, seconds, http=self.server.take_counts())
        for line in out.splitlines():
            m = WATCHER_OUTCOME.match(line)
            file = self.pages.file_of(m.group(2)) if m else None
            if m and file:
                result.outcomes[file] = m.group(1)
                result.errors += m.group(1) == "ERROR"
        cmd = [*self.cmd, "changes", "--config", str(self.config), "--format", "json"]
        out, _ = run_tool(cmd, self.env, self.timeout, f"watcher changes (v{version})")
        try:
            changes = json.loads(out)
        except ValueError as exc:
            raise BenchError(f"watcher changes --format json printed no JSON: {exc}") from exc
        for change in changes:
            if change["id"] in self.seen:
                continue
            self.seen.add(change["id"])
            file = self.pages.file_of(change["source"])
            if file is None:
                raise BenchError(
                    f"watcher reported a change for unknown source {change['source']!r}"
                )
            if change.get("category") == MINOR:
                continue  # recorded, alerted to no one unless a route asks for minor edits
            result.alerts.add(file)
            result.changes[file] = change
        return result


class DaemonTool(WatcherTool):
    """`watcher run`: the daemon checks each site on its own schedule, all of a site's pages in
    one pass; each site is moved to the next version between two of its passes."""

    name = "daemon"
    run_dir = "daemon-run"

    def __init__(self, workdir: Path, pages: PageSet, server: Servers, args: argparse.Namespace):
        # Passes must end well within the interval, so a site can move on between two of them.
        every = getattr(args, "daemon_every", None) or max(10, len(pages.files) // 10)
        self.settings = (f'default_every = "{every}s"', "jitter = 0")
        super().__init__(workdir, pages, server, args)
        self.db = self.config.parent / "state" / "watcher.db"
        self.sites: dict[str, list[str]] = {}
        for name, file in pages.names.items():
            self.sites.setdefault(pages.site_of(file), []).append(name)
        self.marks = dict.fromkeys(self.sites, 0)  # per site: the last check row of its last pass
        self.last_change = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.pass_timeout = max(120.0, args.timeout)

    def start(self) -> None:
        log = (self.config.parent / "daemon.log").open("wb")
        env = {**self.env, "WATCHER_LISTEN": "off"}
        self.proc = subprocess.Popen(
            [*self.cmd, "run", "--config", str(self.config)],
            env=env,
            cwd=self.env["BENCH_WORKDIR"],
            stdout=log,
            stderr=log,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []  # the schema is still being made
        finally:
            conn.close()

    def pass_rows(self, site: str, after: int) -> list[tuple[Any, ...]] | None:
        """The check rows of the site's first complete pass after row `after`, if it has ended."""
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(f"watcher run exited ({self.proc.returncode}); see daemon.log")
        names = self.sites[site]
        marks = ",".join("?" * len(names))
        rows = self.query(
            f"SELECT id, source, outcome FROM checks WHERE id > ? AND source IN ({marks}) "
            "ORDER BY id",
            (after, *names),
        )
        return rows if {r[1] for r in rows} >= set(names) else None

    def wait_passes(self, after: dict[str, int], then: Any = None) -> dict[str, list[Any]]:
        """Wait for a complete pass over every site after its mark, calling `then(site)` the
        moment each one ends (the sites' schedules run side by side)."""
        done: dict[str, list[Any]] = {}
        deadline = time.monotonic() + self.pass_timeout
        while len(done) < len(after):
            if time.monotonic() > deadline:
                missing = ", ".join(sorted(set(after) - set(done))) or "one"
                raise BenchError(f"watcher run made no full pass over site(s) {missing} in time")
            for site, mark in after.items():
                if site not in done and (rows := self.pass_rows(site, mark)) is not None:
                    done[site] = rows
                    if then is not None:
                        then(site)
            time.sleep(0.05)
        return done

    def last_row(self) -> int:
        return int(self.query("SELECT coalesce(max(id), 0) FROM checks")[0][0])

    def switch(self, version: int) -> None:
        if version == 0:
            self.server.switch(0)
            self.start()
            return

        def move(site: str) -> None:
            # Right after a pass over the site ends, its next one is a whole interval away.
            self.server.switch(version, site)
            self.marks[site] = self.last_row()

        now = self.last_row()
        self.wait_passes(dict.fromkeys(self.sites, now), then=move)

    def run_pass(self, version: int) -> Pass:
        t0 = time.monotonic()
        result = Pass(version, 0.0)
        for rows in self.wait_passes(dict(self.marks)).values():
            firsts: dict[str, str] = {}
            for _, source, outcome in rows:
                firsts.setdefault(source, outcome)
            for source, outcome in firsts.items():
                file = self.pages.file_of(source)
                if file:
                    result.outcomes[file] = outcome
                    result.errors += outcome == "error"
        result.seconds = time.monotonic() - t0
        result.http = self.server.take_counts()
        for change_id, source, category in self.query(
            "SELECT id, source, category FROM changes WHERE id > ? ORDER BY id", (self.last_change,)
        ):
            self.last_change = change_id
            file = self.pages.file_of(source)
            if file is None:
                raise BenchError(f"watcher reported a change for unknown source {source!r}")
            if category != MINOR:
                result.alerts.add(file)
        return result


class UrlwatchTool:
    name = "urlwatch"

    def __init__(self, workdir: Path, pages: PageSet, server: Servers, args: argparse.Namespace):
        self.pages = pages
        self.server = server
        self.timeout = args.timeout
        venv = Path(args.urlwatch_venv)
        self.exe = venv / "bin" / "urlwatch"
        ensure_urlwatch(venv)
        self.dir = workdir / "urlwatch-run"
        home = self.dir / "home"  # keeps urlwatch away from the user's own ~/.config/urlwatch
        home.mkdir(parents=True)
        self.env = clean_env(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_CACHE_HOME": str(home / "cache"),
            }
        )
        out, _ = run_tool([str(self.exe), "--version"], self.env, 60, "urlwatch --version")
        self.version = out.strip()
        self.write_config(venv / "bin" / "python")
        jobs = []
        for name, file in pages.names.items():
            jobs.append(
                f"name: {json.dumps(name)}\nurl: {json.dumps(server.url(file))}\n"
                "filter:\n  - html2text\ntimeout: 20\n"
            )
        (self.dir / "urls.yaml").write_text("---\n".join(jobs))

    def run_check(self, cmd: list[str], what: str) -> tuple[str, float]:
        """Run one pass of the tool: its output and wall seconds (bench/throughput.py measures more)."""
        return run_tool(cmd, self.env, self.timeout, what)

    def write_config(self, python: Path) -> None:
        """urlwatch's defaults with every reporter off but stdout, which prints one line per job."""
        script = (
            "import copy, json\n"
            "from urlwatch.storage import DEFAULT_CONFIG\n"
            "c = copy.deepcopy(DEFAULT_CONFIG)\n"
            "for kind, rep in c['report'].items():\n"
            "    if isinstance(rep, dict) and 'enabled' in rep:\n"
            "        rep['enabled'] = kind == 'stdout'\n"
            "c['report']['stdout']['color'] = False\n"
            "c['report']['text'].update(minimal=True, details=False, footer=False)\n"
            "c['display'].update(new=True, error=True, unchanged=False)\n"
            "print(json.dumps(c))\n"
        )
        out, _ = run_tool([str(python), "-c", script], self.env, 60, "urlwatch config")
        (self.dir / "urlwatch.yaml").write_text(out)  # JSON is YAML

    def run_pass(self, version: int) -> Pass:
        cmd = [str(self.exe)]
        for flag, file in (
            ("--urls", "urls.yaml"),
            ("--config", "urlwatch.yaml"),
            ("--hooks", "hooks.py"),  # absent on purpose: no hooks
            ("--cache", "cache.db"),
        ):
            cmd += [flag, str(self.dir / file)]
        out, seconds = self.run_check(cmd, f"urlwatch (v{version})")
        (self.dir / f"report-v{version}.txt").write_text(out)  # kept with --keep
        result = Pass(version, seconds, http=self.server.take_counts())
        for line in out.splitlines():
            m = URLWATCH_LINE.match(line.strip())
            file = self.pages.file_of(m.group(2)) if m else None
            if not (m and file):
                continue
            verb = m.group(1)
            result.outcomes[file] = verb
            result.errors += verb == "ERROR"
            if verb == "CHANGED":
                result.alerts.add(file)
        return result


def ensure_urlwatch(venv: Path) -> None:
    """Create the urlwatch venv and install urlwatch into it, only when it is not there yet."""
    if (venv / "bin" / "urlwatch").exists():
        return
    print(f"installing urlwatch into {venv} ...", file=sys.stderr)
    if not (venv / "bin" / "python").exists():
        python3 = shutil.which("python3") or sys.executable
        proc = subprocess.run([python3, "-m", "venv", str(venv)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise BenchError(f"could not create {venv}: {last_line(proc.stderr)}")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    proc = subprocess.run(
        [*pip, "--quiet", "urlwatch", "html2text"], capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0 or not (venv / "bin" / "urlwatch").exists():
        raise BenchError(f"pip install urlwatch html2text failed: {last_line(proc.stderr)}")


# ---------------------------------------------------------------------------------------------
# scoring and reporting


@dataclass
class Score:
    alerts: int = 0
    true: int = 0
    false: int = 0
    missed: int = 0

    @property
    def precision(self) -> float:
        return self.true / self.alerts if self.alerts else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true + self.missed
        return self.true / relevant if relevant else 1.0

    def add(self, other: "Score") -> None:
        self.alerts += other.alerts
        self.true += other.true
        self.false += other.false
        self.missed += other.missed


def score_pass(p: Pass, truth: set[str]) -> Score:
    return Score(len(p.alerts), len(p.alerts & truth), len(p.alerts - truth), len(truth - p.alerts))


def tool_figures(passes: list[Pass], pages: PageSet) -> dict[str, Any]:
    total = Score()
    per_version = []
    for p in passes:
        s = score_pass(p, pages.truth[p.version])
        total.add(s)
        per_version.append(
            {
                "version": p.version,
                "real_changes": len(pages.truth[p.version]),
                "alerts": s.alerts,
                "true": s.true,
                "false": s.false,
                "missed": s.missed,
                "errors": p.errors,
                "seconds": round(p.seconds, 3),
                "http": {str(k): v for k, v in sorted(p.http.items())},
                "outcomes": dict(sorted(Counter(p.outcomes.values()).items())),
            }
        )
    return {
        "alerts": total.alerts,
        "true": total.true,
        "false": total.false,
        "missed": total.missed,
        "precision": round(total.precision, 4),
        "recall": round(total.recall, 4),
        "errors": sum(p.errors for p in passes),
        "seconds_per_pass": round(sum(p.seconds for p in passes) / max(len(passes), 1), 3),
        "per_version": per_version,
    }


def print_table(figures: dict[str, Any], verbose: bool) -> None:
    cfg = figures["config"]
    fraction = f"{cfg['fraction'] * 100:g}% real edits" if cfg["fraction"] is not None else ""
    real = sum(cfg["truth_counts"].values())
    head = f"signal benchmark: {cfg['pages']} pages x {cfg['versions']} versions, "
    head += f"{fraction or f'{real} real edits'}, inside-noise={cfg['inside_noise']}"
    if cfg["pages_dir"]:
        head += f", pages from {cfg['pages_dir']}"
    print(head)
    print(
        f"{'tool':<9} {'alerts':>6} {'true':>5} {'false':>6} {'missed':>7} "
        f"{'precision':>10} {'recall':>7} {'seconds/pass':>13}  errors"
    )
    for tool, t in figures["tools"].items():
        print(
            f"{tool:<9} {t['alerts']:>6} {t['true']:>5} {t['false']:>6} {t['missed']:>7} "
            f"{t['precision']:>10.3f} {t['recall']:>7.3f} {t['seconds_per_pass']:>13.1f}  {t['errors']}"
        )
    if not verbose:
        return
    print()
    print(f"{'tool':<9} {'version':<7} {'real':>5} {'alerts':>6} {'true':>5} {'false':>6} ", end="")
    print(f"{'missed':>7} {'errors':>6} {'seconds':>8}  http; outcomes")
    for tool, t in figures["tools"].items():
        for v in t["per_version"]:
            http = " ".join(f"{k}x{n}" for k, n in v["http"].items())
            http += "; " + ", ".join(f"{k} {n}" for k, n in v["outcomes"].items())
            print(
                f"{tool:<9} v{v['version']:<6} {v['real_changes']:>5} {v['alerts']:>6} {v['true']:>5} "
                f"{v['false']:>6} {v['missed']:>7} {v['errors']:>6} {v['seconds']:>8.1f}  {http}"
            )


def first_lines(value: Any, limit: int) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).splitlines()
    out = []
    for item in items[:limit]:
        text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
        text = " ".join(text.split())
        out.append(text if len(text) <= 150 else text[:147] + "...")
    return out


def show_false(passes: list[Pass], pages: PageSet, limit: int) -> None:
    """Up to `limit` false alerts (with the start of their diff) and missed pages of watcher."""
    false, missed = [], []
    for p in passes:
        truth = pages.truth[p.version]
        false += [(p, f) for f in sorted(p.alerts - truth, key=natural_key)]
        missed += [(p, f) for f in sorted(truth - p.alerts, key=natural_key)]
    print()
    print(f"watcher false alerts: {len(false)} (showing {min(limit, len(false))})")
    for p, f in false[:limit]:
        change = p.changes.get(f, {})
        print(f"  v{p.version} {f}: {change.get('summary') or ''}")
        for line in first_lines(change.get("removed"), 3):
            print(f"      - {line}")
        for line in first_lines(change.get("added"), 3):
            print(f"      + {line}")
    print(f"watcher missed changes: {len(missed)} (showing {min(limit, len(missed))})")
    for p, f in missed[:limit]:
        print(f"  v{p.version} {f}: watcher said {p.outcomes.get(f, 'nothing')!r}")


# ---------------------------------------------------------------------------------------------
# main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench/signal_quality.py",
        description="Alert precision and recall of watcher against urlwatch on generated noisy pages.",
    )
    ap.add_argument("--n", type=int, default=500, help="pages per version (default 500)")
    ap.add_argument(
        "--versions", type=int, default=None, help="versions incl. baseline (default 4)"
    )
    ap.add_argument(
        "--fraction", type=float, default=0.1, help="share of pages really edited (0.1)"
    )
    ap.add_argument("--salt", default="bench", help="generator salt (default 'bench')")
    ap.add_argument(
        "--inside-noise", action="store_true", help="volatile blocks inside the article too"
    )
    ap.add_argument(
        "--generator",
        default=str(DEFAULT_GENERATOR),
        help="make_pages.py (default ../shared/pages/make_pages.py from the repository root)",
    )
    ap.add_argument(
        "--pages",
        metavar="DIR",
        help="use this replay set (v0.., truth.json) instead of generating",
    )
    ap.add_argument("--workdir", metavar="DIR", help="work here (must be absent or empty)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder at the end")
    ap.add_argument(
        "--tools",
        default="watcher,urlwatch",
        help="comma-separated: watcher (watcher check per version), daemon (watcher run, its "
        "passes over each site), urlwatch (default watcher,urlwatch)",
    )
    ap.add_argument(
        "--urlwatch-venv",
        default=str(DEFAULT_URLWATCH_VENV),
        help="venv holding urlwatch (created when absent)",
    )
    ap.add_argument(
        "--snapshot-code",
        action="store_true",
        help="run a copy of watcher/ taken at the start (others may be editing it)",
    )
    ap.add_argument("--concurrency", type=int, default=8, help="watcher's concurrency (8)")
    ap.add_argument(
        "--timeout", type=float, default=None, help="seconds a tool's pass may take (auto)"
    )
    ap.add_argument("--verbose", "-v", action="store_true", help="per-version figures")
    ap.add_argument(
        "--show-false", type=int, default=0, metavar="N", help="list N false/missed for watcher"
    )
    ap.add_argument("--json", metavar="PATH", help="write the figures as JSON here")
    args = ap.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not tools or set(tools) - {"watcher", "daemon", "urlwatch"}:
        ap.error("--tools takes watcher, daemon and urlwatch, comma-separated")
    args.tools = tools
    if args.pages is None:
        args.versions = 4 if args.versions is None else args.versions
        if args.n < 1 or args.versions < 2 or not 0 <= args.fraction <= 1:
            ap.error("need --n >= 1, --versions >= 2 and 0 <= --fraction <= 1")
    if args.timeout is None:
        args.timeout = max(300.0, args.n * 1.0)
    return args


def make_workdir(args: argparse.Namespace) -> Path:
    if args.workdir is None:
        return Path(tempfile.mkdtemp(prefix="signal-bench-"))
    workdir = Path(args.workdir).expanduser().resolve()
    if workdir.exists() and any(workdir.iterdir()):
        raise BenchError(f"--workdir {workdir} is not empty; give an absent or empty folder")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    if args.pages:
        root = Path(args.pages).expanduser().resolve()
        pages = load_pages(root, args.versions)
    else:
        root = workdir / "pages"
        if not Path(args.generator).expanduser().is_file():
            raise BenchError(
                f"page generator not found at {args.generator}; pass --generator PATH to make_pages.py"
            )
        print(f"generating {args.n} pages x {args.versions} versions ...", file=sys.stderr)
        generate_pages(args, root)
        pages = load_pages(root, None)
    if pages.versions < 2:
        raise BenchError(f"{root} holds {pages.versions} version(s); need v0 and at least v1")
    links = {name: root / name for name in ("current", *(link_name(x) for x in pages.hosts))}
    old_links = {n: os.readlink(p) for n, p in links.items() if p.is_symlink()}
    server = Servers(pages)
    server.start()
    tools: list[Any] = []
    try:
        if "watcher" in args.tools:
            tools.append(WatcherTool(workdir, pages, server, args))
        if "daemon" in args.tools:
            tools.append(DaemonTool(workdir, pages, server, args))
        if "urlwatch" in args.tools:
            tools.append(UrlwatchTool(workdir, pages, server, args))
        passes: dict[str, list[Pass]] = {t.name: [] for t in tools}
        stamp = code_stamp()
        for v in range(pages.versions):
            daemon = next((t for t in tools if t.name == "daemon"), None)
            if daemon is not None:
                daemon.switch(v)  # each site between two of the daemon's passes over it
            else:
                server.switch(v)
            server.take_counts()
            for tool in tools:
                p = tool.run_pass(v)
                passes[tool.name].append(p)
                expected = len(pages.files) if tool.name != "urlwatch" or v == 0 else None
                if expected is not None and len(p.outcomes) != expected:
                    print(
                        f"  warning: {tool.name} reported on {len(p.outcomes)} of {expected} pages"
                        f" at v{v}; its output format may have changed",
                        file=sys.stderr,
                    )
                print(
                    f"  v{v} {tool.name}: {len(p.alerts)} alerts, {p.errors} errors, "
                    f"{p.seconds:.1f}s",
                    file=sys.stderr,
                )
        code_changed = code_stamp() != stamp and not args.snapshot_code
        if code_changed:
            print(
                "  warning: watcher's code changed during the run; its figures mix versions",
                file=sys.stderr,
            )
    finally:
        for tool in tools:
            if hasattr(tool, "stop"):
                tool.stop()
        server.stop()
        if args.pages:
            for name, target in old_links.items():
                tmp = root / f".{name}.tmp"
                if tmp.is_symlink():
                    tmp.unlink()
                os.symlink(target, tmp)
                os.replace(tmp, links[name])
    return {
        "config": {
            "pages": len(pages.files),
            "versions": pages.versions,
            "fraction": None if args.pages else args.fraction,
            "salt": None if args.pages else args.salt,
            "inside_noise": "yes" if args.inside_noise else "unknown" if args.pages else "no",
            "pages_dir": str(root) if args.pages else None,
            "truth_counts": {f"v{v}": len(t) for v, t in pages.truth.items()},
        },
        "versions": {t.name: t.version for t in tools},
        "watcher_code_changed_during_run": code_changed,
        "watcher_code": next((t.code_file for t in tools if t.name == "watcher"), None),
        "tools": {name: tool_figures(ps, pages) for name, ps in passes.items()},
        "_passes": passes,
        "_pages": pages,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    workdir: Path | None = None
    try:
        workdir = make_workdir(args)
        WORKDIR[0] = str(workdir)
        figures = run(args, workdir)
        passes, pages = figures.pop("_passes"), figures.pop("_pages")
        print(file=sys.stderr)
        print_table(figures, args.verbose)
        print("tools: " + ", ".join(figures["versions"].values()))
        if args.verbose and figures["watcher_code"]:
            print(f"watcher code: {figures['watcher_code']}")
        if figures["watcher_code_changed_during_run"]:
            print("note: watcher's code changed during the run; its figures mix versions")
        if args.show_false and "watcher" in passes:
            show_false(passes["watcher"], pages, args.show_false)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
        return 0
    except BenchError as exc:
        print(f"signal: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("signal: interrupted", file=sys.stderr)
        return 130
    finally:
        if workdir is not None:
            if args.keep:
                print(f"work folder kept: {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
