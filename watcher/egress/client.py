"""The HTTP client: `Egress.fetch` within every limit (a total deadline on top of httpx's
per-chunk timeouts, capped bytes, redirects followed by hand with each hop re-checked,
conditional GET with the server's own validators), through the gated transport."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from watcher.egress.address import one_line, parse_url
from watcher.egress.decode import Decoder, charset, decode_text
from watcher.egress.politeness import DEFAULT_HOLD, HostGate, retry_after
from watcher.egress.transport import TRANSPORT_ERRORS, GatedTransport, as_fetch_error
from watcher.errors import EgressDenied, FetchError
from watcher.models import EgressPolicy, Fetched, Validators

log = logging.getLogger("watcher.egress")  # the name it logged under before the split

ACCEPTED_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/json",  # the GOV.UK Content and Search APIs
    "application/pdf",  # attachments, read by the pdf kind
)
# Types read from their bytes only: decoding them as text would only cost memory.
BINARY_TYPES = frozenset({"application/pdf"})
# Answers by which a host asks for fewer requests; 503 only when it says for how long.
RATE_LIMIT_CODES = frozenset({429, 503})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class Egress:
    """Async context manager owning the HTTP client; `fetch` returns a `Fetched` or raises FetchError."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            transport=GatedTransport(policy),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address gate
            timeout=httpx.Timeout(min(10.0, policy.timeout), read=policy.timeout),
            headers={
                "User-Agent": policy.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.1",
                "Accept-Encoding": "gzip, deflate",
            },
        )
        self._hosts = HostGate(policy.per_host_gap, policy.per_host_concurrency)
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def __aenter__(self) -> Egress:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def held(self, host: str) -> float:
        """Seconds `host` asked (429/503 Retry-After) to be left alone for, from now."""
        return self._hosts.held(host)

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        admit: Callable[[], Awaitable[object]] | None = None,
        on_start: Callable[[], object] | None = None,
    ) -> Fetched:
        """GET `url` within every limit. 304 comes back as `not_modified`; anything else odd raises.

        `admit`, when given, is awaited once the host's turn has come and before a connection
        slot is taken: the caller's back-pressure (room to read one more page), which holds up
        this host only, never requests to other hosts. `on_start`, when given, is called as the
        request starts, every wait (the host's turn, `admit`, a connection slot) over: where the
        caller's clock for the fetch itself starts."""
        host = parse_url(url).host
        # The host's turn first, a concurrency slot second: a request queued behind a busy host
        # must not sit on a slot that requests to other hosts could use.
        async with self._hosts.slot(host):
            held = self._hosts.held(host)
            if held > self.policy.timeout:
                # Sleeping through a long wait would stall the whole pass: fail this check now,
                # without asking the host, and let a later check find the wait over.
                raise FetchError(
                    "rate_limited",
                    f"{host} asked watcher to slow down; {_seconds(held)} of its wait are left, "
                    "so it was not asked again yet",
                )
            await self._hosts.wait_turn(host)
            if admit is not None:
                await admit()
            async with self._slots:
                started = time.monotonic()
                if on_start is not None:
                    on_start()
                try:
                    async with asyncio.timeout(self.policy.timeout):
                        return await self._fetch(url, host, validators, started)
                except TimeoutError:
                    raise FetchError(
                        "timeout", f"{host} did not answer in full within {self.policy.timeout:g}s"
                    ) from None
                except TRANSPORT_ERRORS as exc:
                    raise as_fetch_error(exc) from None
                except (httpx.InvalidURL, ValueError) as exc:
                    # httpx parses a redirect's Location as it reads the answer, before we do.
                    raise FetchError(
                        "redirects",
                        f"{host} redirected to a URL that cannot be parsed ({one_line(str(exc))})",
                    ) from None
                except FetchError:
                    raise
                except Exception as exc:
                    # Hostile answers must end as one failed check of this source, never as an
                    # exception that stops the pass for every other source: anything not met yet
                    # is logged with its traceback and reported as a fetch failure.
                    log.exception("unexpected fetch failure", extra={"source": host})
                    raise FetchError(
                        "internal",
                        f"unexpected {type(exc).__name__} fetching from {host}: "
                        f"{one_line(str(exc))}",
                    ) from None
                finally:
                    self._hosts.done(host)

    async def _fetch(
        self, url: str, host: str, validators: Validators | None, started: float
    ) -> Fetched:
        """`host` is the key the host gate knows this fetch by (parsed once, by `fetch`)."""
        current = url
        for hop in range(self.policy.max_redirects + 1):
            headers = {}
            if hop == 0 and validators:
                if validators.etag:
                    headers["If-None-Match"] = validators.etag
                if validators.last_modified:
                    headers["If-Modified-Since"] = validators.last_modified
            elsewhere = parse_url(current).host if hop else host
            if elsewhere != host:
                # A redirect to another host: that host's gap holds too. Its turn is waited
                # for but its lock not taken, since two hosts redirecting to each other would
                # otherwise wait on each other's lock for ever.
                await self._hosts.wait_turn(elsewhere)
            try:
                async with self._client.stream("GET", current, headers=headers) as response:
                    if response.status_code in REDIRECT_CODES:
                        current = _next_hop(current, response.headers.get("location"))
                        continue
                    if response.status_code in RATE_LIMIT_CODES:
                        self._rate_limited(current, response)
                    duration = int((time.monotonic() - started) * 1000)
                    if response.status_code == 304:
                        return Fetched(
                            url=url,
                            final_url=current,
                            status=304,
                            not_modified=True,
                            content_type="",
                            body=b"",
                            text="",
                            validators=validators or Validators(),
                            duration_ms=duration,
                            redirected=hop > 0,
                        )
                    if not 200 <= response.status_code < 300:
                        raise FetchError(
                            "http_status",
                            f"HTTP {response.status_code} from {urlsplit(current).hostname}",
                            status=response.status_code,
                        )
                    content_type = response.headers.get("content-type", "")
                    mime = content_type.split(";")[0].strip().lower()
                    if mime and mime not in ACCEPTED_TYPES:
                        raise FetchError(
                            "unsupported_type", f"content type {mime!r} is not a page watcher reads"
                        )
                    body = await self._read_body(response)
                    text = "" if mime in BINARY_TYPES else decode_text(body, charset(content_type))
                    return Fetched(
                        url=url,
                        final_url=current,
                        status=response.status_code,
                        not_modified=False,
                        content_type=mime or "text/html",
                        body=body,
                        text=text,
                        # A redirected answer's validators belong to another URL: don't send them back.
                        validators=Validators()
                        if hop
                        else Validators(
                            etag=response.headers.get("etag"),
                            last_modified=response.headers.get("last-modified"),
                        ),
                        duration_ms=int((time.monotonic() - started) * 1000),
                        redirected=hop > 0,
                    )
            finally:
                if elsewhere != host:
                    self._hosts.done(elsewhere)
        raise FetchError("redirects", f"more than {self.policy.max_redirects} redirects from {url}")

    def _rate_limited(self, url: str, response: httpx.Response) -> None:
        """A 429, or a 503 with Retry-After: the host's next request waits, and this fetch fails
        as `rate_limited` (a failed check, never a change)."""
        status = response.status_code
        asked = retry_after(response.headers.get("retry-after"))
        if asked is None and status != 429:
            return  # a 503 that names no wait is an ordinary server error
        host = parse_url(url).host
        kept = self._hosts.hold(host, DEFAULT_HOLD if asked is None else asked)
        raise FetchError(
            "rate_limited",
            f"{host} answered HTTP {status} (too many requests); watcher waits "
            f"{_seconds(kept)} before asking it again",
            status=status,
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        cap = self.policy.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise FetchError("too_large", f"body of {int(length)} bytes is over the {cap}-byte cap")
        decoder = Decoder(response.headers.get("content-encoding", ""), cap)
        raw = 0
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > cap:
                raise FetchError("too_large", f"body is over the {cap}-byte cap")
            decoder.feed(chunk)
        return decoder.finish()


def _seconds(seconds: float) -> str:
    whole = max(1, round(seconds))
    return f"{whole}s" if whole < 120 else f"{round(whole / 60)} min"


def _next_hop(current: str, location: str | None) -> str:
    if not location:
        raise FetchError("redirects", f"redirect from {current} has no Location")
    if "\\" in location or any(ord(c) < 32 or ord(c) == 127 for c in location):
        raise FetchError("redirects", f"redirect from {current} has a malformed Location")
    try:
        target = urljoin(current, location.strip())
    except ValueError:
        raise FetchError("redirects", f"redirect from {current} has a malformed Location") from None
    try:
        parse_url(target)
    except EgressDenied:
        raise EgressDenied(f"redirect from {current} to a non-http URL was refused") from None
    except FetchError as exc:
        raise FetchError("redirects", f"redirect from {current} refused: {exc}") from None
    return target
