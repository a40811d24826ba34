"""kill -9 soak: random SIGKILLs across `watcher check` and the daemon, often two runners at once on
one state, against loopback pages that keep changing. Bounded: --kills (default 200).

Each round edits one page (a new paragraph with a unique token) once the previous edit has been
seen (stored in a page version), starts one or two runners (`check` or `run`), kills them at a
random moment, and goes on. At the end a clean `watcher check` settles what is due, then it prints:

- PRAGMA integrity_check;
- edits made vs. changes stored: each edit must be in exactly one change. An edit the volatility
  rules judged noise is stored as a page version without a change; it is counted apart
  (`edits_judged_volatile`), since that is signal quality, not crash safety;
- alerts per change at the loopback receiver (exactly one, but for at most one extra per kill
  that landed between a send and its commit);
- how often a second runner was refused by the state lock.

Exit 0 when the crash-safety invariants hold: integrity ok, no edit in two changes, no edit lost
without a stored page version, every change alerted, extra alerts at most one per kill.

    .venv/bin/python bench/soak.py --kills 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = re.compile(r"soak-edit-(\d+)")


class QuietServer(ThreadingHTTPServer):
    """A killed runner drops its connection mid-request: expected here, not worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Site:
    """Pages on 127.0.0.1 and a json:// receiver counting each edit token it is sent."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.received: Counter[int] = Counter()
        self.posts = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    body = site.pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with site.lock:
                    site.posts += 1
                    for token in set(TOKEN.findall(data.decode("utf-8", "replace"))):
                        site.received[int(token)] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, path: str, paragraphs: list[str]) -> None:
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        html = f"<html><head><title>{path}</title></head><body><main><h1>Page {path}</h1>{body}</main></body></html>"
        with self.lock:
            self.pages[path] = html


def config(root: Path, site: Site, pages: int) -> Path:
    lines = [
        "[watcher]",
        'state_dir = "state"',
        'per_host_gap = "0s"',
        'timeout = "5s"',
        'alert_hold = "0s"',
        "storm_min_sources = 100000",  # one alert per change, so each is counted on its own
        "failing_after = 1000",
        "[egress]",
        'allow_cidrs = ["127.0.0.0/8"]',
        "[web]",
        'listen = "off"',
        "[[notify]]",
        'name = "hook"',
        'env = "SOAK_HOOK_URL"',
    ]
    for n in range(pages):
        lines += ["[[source]]", f'name = "p{n}"', f'url = "http://127.0.0.1:{site.port}/p{n}"']
        lines.append('every = "10s"')
    path = root / "sources.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def stored_tokens(db: Path, sql: str = "SELECT diff FROM changes") -> Counter[int]:
    """Edit tokens in the rows `sql` selects (changes by default): how many rows carry each."""
    if not db.exists():
        return Counter()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return Counter()
    finally:
        conn.close()
    found: Counter[int] = Counter()
    for (text,) in rows:
        for token in set(TOKEN.findall(text or "")):
            found[int(token)] += 1
    return found


SEEN = "SELECT text FROM snapshots"  # page versions: an edit is seen once one holds it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    site = Site()
    root = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    texts = {
        n: [f"Page {n} says what it has always said about kinship care."] for n in range(args.pages)
    }
    for n, paragraphs in texts.items():
        site.set(f"/p{n}", paragraphs)
    cfg = config(root, site, args.pages)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["SOAK_HOOK_URL"] = f"json://127.0.0.1:{site.port}/hook"
    watcher = [sys.executable, "-m", "watcher.cli"]
    db = root / "state" / "watcher.db"
    subprocess.run(
        [*watcher, "check", "--config", str(cfg)], env=env, capture_output=True, check=True
    )

    edits = 0
    refused = 0
    started = time.monotonic()
    for kill in range(args.kills):
        if edits == 0 or stored_tokens(db, SEEN)[edits - 1] > 0:
            page = rng.randrange(args.pages)
            texts[page].append(
                f"soak-edit-{edits}: a grant of £{edits + 1},000 opens for page {page}."
            )
            site.set(f"/p{page}", texts[page])
            edits += 1
        kinds = ["check"] if rng.random() < 0.6 else ["run"]
        if rng.random() < 0.3:  # a second runner on the same state at once
            kinds.append(rng.choice(["check", "run"]))
        procs = [
            subprocess.Popen(
                [*watcher, kind, "--config", str(cfg)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for kind in kinds
        ]
        time.sleep(rng.uniform(0.2, 3.0 if "check" in kinds[:1] else 14.0))
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate()
            refused += proc.returncode == 2 and b"is in use by" in err
        if kill % 20 == 19:
            print(
                f"{kill + 1} kills, {edits} edits, {time.monotonic() - started:.0f} s", flush=True
            )

    # Settle: clean passes until every edit is stored and nothing is left to send.
    for _ in range(10):
        subprocess.run([*watcher, "check", "--config", str(cfg)], env=env, capture_output=True)
        conn = sqlite3.connect(db)
        pending = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        conn.close()
        if pending == 0 and all(stored_tokens(db, SEEN)[e] for e in range(edits)):
            break
    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    dead = conn.execute("SELECT count(*) FROM outbox WHERE status = 'dead'").fetchone()[0]
    conn.close()
    changes = stored_tokens(db)
    seen = stored_tokens(db, SEEN)
    changed = [e for e in range(edits) if changes[e]]
    per_change = Counter(site.received[e] for e in changed)
    extra = sum(max(0, site.received[e] - 1) for e in changed)
    result = {
        "kills": args.kills,
        "integrity_check": integrity,
        "edits": edits,
        "changes_with_an_edit": sum(1 for e in range(edits) if changes[e] == 1),
        "edits_in_more_than_one_change": sum(1 for e in range(edits) if changes[e] > 1),
        "edits_judged_volatile": sum(1 for e in range(edits) if seen[e] and not changes[e]),
        "edits_lost": sum(1 for e in range(edits) if not seen[e]),
        "alerts_per_change": dict(sorted(per_change.items())),
        "extra_alerts": extra,
        "dead_alerts": dead,
        "second_runner_refused_by_lock": refused,
        "seconds": round(time.monotonic() - started),
    }
    print(json.dumps(result, indent=2))
    ok = (
        integrity == "ok"
        and result["edits_in_more_than_one_change"] == 0
        and result["edits_lost"] == 0
        and 0 not in per_change
        and extra <= args.kills
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
