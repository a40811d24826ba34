"""Offline demo: sector-style pages served on 127.0.0.1 change while the real daemon watches them.

Within a minute you see a baseline taken, rotating sidebars ignored, a real edit detected, its
diff printed, and the alert email arriving at a local mail catcher. Nothing leaves this machine.

Run with `make demo`.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "demo" / "pages"  # short pages written for the demo, in the style of sector news
# WATCHER_DEMO_STATE: another directory for the demo's state (the tests run the demo there).
STATE = Path(os.environ.get("WATCHER_DEMO_STATE") or ROOT / "state" / "demo")
WATCHER = [sys.executable, "-m", "watcher.cli"]
EVERY = 10  # seconds between checks of each page
EDIT_AT = 15  # seconds after start when the pages change
DEADLINE = 75  # give up after this long
YEAR = re.compile(r"\b20[0-9]{2}\b")
# Every date the demo's pages state is set from the day it runs, so that the consultation it
# announces still lies ahead (and `watcher deadlines` lists it) whenever the demo is run.
TODAY = datetime.now(UTC).date()


def shown(path: Path) -> str:
    """A path as the reader would type it from the repository, when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def spoken(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def stamp(days_ago: int) -> str:
    return f"{TODAY - timedelta(days=days_ago):%Y-%m-%d}T09:00:00Z"


EDIT = (
    "Update: the Department for Education has confirmed that the consultation on the "
    f"National Framework now closes on {spoken(TODAY + timedelta(days=42))}, and £45 million of "
    "new funding was announced."
)
# The sector's news feed: two older entries, and after the edit a new one, a consultation.
FEED_ENTRIES = [
    ("/news/annual-report.html", "Our annual report is out", stamp(58)),
    ("/news/conference.html", "Highlights from our autumn conference", stamp(24)),
]
NEW_ENTRY = (
    "/news/kinship-consultation.html",
    "Government consults on a kinship allowance",
    stamp(0),
)
NEW_PAGE = [
    "Government consults on a kinship allowance",
    "The Department for Education has launched a consultation on a new allowance for kinship "
    "carers who raise children unable to live with their parents.",
    "The consultation asks whether the allowance should be paid at the same rate as the "
    "fostering allowance, and how local authorities should assess eligibility.",
    f"Responses can be sent online. The consultation closes on {spoken(TODAY + timedelta(days=84))}.",
]


def say(text: str) -> None:
    print(f"\033[1m[demo]\033[0m {text}" if sys.stdout.isatty() else f"[demo] {text}", flush=True)


def paragraphs(path: Path) -> list[str]:
    return [p.strip() for p in path.read_text(encoding="utf-8").splitlines() if len(p.strip()) > 40]


class Replay:
    """Serves each demo text as a full page; sidebars rotate on every request, the article only on `edit()`."""

    def __init__(self) -> None:
        self.pages = {
            f"/page-{i}.html": paragraphs(p) for i, p in enumerate(sorted(PAGES.glob("*.txt")))
        }
        self.edited = False
        self.counter = itertools.count()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/news.rss":
                    self.reply(replay.feed().encode("utf-8"), "application/rss+xml")
                    return
                if self.path == NEW_ENTRY[0] or self.path in {e[0] for e in FEED_ENTRIES}:
                    page = NEW_PAGE if self.path == NEW_ENTRY[0] else [self.path, "An older story."]
                    self.reply(replay.render(self.path, page).encode("utf-8"), "text/html")
                    return
                paras = replay.pages.get(self.path)
                if paras is None:
                    self.send_error(404)
                    return
                self.reply(replay.render(self.path, paras).encode("utf-8"), "text/html")

            def reply(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def render(self, path: str, paras: list[str]) -> str:
        n = next(self.counter)
        shown = list(paras)
        if self.edited and path == "/page-0.html":
            shown.insert(2, EDIT)
        if self.edited and path == "/page-3.html":
            shown = [
                YEAR.sub(lambda m: str(int(m.group(0)) + 1), p, count=1)
                if i == self.dated(paras)
                else p
                for i, p in enumerate(shown)
            ]
        title = html.escape(shown[0][:90])
        article = "\n".join(f"<p>{html.escape(p)}</p>" for p in shown[1:])
        popular = "".join(
            f"<li><a href='/story/{n + k}'>Most read story #{n + k}</a></li>" for k in range(4)
        )
        return f"""<!doctype html><html><head><title>{title}</title><script>var view={n};</script></head>
<body><div id="cookie-consent">We use cookies to improve this site. <button>Accept</button></div>
<header><a href="/">Home</a> | <a href="/news">News</a></header>
<nav><ul><li><a href="/about">About us</a></li><li><a href="/donate">Donate</a></li></ul></nav>
<main><article><h1>{title}</h1>{article}</article></main>
<aside><h2>Most popular</h2><ul>{popular}</ul><p>Page views: {n * 17}</p></aside>
<footer>Replayed locally by the watcher demo at request {n}</footer></body></html>"""

    def feed(self) -> str:
        """An RSS feed of the site's news; the consultation is on it once the pages are edited."""
        entries = (
            [NEW_ENTRY, *reversed(FEED_ENTRIES)] if self.edited else list(reversed(FEED_ENTRIES))
        )
        items = "".join(
            f"<item><title>{html.escape(title)}</title><link>{self.url(path)}</link>"
            f"<pubDate>{when}</pubDate></item>"
            for path, title, when in entries
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Sector news</title><link>{self.url('/')}</link>"
            f"<description>News from the sector</description>{items}</channel></rss>"
        )

    @staticmethod
    def dated(paras: list[str]) -> int:
        """Index of the first body paragraph that names a year."""
        return next((i for i, p in enumerate(paras) if i > 0 and YEAR.search(p)), len(paras) - 1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class MailCatcher:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        from email import message_from_bytes

        msg = message_from_bytes(envelope.content)
        from email.header import decode_header, make_header

        say(f"mail catcher received an alert: {make_header(decode_header(msg['Subject']))}")
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    body = payload.decode(part.get_content_charset() or "utf-8", "replace")
                    print("    " + body.replace("\n", "\n    "), flush=True)
                break
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_address() -> str:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8080))
        except OSError:
            return f"127.0.0.1:{free_port()}"
    return "127.0.0.1:8080"


def write_config(replay: Replay) -> Path:
    lines = [
        "[watcher]",
        'state_dir = "."',
        'per_host_gap = "0s"',
        'alert_hold = "0s"',
        'timeout = "10s"',
        "",
        "[egress]",
        "# The demo's pages are on this machine; real sources never need this.",
        'allow_cidrs = ["127.0.0.0/8"]',
        "",
        "[[notify]]",
        'name = "demo-mail"',
        'env = "WATCHER_DEMO_MAIL_URL"',
    ]
    for i, path in enumerate(replay.pages):
        lines += [
            "",
            "[[source]]",
            f'name = "sector-page-{i}"',
            f'url = "{replay.url(path)}"',
            f'every = "{EVERY}s"',
            'tags = ["demo"]',
        ]
    lines += [
        "",
        "[[source]]",
        'name = "sector-news-feed"',
        f'url = "{replay.url("/news.rss")}"',
        'kind = "feed"',
        f'every = "{EVERY}s"',
        'tags = ["demo"]',
    ]
    config = STATE / "sources.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def main() -> int:
    if STATE.exists():
        shutil.rmtree(STATE)
    STATE.mkdir(parents=True)
    replay = Replay()
    catcher = MailCatcher()
    smtp_port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    config = write_config(replay)
    env = {
        **os.environ,
        "WATCHER_DEMO_MAIL_URL": f"mailto://127.0.0.1:{smtp_port}?from=watcher@example.org&to=team@example.org",
        # The daemon's web app on 8080 as usual, or on a free port when 8080 is taken: a
        # port in use stops `watcher run`, and the demo must not fail for another program.
        "WATCHER_LISTEN": os.environ.get("WATCHER_LISTEN") or web_address(),
    }
    say(
        f"replaying {len(replay.pages)} sector-style pages on 127.0.0.1:{replay.port}; "
        f"mail catcher on 127.0.0.1:{smtp_port}"
    )
    say(f"starting the daemon: {' '.join(['watcher', 'run', '--config', shown(config)])}")
    daemon = subprocess.Popen(
        [*WATCHER, "run", "--config", str(config), "--log-level", "info"], env=env
    )
    started = time.monotonic()
    ok = False
    try:
        while time.monotonic() - started < DEADLINE:
            if not replay.edited and time.monotonic() - started >= EDIT_AT:
                replay.edited = True
                say(
                    "two pages now carry a real edit (a new paragraph; a year changed), and the "
                    "news feed names a new consultation; sidebars keep rotating"
                )
            if catcher.count >= 3 or daemon.poll() is not None:
                break
            time.sleep(0.5)
        time.sleep(1)
        ok = catcher.count >= 1
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=15)
        controller.stop()
    say("the change log (watcher changes --diff):")
    subprocess.run([*WATCHER, "changes", "--config", str(config), "--diff"], env=env, check=False)
    say("new publications (watcher publications):")
    subprocess.run([*WATCHER, "publications", "--config", str(config)], env=env, check=False)
    say("consultation deadlines found in the changes (watcher deadlines):")
    subprocess.run([*WATCHER, "deadlines", "--config", str(config)], env=env, check=False)
    listed = subprocess.run(
        [*WATCHER, "changes", "--config", str(config), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        say("each change's categories, with the sentence that states each (from --format json):")
        for change in json.loads(listed.stdout):
            evidence = change["evidence"]
            for c in evidence.get("categories") or []:
                print(
                    f"    #{change['id']} {c['label']:<20} {c['confidence']:.2f}  {c['sentence'][:90]}"
                )
            print(f"    #{change['id']} decided by: {evidence.get('decided_by') or 'text'}")
    elapsed = time.monotonic() - started
    if ok:
        say(
            f"done in {elapsed:.0f}s: {catcher.count} alert(s) delivered; the rotating sidebars raised none. "
            f"State kept in {shown(STATE)}/watcher.db"
        )
        return 0
    say(f"no alert arrived within {DEADLINE}s; see the daemon's log lines above")
    return 1


if __name__ == "__main__":
    sys.exit(main())
