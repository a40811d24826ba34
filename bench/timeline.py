"""How fast the web timeline answers with 100,000 changes stored (target: 200 ms).

Fills a temporary state database through the real schema (Store, migrations, FTS triggers) with
synthetic changes in one bulk transaction, starts the web app with uvicorn on 127.0.0.1, and
times real HTTP requests: the first page, filtered by category, by review state, by tag, a deep
page, and a search. Prints median and p95 per view. A measurement, not a test.

    .venv/bin/python bench/timeline.py [--changes 100000] [--requests 30]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The repo root, not bench/, first on the path: bench/signal.py would shadow the standard module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from tests.conftest import free_port, write_config  # noqa: E402
from watcher.classify.rules import LABELS  # noqa: E402
from watcher.config import load_config  # noqa: E402
from watcher.store import REVIEW_STATES, Store  # noqa: E402
from watcher.web.app import create_app  # noqa: E402

TARGET_MS = 200
WORDS = [
    "kinship",
    "care",
    "allowance",
    "consultation",
    "guidance",
    "local",
    "authority",
    "fostering",
    "residential",
    "children",
    "social",
    "reform",
    "funding",
    "strategy",
    "report",
    "statutory",
    "review",
    "placement",
    "family",
    "support",
    "outcome",
    "response",
    "legislation",
    "workforce",
    "ofsted",
    "commissioning",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."


def fill(store: Store, count: int, sources: int, rng: random.Random) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with store._write() as c:
        c.executemany(
            "INSERT OR IGNORE INTO snapshots (hash, title, text, created_at) VALUES (?,?,?,?)",
            [(f"{i:064x}", f"Page {i}", sentence(rng), start.isoformat()) for i in range(2)],
        )
        check = c.execute(
            "INSERT INTO checks (source, started_at, duration_ms, outcome) VALUES ('s0', ?, 1, 'changed')",
            (start.isoformat(),),
        ).lastrowid
        rows = []
        for i in range(count):
            added = [sentence(rng) for _ in range(rng.randint(1, 3))]
            evidence = {
                "categories": [
                    {"label": rng.choice(LABELS), "confidence": 0.7, "sentence": added[0]}
                ],
                "sentences": added[:1],
                "facts": [],
            }
            rows.append(
                (
                    f"source-{rng.randrange(sources)}",
                    "https://www.gov.uk/x",
                    (start + timedelta(minutes=7 * i)).isoformat(timespec="milliseconds"),
                    f"{0:064x}",
                    f"{1:064x}",
                    check,
                    f"Page title {i}",
                    f"{len(added)} blocks added: {added[0][:80]}",
                    evidence["categories"][0]["label"],
                    json.dumps(added),
                    "[]",
                    json.dumps([{"op": "insert", "before": [], "after": added, "words": []}]),
                    json.dumps(evidence),
                    rng.choice((None, None, None, *REVIEW_STATES)),
                )
            )
        c.executemany(
            "INSERT INTO changes (source, url, detected_at, before_hash, after_hash, check_id, "
            "title, summary, category, added, removed, diff, evidence, review_state) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=60)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        sources = [
            {"name": f"source-{i}", "url": f"https://www.gov.uk/p{i}", "tags": [f"t{i % 5}"]}
            for i in range(args.sources)
        ]
        config = load_config(write_config(Path(tmp) / "sources.toml", sources), environ={})
        store = Store.open(config.settings.state_dir)
        store.sync_sources(config.sources, datetime.now(UTC))
        began = time.perf_counter()
        fill(store, args.changes, args.sources, rng)
        store.conn.execute("ANALYZE")
        print(f"filled {args.changes:,} changes in {time.perf_counter() - began:.1f} s")
        store.close()

        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        views = {
            "timeline, first page": "/",
            "filtered by category": "/?category=consultation_open",
            "filtered by review state": "/?review=unreviewed",
            "filtered by tag": "/?tag=t3",
            "category + source + dates": "/?category=funding&source=source-4&from=2024-03-01&to=2024-09-30",
            "page 500": "/?page=500",
            "search": "/search?q=kinship+allowance",
            "API, first page": "/api/changes",
        }
        print(f"{'view':<28} {'median ms':>10} {'p95 ms':>8}  target {TARGET_MS} ms")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for name, path in views.items():
                client.get(path).raise_for_status()  # warm the page cache
                times = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                p95 = times[max(0, int(len(times) * 0.95) - 1)]
                mark = "ok" if p95 <= TARGET_MS else "SLOW"
                print(f"{name:<28} {statistics.median(times):>10.1f} {p95:>8.1f}  {mark}")
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
