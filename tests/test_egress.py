"""The one HTTP client, against a real loopback server: the address gate, redirects, caps, charsets,
deadlines, politeness and conditional GET."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import ipaddress
import itertools
import socket
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.conftest import PageServer
from watcher.egress import Egress, EgressPolicy, address_verdict, decode_text
from watcher.egress.politeness import MAX_HOLD, HostGate, retry_after
from watcher.errors import EgressDenied, FetchError
from watcher.models import Fetched, Validators

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
HTML = {"Content-Type": "text/html"}


def policy(**kw: Any) -> EgressPolicy:
    settings: dict[str, Any] = {
        "user_agent": "watcher-test",
        "timeout": 5.0,
        "max_bytes": 200_000,
        "per_host_gap": 0,
        "allow_cidrs": (LOOPBACK,),
    }
    settings.update(kw)
    return EgressPolicy(**settings)


async def _fetch(url: str, validators: Validators | None, pol: EgressPolicy) -> Fetched:
    async with Egress(pol) as egress:
        return await egress.fetch(url, validators)


def fetch(url: str, validators: Validators | None = None, **kw: Any) -> Fetched:
    return asyncio.run(_fetch(url, validators, policy(**kw)))


def fetch_error(url: str, reason: str, **kw: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, **kw)
    assert caught.value.reason == reason, str(caught.value)
    return caught.value


# --- the address gate -------------------------------------------------------------------------

BLOCKED = [
    "127.0.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "fe80::1",
    "fc00::1",
    "224.0.0.1",
    "0.0.0.0",
    "2002:a9fe:a9fe::",
    "64:ff9b::a9fe:a9fe",
    "168.63.129.16",
    "::",
    "ff02::1",
    "fd00:ec2::254",
    "::ffff:10.0.0.1",
    "192.88.99.1",  # 6to4 relay anycast
    "2002:c058:6301::",  # the same, wrapped in 6to4
    "3fff::1",  # IPv6 documentation (RFC 9637)
    "3fff:fff:ffff::1",
]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert address_verdict(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "192.88.100.1", "3fff:1000::1"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_verdict(ipaddress.ip_address(address)) is None


def test_metadata_is_blocked_even_when_its_network_is_allowlisted() -> None:
    allow = (ipaddress.ip_network("169.254.0.0/16"),)
    assert address_verdict(ipaddress.ip_address("169.254.169.254"), allow) is not None
    assert address_verdict(ipaddress.ip_address("64:ff9b::a9fe:a9fe"), allow) is not None
    assert address_verdict(ipaddress.ip_address("169.254.1.1"), allow) is None


def test_allowlist_opens_loopback() -> None:
    assert address_verdict(ipaddress.ip_address("127.0.0.1"), (LOOPBACK,)) is None
    assert address_verdict(ipaddress.ip_address("127.0.0.1"), (ipaddress.ip_network("10.0.0.0/8"),))


def test_without_allowlist_loopback_is_refused_before_connecting(site: PageServer) -> None:
    site.set("/", "<p>secret</p>")
    with pytest.raises(EgressDenied) as caught:
        fetch(site.url("/"), allow_cidrs=())
    assert caught.value.reason == "blocked"
    assert site.requests() == []


def test_allowlisted_loopback_is_fetched(site: PageServer) -> None:
    site.set(
        "/", "<p>hello</p>", headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}
    )
    got = fetch(site.url("/"))
    assert (got.status, got.text, got.content_type) == (200, "<p>hello</p>", "text/html")
    assert got.validators == Validators(etag='"v1"')
    assert not got.not_modified and not got.redirected


def test_user_agent_is_the_policys(site: PageServer) -> None:
    site.set("/", "<p>x</p>")
    fetch(site.url("/"))
    assert site.requests("/")[0].headers["User-Agent"] == "watcher-test"


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Names resolve from `table` (as getaddrinfo answers); returns the names asked, in order."""
    asked: list[str] = []

    async def getaddrinfo(host: str, port: int, **kw: Any) -> list[Any]:
        asked.append(host)
        if host.replace(".", "").isdigit() or ":" in host:
            table.setdefault(host, [host])  # address literals answer themselves
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in table[host]
        ]

    monkeypatch.setattr("watcher.egress.transport.anyio.getaddrinfo", getaddrinfo)
    return asked


