"""What the state database costs: bytes per pass, per changed snapshot and per check row, by table;
and the time to write check records one transaction each against one batch.

Generates N ~50 KB pages with ../shared/pages/make_pages.py (10% really edited per version, noise
in every version), serves them from a loopback server, and runs the real `watcher check` over
them: a baseline pass (v0), an unchanged pass (v0 again, same bytes) and a changed pass (v1).
After each pass the WAL is checkpointed (TRUNCATE) and the file measured; `dbstat` splits the
pages by table and index. Figures only; nothing is asserted.

    .venv/bin/python bench/storage.py --pages 500
    .venv/bin/python bench/storage.py --pages 2000 --writes 2000
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAKE_PAGES = Path(__file__).resolve().parents[2] / "shared" / "pages" / "make_pages.py"
WATCHER = Path(sys.executable).with_name("watcher")


class Pages:
    """OUTDIR/<version>/pN.html served on 127.0.0.1; `version` picks which one answers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.version = "v0"
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = pages.root / pages.version / self.path.lstrip("/")
                body = path.read_bytes() if path.is_file() else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def write_config(path: Path, port: int, n: int) -> None:
    lines = [
        "[watcher]",
        'state_dir = "state"',
        'per_host_gap = "0s"',
        "concurrency = 16",
        'timeout = "30s"',
        "[egress]",
        'allow_cidrs = ["127.0.0.0/8"]',
    ]
    for i in range(n):
        lines += ["[[source]]", f'name = "p{i}"', f'url = "http://127.0.0.1:{port}/p{i}.html"']
    path.write_text("\n".join(lines) + "\n")


