"""Real parts for tests: a loopback page server, an SMTP server, a webhook receiver, config files."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.engines import database, engine_store  # noqa: F401

# Fixtures any test may ask for: a throwaway PostgreSQL server and fresh databases on it.
from tests.postgres import postgres, postgres_db, postgres_server  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The development corpus lives beside the clone (CI has it there too): read, never copied in.
CORPUS = REPO.parent / "shared" / "corpus"
SEEDS = sorted((CORPUS / "seeds").glob("*.txt"))


@dataclass
class Page:
    """What the server answers on one path. `handler` overrides everything when set."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )
    delay: float = 0.0
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class PageServer:
    """A threaded HTTP server on 127.0.0.1 whose pages tests set and change while it runs."""

    def __init__(self, port: int = 0) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm on, each answer
            # waited 40 ms for a delayed ACK, which made a test of 200 pages take 25 s.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.hits.append(
                        Hit(self.command, self.path, dict(self.headers), body, time.monotonic())
                    )
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                    page = server.pages.get(self.path.split("?")[0])
                try:
                    if page is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "9")
                        self.end_headers()
                        self.wfile.write(b"not found")
                        return
                    if page.delay:
                        time.sleep(page.delay)
                    if page.handler:
                        page.handler(self)
                        return
                    self.send_response(page.status)
                    for k, v in page.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(page.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(page.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.lock:
                        server.active -= 1

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, body: str | bytes = b"", **kw: Any) -> None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        with self.lock:
            self.pages[path] = Page(body=raw, **kw)

    def requests(self, path: str | None = None, method: str | None = None) -> list[Hit]:
        with self.lock:
            return [
                h
                for h in self.hits
                if (path is None or h.path == path) and (method is None or h.method == method)
            ]

    def start(self) -> PageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[PageServer]:
    server = PageServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[PageServer]:
    """A local webhook receiver: Apprise json:// posts land in `receiver.requests(method='POST')`."""
    server = PageServer().start()
    server.set("/hook", b"{}", headers={"Content-Type": "application/json"})
    yield server
    server.stop()


def respond(h: BaseHTTPRequestHandler, body: bytes, status: int = 200, **headers: str) -> None:
    """Write a whole HTML response from a `Page.handler`."""
    h.send_response(status)
    h.send_header("Content-Type", headers.pop("content_type", "text/html; charset=utf-8"))
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


class Clock:
    """A clock a test sets and moves: watcher takes any callable giving an aware datetime."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailSink:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@dataclass
class Smtp:
    port: int
    sink: MailSink

    @property
    def apprise_url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=watcher@example.org&to=team@example.org"


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    sink = MailSink()
    port = free_port()  # aiosmtpd's Controller cannot bind port 0
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield Smtp(port, sink)
    controller.stop()


def message_text(msg: Message) -> str:
    """Every text part of an email, decoded."""
    parts = msg.walk() if msg.is_multipart() else [msg]
    out = []
    for part in parts:
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(out)


def write_config(
    path: Path,
    sources: list[dict[str, Any]],
    targets: list[tuple[str, str]] = (),  # type: ignore[assignment]
    watcher: str = "",
) -> Path:
    """A sources.toml for tests: loopback allowed, no per-host gap, short deadline."""
    lines = [
        "[watcher]",
        'state_dir = "state"',
        'per_host_gap = "0s"',
        'timeout = "5s"',
        'alert_hold = "0s"',
        watcher,
        "[egress]",
        'allow_cidrs = ["127.0.0.0/8"]',
    ]
    for name, env in targets:
        lines += ["[[notify]]", f'name = "{name}"', f'env = "{env}"']
    for s in sources:
        lines.append("[[source]]")
        for k, v in s.items():
            if isinstance(v, list):
                lines.append(f"{k} = [{', '.join(repr(x) for x in v)}]")
            else:
                lines.append(f'{k} = "{v}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def html_page(title: str, paragraphs: list[str], sidebar: str = "") -> str:
    """A realistic page: nav, cookie banner, article, aside, footer, script."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html><head><title>{title}</title>
<style>body {{ font-family: sans-serif }}</style><script>window.track = 1;</script></head>
<body><div class="cookie-banner">We use cookies. <button>Accept</button></div>
<header><a href="/">Home</a></header><nav><ul><li><a href="/a">About</a></li><li>News</li></ul></nav>
<main><article><h1>{title}</h1>
{body}
</article></main>
<aside><h2>Most popular</h2><ul><li>{sidebar}</li></ul></aside>
<footer>© Example Charity 2026</footer></body></html>"""