def test_a_public_name_resolving_to_a_private_address_is_refused(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"rebind.test": ["127.0.0.1"], "mixed.test": ["8.8.8.8", "127.0.0.1"]})
    site.set("/", "<p>internal</p>")
    for name in ("rebind.test", "mixed.test"):
        with pytest.raises(EgressDenied):
            fetch(f"http://{name}:{site.port}/", allow_cidrs=())
    assert site.requests() == []


def test_an_unresolvable_name_is_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})
    fetch_error("http://nowhere.test/", "connect")


def test_every_checked_address_is_tried_in_turn(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.2 routes to lo but nothing listens there; the next checked answer is used.
    fake_dns(monkeypatch, {"two.test": ["127.0.0.2", "127.0.0.1"]})
    site.set("/", "<p>second answer</p>")
    assert fetch(f"http://two.test:{site.port}/").text == "<p>second answer</p>"


def test_a_redirect_into_a_blocked_address_is_refused(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"meta.test": ["169.254.169.254"]})
    site.set("/r", status=302, headers={"Location": "http://meta.test/latest/meta-data/"})
    with pytest.raises(EgressDenied):
        fetch(site.url("/r"))


# --- redirects --------------------------------------------------------------------------------


def test_relative_redirect_is_followed(site: PageServer) -> None:
    site.set("/old", status=302, headers={"Location": "new?x=1"})
    site.set("/new", "<p>moved</p>")
    got = fetch(site.url("/old"))
    assert got.text == "<p>moved</p>"
    assert got.final_url == site.url("/new?x=1")
    assert got.url == site.url("/old") and got.redirected


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_code_is_followed(site: PageServer, status: int) -> None:
    site.set("/from", status=status, headers={"Location": site.url("/to")})
    site.set("/to", "<p>there</p>")
    assert fetch(site.url("/from")).text == "<p>there</p>"


def test_a_chain_longer_than_the_limit_fails(site: PageServer) -> None:
    for n in range(6):
        site.set(f"/hop{n}", status=302, headers={"Location": f"/hop{n + 1}"})
    site.set("/hop6", "<p>end</p>")
    fetch_error(site.url("/hop0"), "redirects", max_redirects=3)
    assert len(site.requests()) == 4  # the first request and three hops, no more
    assert fetch(site.url("/hop0"), max_redirects=6).text == "<p>end</p>"


def test_a_redirect_loop_fails(site: PageServer) -> None:
    site.set("/a", status=302, headers={"Location": "/b"})
    site.set("/b", status=302, headers={"Location": "/a"})
    fetch_error(site.url("/a"), "redirects")


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/"]
)
def test_redirect_to_a_non_http_scheme_is_refused(site: PageServer, location: str) -> None:
    site.set("/r", status=302, headers={"Location": location})
    with pytest.raises(EgressDenied):
        fetch(site.url("/r"))


def test_redirect_without_location_or_with_backslash_fails(site: PageServer) -> None:
    site.set("/none", status=302, headers={})
    site.set("/slash", status=302, headers={"Location": "\\\\evil.example\\x"})
    fetch_error(site.url("/none"), "redirects")
    fetch_error(site.url("/slash"), "redirects")