def measure(db: Path) -> dict[str, Any]:
    """File size with the WAL folded in, bytes by table (indexes and FTS shadows under their
    own names), and row counts of the tables a pass writes."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        by_table = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("checks", "snapshots", "changes", "volatility", "outbox")
        }
        columns = conn.execute(
            "SELECT avg(length(CAST(text AS BLOB))), avg(length(paths)), "
            + ("avg(length(ztext)), avg(length(zpaths)) " if _has(conn, "ztext") else "0, 0 ")
            + "FROM snapshots"
        ).fetchone()
    finally:
        conn.close()
    return {"size": db.stat().st_size, "tables": by_table, "rows": counts, "columns": columns}


def _has(conn: sqlite3.Connection, column: str) -> bool:
    return any(r[1] == column for r in conn.execute("PRAGMA table_info(snapshots)"))


def run_pass(config: Path, label: str) -> float:
    t0 = time.monotonic()
    done = subprocess.run(
        [str(WATCHER), "check", "--config", str(config)], capture_output=True, text=True
    )
    if done.returncode not in (0, 1):
        sys.exit(f"{label}: watcher check failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.monotonic() - t0


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB"


def print_growth(before: dict[str, Any], after: dict[str, Any]) -> None:
    names = sorted(set(before["tables"]) | set(after["tables"]))
    grown = [(n, after["tables"].get(n, 0) - before["tables"].get(n, 0)) for n in names]
    for name, delta in sorted(grown, key=lambda g: -g[1]):
        if delta:
            print(f"    {name:<32} {kb(delta):>12}")


def storage(n: int, keep: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(
            [sys.executable, str(MAKE_PAGES), str(root / "pages"), str(n), "2", "0.1", "bench"],
            check=True,
        )
        raw = sum(f.stat().st_size for f in (root / "pages" / "v1").iterdir()) / n
        server = Pages(root / "pages")
        config = root / "sources.toml"
        write_config(config, server.port, n)
        db = root / "state" / "watcher.db"
        print(f"{n} pages, {kb(raw)} raw on average; sqlite {sqlite3.sqlite_version}")
        figures = {
            "empty": {
                "size": 0,
                "tables": {},
                "rows": dict.fromkeys(
                    ("checks", "snapshots", "changes", "volatility", "outbox"), 0
                ),
            }
        }
        previous = figures["empty"]
        for label, version in (("baseline", "v0"), ("unchanged", "v0"), ("changed", "v1")):
            server.version = version
            seconds = run_pass(config, label)
            now = measure(db)
            # Pages in use (dbstat), not the file: a pass may reuse pages an earlier one freed.
            added = sum(now["tables"].values()) - sum(previous["tables"].values())
            rows = {t: now["rows"][t] - previous["rows"][t] for t in now["rows"]}
            print(
                f"\n{label} pass ({seconds:.1f} s): DB file {kb(now['size'])}, pages in use "
                f"{kb(sum(now['tables'].values()))} (+{kb(added)}); rows added "
                + ", ".join(f"{t} {v}" for t, v in rows.items())
            )
            if rows["snapshots"]:
                per = added / rows["snapshots"]
                print(
                    f"  per new snapshot (all rows of the pass, FTS included): {kb(per)} "
                    f"= {100 * per / raw:.1f}% of the raw page"
                )
                snap = sum(
                    now["tables"].get(t, 0) - previous["tables"].get(t, 0)
                    for t in now["tables"]
                    if t.startswith("snapshots")
                )
                print(
                    f"  snapshot rows + search index alone: {kb(snap / rows['snapshots'])} "
                    f"= {100 * snap / rows['snapshots'] / raw:.1f}% of the raw page"
                )
            text, paths, ztext, zpaths = (round(v or 0) for v in now["columns"])
            print(
                f"  snapshot columns on average: text {text} B, ztext {ztext} B, "
                f"paths {paths} B, zpaths {zpaths} B"
            )
            if rows["checks"]:
                checks = sum(
                    now["tables"].get(t, 0) - previous["tables"].get(t, 0)
                    for t in ("checks", "checks_source_time")
                )
                print(f"  per check row (table and index): {checks / rows['checks']:.0f} bytes")
            print_growth(previous, now)
            previous = now
        server.httpd.shutdown()
        if keep:
            shutil.copyfile(db, keep)


def writes(n: int) -> None:
    """Time n check records written one transaction each, then n in one batch."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from watcher.models import CheckResult, Outcome, Snapshot, Source, Validators
    from watcher.pipeline import digest
    from watcher.store import Store

    now = datetime(2026, 11, 29, tzinfo=UTC)
    sources = [
        Source(name=f"p{i}", url=f"https://example.org/{i}", every=timedelta(hours=6))
        for i in range(n)
    ]
    text = "\n".join(f"Paragraph {k} of a page about children's social care." for k in range(120))

    def record_all(store: Store, tag: str) -> None:
        for s in sources:
            body = f"{tag}:{s.name}\n{text}"
            result = CheckResult(s.name, Outcome.baseline, now, 5, 200, len(body))
            store.record(
                result,
                snapshot=Snapshot(hash=digest(body), title=s.name, text=body),
                validators=Validators(etag=f'"{tag}"'),
                body_hash=digest(body.encode()),
            )

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "one")
        store.sync_sources(sources, now)
        t0 = time.perf_counter()
        record_all(store, "one")
        alone = time.perf_counter() - t0
        store.close()
        store = Store.open(Path(tmp) / "batched")
        store.sync_sources(sources, now)
        batch = getattr(store, "batch", None)
        if batch is None:
            print(
                f"\n{n} records one by one: {alone:.2f} s ({1000 * alone / n:.2f} ms each); no Store.batch() here"
            )
            return
        t0 = time.perf_counter()
        with batch():
            record_all(store, "batched")
        together = time.perf_counter() - t0
        store.close()
    print(
        f"\n{n} records (WAL, synchronous=NORMAL): one transaction each {alone:.2f} s "
        f"({1000 * alone / n:.2f} ms each); in one batch {together:.2f} s "
        f"({1000 * together / n:.2f} ms each), {alone / together:.1f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages per pass (0: skip)")
    parser.add_argument("--writes", type=int, default=2000, help="records to time (0: skip)")
    parser.add_argument("--keep", type=Path, help="copy the state database here at the end")
    args = parser.parse_args()
    if args.pages:
        storage(args.pages, args.keep)
    if args.writes:
        writes(args.writes)


if __name__ == "__main__":
    main()
