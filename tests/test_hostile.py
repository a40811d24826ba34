"""Hostile answers through a real loopback server: every malformed Location, header, status line
and body ends as one failed check of its own source, and the other sources of the pass are
checked normally."""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import PageServer, html_page, write_config
from tests.test_egress import fetch
from watcher.config import load_config
from watcher.errors import FetchError
from watcher.runtime import check_once
from watcher.store import Store

# Location values httpx cannot parse, or parses into something that must not be requested.
LOCATIONS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "mailto:a@example.org",
    "tel:+441234567890",
    "http:foo",
    "https:foo",
    "http:\\\\evil.example",
    "http://127.0.0.1:99999/",
    "http://127.0.0.1:-1/",
    "http://127.0.0.1:0/",
    "http://127.0.0.1:abc/",
    "http://[::1",
    "http://[zz]/",
    "https://",
    "http://:80/",
    "http://xn--/",
    "http://xn--a.com/",
    "http://0177.0.0.1/",
    "http://127.000.000.001/",
    "http://0x7f.1/",
    "http://a b/",
    "ftp://127.0.0.1/",
    "file:///etc/passwd",
    "\u202ehttp://evil.example/",
    "http://evil.example/\x7f",
    "http://" + "a" * 300 + "/",
]

# Whole raw answers: broken status lines, headers and bodies.
RAW = [
    b"HTTP/1.1 abc\r\n\r\n",
    b"FOO\r\n\r\n",
    b"",
    b"HTTP/1.1 0 X\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 999 X\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"y" * 200_000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Type: \xff/\xfe\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: \xff\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 302 Found\r\nLocation: http://\xff\xfe/\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
]

# Odd but readable: these must come back as a page, not raise.
READABLE = [
    b"HTTP/1.1 200\r\nContent-Length: 9\r\n\r\n<p>ok</p>",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=\xff\xfe\r\nContent-Length: 9\r\n\r\n<p>ok</p>",
    b"HTTP/1.1 200 OK\r\nETag: \xff\xfe\r\nLast-Modified: \x80\r\nContent-Length: 9\r\n\r\n<p>ok</p>",
    b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n\x00\xff\xfe\x00<p>",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-7\r\nContent-Length: 9\r\n\r\n<p>ok</p>",
]


def raw_answer(data: bytes):  # type: ignore[no-untyped-def]
    def write(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.wfile.write(data)
        h.wfile.flush()

    return write


def redirect_to(location: str) -> bytes:
    return (
        b"HTTP/1.1 302 Found\r\nLocation: "
        + location.encode("utf-8", "surrogateescape")
        + b"\r\nContent-Length: 0\r\n\r\n"
    )


def hostile(site: PageServer) -> list[str]:
    """Serve every hostile case; return their paths."""
    paths = []
    for n, data in enumerate([redirect_to(loc) for loc in LOCATIONS] + RAW):
        path = f"/hostile/{n}"
        site.set(path, handler=raw_answer(data))
        paths.append(path)
    return paths


@pytest.mark.parametrize("location", LOCATIONS)
def test_a_hostile_location_is_a_fetch_error(site: PageServer, location: str) -> None:
    site.set("/r", handler=raw_answer(redirect_to(location)))
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/r"), timeout=3.0)
    message = str(caught.value)
    assert caught.value.reason != "internal", message
    assert "\n" not in message and len(message) <= 400


@pytest.mark.parametrize("data", RAW, ids=[repr(r[:40]) for r in RAW])
def test_a_malformed_answer_is_a_fetch_error(site: PageServer, data: bytes) -> None:
    site.set("/x", handler=raw_answer(data))
    with pytest.raises(FetchError) as caught:
        fetch(site.url("/x"), timeout=3.0)
    assert caught.value.reason != "internal", str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("data", READABLE, ids=[repr(r[:40]) for r in READABLE])
def test_an_odd_but_readable_answer_is_a_page(site: PageServer, data: bytes) -> None:
    site.set("/x", handler=raw_answer(data))
    assert fetch(site.url("/x"), timeout=3.0).status == 200


def test_one_pass_records_one_failed_check_per_hostile_source_and_checks_the_rest(
    tmp_path: Path, site: PageServer
) -> None:
    paths = hostile(site)
    site.set("/good/a", html_page("Good A", ["First page of text."]))
    site.set("/good/b", html_page("Good B", ["Second page of text."]))
    good = [{"name": "good-a", "url": site.url("/good/a")}]
    bad = [{"name": f"bad-{n}", "url": site.url(p)} for n, p in enumerate(paths)]
    good.append({"name": "good-b", "url": site.url("/good/b")})
    path = write_config(tmp_path / "sources.toml", good[:1] + bad + good[1:])
    config = load_config(path, environ={})

    results, _ = asyncio.run(check_once(config))

    outcomes = {r.source: r for r in results}
    assert outcomes["good-a"].outcome == "baseline"
    assert outcomes["good-b"].outcome == "baseline"
    for source in bad:
        result = outcomes[source["name"]]
        assert result.outcome == "error", (source, result)
        assert result.error and "\n" not in result.error
        assert result.error_reason != "internal", result.error
    store = Store.open(config.settings.state_dir)
    try:
        for source in bad:
            assert len(store.checks(source["name"])) == 1
            assert store.state(source["name"]).error_streak == 1
    finally:
        store.close()


def test_a_proxy_from_the_environment_is_never_used(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would dial for us and bypass the address gate: the environment is ignored."""
    canary = PageServer().start()
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.setenv(name, canary.url("/"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        site.set("/page", "<p>direct</p>")
        assert fetch(site.url("/page")).text == "<p>direct</p>"
        assert canary.requests() == []
    finally:
        canary.stop()


def test_a_certificate_from_an_unknown_authority_is_a_tls_error() -> None:
    """TLS verification is on: a certificate signed by a CA nobody trusts is refused (SSRF-7)."""
    import ssl
    import threading
    from http.server import ThreadingHTTPServer

    import trustme

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError) as caught:
            fetch(f"https://127.0.0.1:{httpd.server_address[1]}/secret", timeout=3.0)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert caught.value.reason == "tls", str(caught.value)
    assert served == []  # no request was sent over the unverified connection