def test_redirected_answer_has_no_validators_and_sends_none_after_the_first_hop(
    site: PageServer,
) -> None:
    site.set("/r", status=301, headers={"Location": "/final"})
    site.set(
        "/final",
        "<p>x</p>",
        headers={**HTML, "ETag": '"other"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    got = fetch(site.url("/r"), Validators(etag='"mine"'))
    assert got.validators == Validators()
    assert not got.validators
    assert site.requests("/r")[0].headers.get("If-None-Match") == '"mine"'
    assert "If-None-Match" not in site.requests("/final")[0].headers


# --- size caps and content codings ------------------------------------------------------------


def test_declared_length_over_the_cap_is_refused(site: PageServer) -> None:
    site.set("/big", b"a" * 5000, headers=HTML)
    fetch_error(site.url("/big"), "too_large", max_bytes=1000)
    assert fetch(site.url("/big"), max_bytes=5000).body == b"a" * 5000


def _raw_close(
    body_parts: list[bytes], chunked: bool, headers: dict[str, str] | None = None
) -> Any:
    """A handler writing `body_parts` with no Content-Length, then closing the connection."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.send_response(200)
        for name, value in {**HTML, "Connection": "close", **(headers or {})}.items():
            h.send_header(name, value)
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for part in body_parts:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
        if chunked:
            h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    return handler


@pytest.mark.parametrize("chunked", [False, True], ids=["until-close", "chunked"])
def test_undeclared_length_over_the_cap_is_refused(site: PageServer, chunked: bool) -> None:
    site.set("/stream", handler=_raw_close([b"x" * 1000] * 50, chunked))
    fetch_error(site.url("/stream"), "too_large", max_bytes=10_000)
    site.set("/small", handler=_raw_close([b"<p>", b"y" * 100, b"</p>"], chunked))
    assert fetch(site.url("/small"), max_bytes=10_000).text == "<p>" + "y" * 100 + "</p>"


def _bomb(coding: str) -> bytes:
    zeros = b"\0" * 50_000_000
    return gzip.compress(zeros, compresslevel=9) if coding == "gzip" else zlib.compress(zeros, 9)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compression_bomb_stops_at_the_cap_with_bounded_memory(
    site: PageServer, coding: str
) -> None:
    bomb = _bomb(coding)
    assert len(bomb) < 100_000
    site.set("/bomb", bomb, headers={**HTML, "Content-Encoding": coding})
    cap = 1_000_000

    async def attempt() -> str:
        async with Egress(policy(max_bytes=cap)) as egress:
            tracemalloc.start()
            try:
                await egress.fetch(site.url("/bomb"))
            except FetchError as exc:
                return exc.reason
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(
                    f"{coding} bomb ({len(bomb)} bytes): tracemalloc peak {peak} bytes, cap {cap}"
                )
                assert peak < 4 * cap
            return "fetched"

    assert asyncio.run(attempt()) == "too_large"


def test_stacked_codings_are_refused(site: PageServer) -> None:
    site.set(
        "/twice",
        gzip.compress(gzip.compress(b"<p>x</p>")),
        headers={**HTML, "Content-Encoding": "gzip, gzip"},
    )
    fetch_error(site.url("/twice"), "bad_encoding")


def test_unknown_or_corrupt_coding_is_refused(site: PageServer) -> None:
    site.set("/br", b"\x0b\x02\x80<p>x</p>\x03", headers={**HTML, "Content-Encoding": "br"})
    site.set("/corrupt", b"\x1f\x8bnot gzip at all", headers={**HTML, "Content-Encoding": "gzip"})
    fetch_error(site.url("/br"), "bad_encoding")
    fetch_error(site.url("/corrupt"), "bad_encoding")


def test_truncated_compressed_body_is_refused_not_read_as_a_shorter_page(site: PageServer) -> None:
    whole = gzip.compress(("<p>paragraph</p>" * 2000).encode())
    site.set(
        "/cut", handler=_raw_close([whole[: len(whole) // 2]], False, {"Content-Encoding": "gzip"})
    )
    site.set("/whole", handler=_raw_close([whole], False, {"Content-Encoding": "gzip"}))
    assert fetch(site.url("/whole")).text == "<p>paragraph</p>" * 2000
    fetch_error(site.url("/cut"), "bad_encoding")


def test_body_shorter_than_its_declared_length_is_protocol(site: PageServer) -> None:
    def short(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"<p>only part")
        h.wfile.flush()

    site.set("/short", handler=short)
    fetch_error(site.url("/short"), "protocol")


def test_empty_body_labelled_gzip_is_an_empty_page(site: PageServer) -> None:
    site.set("/empty", b"", headers={**HTML, "Content-Encoding": "gzip"})
    assert fetch(site.url("/empty")).body == b""


def test_gzip_and_deflate_pages_decode(site: PageServer) -> None:
    page = "<p>Stable Homes, Built on Love — £200 million</p>" * 50
    raw = page.encode("utf-8")
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    site.set("/gz", gzip.compress(raw), headers={**HTML, "Content-Encoding": "gzip"})
    site.set("/zlib", zlib.compress(raw), headers={**HTML, "Content-Encoding": "deflate"})
    site.set(
        "/raw",
        raw_deflate.compress(raw) + raw_deflate.flush(),
        headers={**HTML, "Content-Encoding": "deflate"},
    )
    for path in ("/gz", "/zlib", "/raw"):
        got = fetch(site.url(path))
        assert got.body == raw, path
        assert got.text == page, path


# --- charsets ---------------------------------------------------------------------------------


def test_utf8_without_any_charset(site: PageServer) -> None:
    site.set("/", "<p>Esmée — £200 “quoted”</p>".encode(), headers=HTML)
    assert fetch(site.url("/")).text == "<p>Esmée — £200 “quoted”</p>"


def test_windows_1252_declared_by_meta(site: PageServer) -> None:
    body = b'<html><head><meta charset="windows-1252"></head><body><p>\x93quoted\x94 \xa3200</p></body></html>'
    site.set("/", body, headers=HTML)
    assert "<p>“quoted” £200</p>" in fetch(site.url("/")).text


def test_latin1_label_on_utf8_bytes_reads_as_utf8(site: PageServer) -> None:
    site.set("/", "<p>£200</p>".encode(), headers={"Content-Type": "text/html; charset=iso-8859-1"})
    assert fetch(site.url("/")).text == "<p>£200</p>"


def test_latin1_label_on_latin1_bytes_reads_as_windows_1252(site: PageServer) -> None:
    site.set(
        "/",
        b"<p>\xa3200 caf\xe9 \x96</p>",
        headers={"Content-Type": "text/html; charset=ISO-8859-1"},
    )
    assert fetch(site.url("/")).text == "<p>£200 café –</p>"


def test_utf16_bom_wins_over_the_header(site: PageServer) -> None:
    site.set(
        "/",
        "\ufeff<p>£200 Esmée</p>".encode("utf-16-le"),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    assert fetch(site.url("/")).text == "<p>£200 Esmée</p>"
    site.set("/be", "\ufeff<p>£200</p>".encode("utf-16-be"), headers=HTML)
    assert fetch(site.url("/be")).text == "<p>£200</p>"


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (b"<p>\xff\xfe\xfa broken \xc3</p>", None),
        (b"<p>\xc3\x28 \xa0\xa1</p>", "utf-8"),
        (b"<p>\x81\x8d\x8f\x90\x9d</p>", "windows-1252"),
        (b"<p>\x80abc</p>", "shift_jis"),
        (b"<p>hello</p>", "base64"),  # a bytes-to-bytes codec, not a text encoding
        (b"<p>hello</p>", "zlib"),
        (b"<p>hello</p>", "rot13"),
        (b"<p>hello</p>", "undefined"),
        (b"<p>hello</p>", "idna"),
        (b"<p>hello</p>", "no-such-charset"),
        (b'<meta charset="hex"><p>hello</p>', None),
        (b'<meta charset="bogus"><p>\xe9</p>', None),
        (b"", None),
    ],
)
def test_decoding_never_raises_and_is_deterministic(body: bytes, header: str | None) -> None:
    first = decode_text(body, header)
    assert isinstance(first, str)
    assert all(decode_text(body, header) == first for _ in range(3))


def test_non_text_codec_labels_fall_back_to_sniffing() -> None:
    assert decode_text(b"<p>hello</p>", "base64") == "<p>hello</p>"
    assert decode_text("<p>£1</p>".encode(), "zlib") == "<p>£1</p>"
    assert decode_text(b'<meta charset="rot13"><p>\xa3</p>', None).endswith("<p>£</p>")


def test_header_utf16_without_a_bom_is_little_endian_everywhere() -> None:
    assert decode_text("<p>£200</p>".encode("utf-16-le"), "utf-16") == "<p>£200</p>"


def test_meta_declaring_utf16_is_read_as_utf8() -> None:
    # A <meta> readable as ASCII cannot be UTF-16; WHATWG reads such pages as UTF-8.
    body = '<meta charset="utf-16"><p>£200</p>'.encode()
    assert decode_text(body, None) == '<meta charset="utf-16"><p>£200</p>'


def test_invalid_utf8_in_a_page_declared_utf8_is_replaced(site: PageServer) -> None:
    site.set("/", b"<p>ok \xff\xfe end</p>", headers={"Content-Type": "text/html; charset=utf-8"})
    text = fetch(site.url("/")).text
    assert text.startswith("<p>ok ") and text.endswith(" end</p>") and "\ufffd" in text


# --- deadlines, statuses, connection errors ---------------------------------------------------


def _trickle(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", "60")
    h.end_headers()
    h.wfile.flush()
    for _ in range(60):  # one byte every half second: 30 s in all
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.5)


def test_trickling_server_is_cut_at_the_total_deadline(site: PageServer) -> None:
    site.set("/slow", handler=_trickle)
    started = time.monotonic()
    fetch_error(site.url("/slow"), "timeout", timeout=2.0)
    elapsed = time.monotonic() - started
    print(f"trickle cut after {elapsed:.2f}s (timeout 2s)")
    assert 1.9 <= elapsed < 4.0


def test_server_that_never_answers_times_out(site: PageServer) -> None:
    site.set("/stall", "<p>late</p>", delay=3.0)
    started = time.monotonic()
    fetch_error(site.url("/stall"), "timeout", timeout=1.0)
    assert time.monotonic() - started < 2.5


def test_server_error_is_http_status(site: PageServer) -> None:
    site.set("/err", "<p>oops</p>", status=500)
    assert fetch_error(site.url("/err"), "http_status").status == 500
    assert fetch_error(site.url("/missing"), "http_status").status == 404


def test_image_is_an_unsupported_type(site: PageServer) -> None:
    site.set("/pic", b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"})
    fetch_error(site.url("/pic"), "unsupported_type")


def test_connection_refused_is_connect() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fetch_error(f"http://127.0.0.1:{port}/", "connect")


def test_garbage_response_is_protocol(site: PageServer) -> None:
    def garbage(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        h.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
        h.wfile.flush()

    site.set("/junk", handler=garbage)
    fetch_error(site.url("/junk"), "protocol")


# --- politeness -------------------------------------------------------------------------------


def test_one_request_per_host_at_a_time_with_a_gap(site: PageServer) -> None:
    paths = [f"/p{n}" for n in range(6)]
    for path in paths:
        site.set(path, f"<p>{path}</p>", delay=0.05)

    async def all_at_once() -> list[Fetched]:
        async with Egress(policy(per_host_gap=0.3)) as egress:
            return await asyncio.gather(*(egress.fetch(site.url(p)) for p in paths))

    got = asyncio.run(all_at_once())
    assert sorted(g.text for g in got) == sorted(f"<p>{p}</p>" for p in paths)
    assert site.max_active == 1
    starts = sorted(h.at for h in site.requests())
    assert len(starts) == 6
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.28, gaps


def test_a_fetch_waits_for_the_callers_room_after_its_hosts_turn_holding_no_slot(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`admit` is the pipeline's back-pressure (room to read one more page): nothing is asked
    of the host until it returns, and the one connection slot stays free for other hosts."""
    fake_dns(monkeypatch, {"full.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    site.set("/held", "<p>held</p>")
    site.set("/other", "<p>other</p>")

    async def run() -> tuple[int, int, Fetched, Fetched]:
        room = asyncio.Event()
        asked: list[float] = []

        async def admit() -> None:
            asked.append(time.monotonic())
            await room.wait()

        async with Egress(policy(concurrency=1)) as egress:
            held = asyncio.create_task(
                egress.fetch(f"http://full.test:{site.port}/held", admit=admit)
            )
            await asyncio.sleep(0.2)
            before = len(site.requests("/held"))
            other = await egress.fetch(f"http://other.test:{site.port}/other")
            room.set()
            first = await held
        return len(asked), before, first, other

    asked, before, first, other = asyncio.run(run())
    assert asked == 1 and before == 0  # waited for room before asking the host
    assert other.status == 200 and first.status == 200 and first.body == b"<p>held</p>"


def test_waiting_for_a_busy_host_does_not_hold_a_slot_other_hosts_need(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"busy.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    for n in range(4):
        site.set(f"/busy{n}", "<p>busy</p>")
    site.set("/other", "<p>other</p>")

    async def run() -> float:
        async with Egress(policy(per_host_gap=1.0, concurrency=2)) as egress:
            busy = [
                asyncio.create_task(egress.fetch(f"http://busy.test:{site.port}/busy{n}"))
                for n in range(4)
            ]
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await egress.fetch(f"http://other.test:{site.port}/other")
            took = time.monotonic() - started
            await asyncio.gather(*busy)
            return took

    took = asyncio.run(run())
    assert took < 0.5, f"a request to another host waited {took:.2f}s behind a busy host"


# --- conditional GET --------------------------------------------------------------------------


def test_validators_are_sent_verbatim_and_304_is_not_modified(site: PageServer) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    site.set("/doc", status=304, headers={"ETag": 'W/"abc"'})
    got = fetch(site.url("/doc"), Validators(etag='W/"abc"', last_modified=stamp))
    hit = site.requests("/doc")[0]
    assert hit.headers["If-None-Match"] == 'W/"abc"'
    assert hit.headers["If-Modified-Since"] == stamp
    assert got.not_modified and got.status == 304
    assert got.validators == Validators(etag='W/"abc"', last_modified=stamp)
    assert got.text == "" and got.body == b""


def test_no_validators_means_an_unconditional_get(site: PageServer) -> None:
    site.set("/doc", "<p>x</p>", headers={**HTML, "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"})
    got = fetch(site.url("/doc"), Validators())
    hit = site.requests("/doc")[0]
    assert "If-None-Match" not in hit.headers and "If-Modified-Since" not in hit.headers
    assert got.validators == Validators(last_modified="Thu, 01 Jan 2026 00:00:00 GMT")


def test_the_gap_holds_for_a_redirect_to_another_host(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page on one host redirecting to another must not let two requests hit that other host
    closer together than its gap."""
    fake_dns(monkeypatch, {"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    site.set("/direct", "<p>b</p>")
    site.set("/moved", "<p>moved</p>")
    site.set("/old", b"", status=301, headers={"Location": f"http://b.test:{site.port}/moved"})

    async def run() -> None:
        async with Egress(policy(per_host_gap=0.5)) as egress:
            await egress.fetch(f"http://b.test:{site.port}/direct")
            await egress.fetch(f"http://a.test:{site.port}/old")

    asyncio.run(run())
    at = {h.path: h.at for h in site.requests()}
    assert at["/moved"] - at["/direct"] >= 0.45, at
    assert at["/old"] - at["/direct"] < 0.3, "a.test itself owed b.test no wait"


# --- rate limits (429 / 503 with Retry-After) -------------------------------------------------

JSON = {"Content-Type": "application/json"}


def test_a_429_fails_as_rate_limited_and_holds_only_that_host(
    site: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"api.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    site.set("/busy", "slow down", status=429, headers={"Retry-After": "2"})
    site.set("/next", '{"title": "x"}', headers=JSON)

    async def run() -> tuple[FetchError, float, float]:
        async with Egress(policy()) as egress:
            with pytest.raises(FetchError) as caught:
                await egress.fetch(f"http://api.test:{site.port}/busy")
            limited = time.monotonic()
            await egress.fetch(f"http://other.test:{site.port}/next")
            other = time.monotonic() - limited
            await egress.fetch(f"http://api.test:{site.port}/next")
            return caught.value, other, time.monotonic() - limited

    error, other, same = asyncio.run(run())
    assert error.reason == "rate_limited" and error.status == 429
    assert "api.test" in str(error) and "2s" in str(error), str(error)
    assert other < 0.5, f"another host waited {other:.2f}s behind a rate-limited one"
    assert same >= 1.95, f"the rate-limited host was asked again after {same:.2f}s"
    asked = [h.at for h in site.requests("/next")]
    assert len(asked) == 2


def test_a_503_with_a_retry_after_date_is_rate_limited_and_without_one_an_http_error(
    site: PageServer,
) -> None:
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    site.set("/down", "busy", status=503, headers={"Retry-After": soon})
    error = fetch_error(site.url("/down"), "rate_limited")
    assert error.status == 503 and "127.0.0.1" in str(error)
    assert any(f"{n}s" in str(error) for n in range(27, 32)), str(error)
    site.set("/broken", "busy", status=503)
    assert fetch_error(site.url("/broken"), "http_status").status == 503


def test_a_wait_longer_than_the_timeout_fails_at_once_without_asking_the_host(
    site: PageServer,
) -> None:
    site.set("/busy", "no", status=429, headers={"Retry-After": "86400"})

    async def run() -> tuple[FetchError, FetchError, float]:
        async with Egress(policy(timeout=2.0)) as egress:
            with pytest.raises(FetchError) as first:
                await egress.fetch(site.url("/busy"))
            started = time.monotonic()
            with pytest.raises(FetchError) as second:
                await egress.fetch(site.url("/busy"))
            return first.value, second.value, time.monotonic() - started

    first, second, took = asyncio.run(run())
    assert "60 min" in str(first), "a day's Retry-After is capped at an hour"
    assert second.reason == "rate_limited" and took < 0.5
    assert len(site.requests("/busy")) == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # a date in the past: no wait
        ("", None),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert retry_after(header, now=now) == seconds


def test_a_host_gate_hold_is_capped_and_never_shortened() -> None:
    clock = [100.0]
    gate = HostGate(0, clock=lambda: clock[0])
    assert gate.hold("a.test", 10**9) == MAX_HOLD == 3600
    gate.hold("a.test", 5)  # a shorter later wait does not cut the longer one
    assert gate.held("a.test") == MAX_HOLD and gate.held("b.test") == 0
    clock[0] += MAX_HOLD
    assert gate.delay("a.test") == 0


def test_json_answers_are_read_and_conditional(site: PageServer) -> None:
    body = '{"title": "Kinship", "document_type": "open_consultation"}'
    site.set("/api/content/x", body, headers={**JSON, "ETag": '"v1"'})
    got = fetch(site.url("/api/content/x"))
    assert got.content_type == "application/json" and got.text == body
    assert got.validators == Validators(etag='"v1"')
    site.set("/api/content/x", status=304, headers={"ETag": '"v1"'})
    again = fetch(site.url("/api/content/x"), got.validators)
    assert again.not_modified
    assert site.requests("/api/content/x")[-1].headers["If-None-Match"] == '"v1"'


def test_a_pdf_is_fetched_as_bytes(site: PageServer) -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4
    site.set("/report.pdf", pdf, headers={"Content-Type": "application/pdf"})
    got = fetch(site.url("/report.pdf"))
    assert got.content_type == "application/pdf" and got.body == pdf and got.text == ""


@pytest.mark.parametrize("per_host", [1, 4])
def test_per_host_concurrency_bounds_the_requests_in_flight_to_one_host(
    site: PageServer, per_host: int
) -> None:
    paths = [f"/c{n}" for n in range(8)]
    for path in paths:
        site.set(path, f"<p>{path}</p>", delay=0.15)

    async def all_at_once() -> list[Fetched]:
        async with Egress(policy(per_host_concurrency=per_host, concurrency=8)) as egress:
            return await asyncio.gather(*(egress.fetch(site.url(p)) for p in paths))

    got = asyncio.run(all_at_once())
    assert sorted(g.text for g in got) == sorted(f"<p>{p}</p>" for p in paths)
    assert site.max_active == per_host


def test_requests_sharing_a_host_start_the_gap_apart_however_many_may_run() -> None:
    clock = [0.0]
    gate = HostGate(2.0, concurrency=4, clock=lambda: clock[0])

    async def starts() -> list[float]:
        async def one() -> float:
            async with gate.slot("a.test"):
                await gate.wait_turn("a.test")
                return clock[0]

        return await asyncio.gather(*(one() for _ in range(3)))

    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        clock[0] += seconds
        await real_sleep(0)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asyncio, "sleep", fake_sleep)
        got = sorted(asyncio.run(starts()))
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(got))
