"""The `[[source]]` tables: names, URLs (through the fetcher's own address gate), intervals and
CSS selectors."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import soupsieve

from watcher.config.reader import NAME_RE, Reader
from watcher.config.settings import MAX_EVERY, MIN_EVERY
from watcher.config.types import IPNetwork
from watcher.errors import FetchError
from watcher.models import Source

SOURCE_KEYS = ("name", "url", "every", "tags", "select", "exclude", "order_matters")


class SourceReader(Reader):
    def url(self, value: Any, what: str, index: int, allow: tuple[IPNetwork, ...] = ()) -> str:
        line = self.where.key("url", "source", index)
        if not isinstance(value, str):
            raise self.fail(line, f"{what}: url must be a string")
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in value):
            raise self.fail(
                line, f"{what}: url has spaces, control characters or backslashes; remove them"
            )
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1/" (unbalanced IPv6 brackets)
            raise self.fail(
                line, f"{what}: url is malformed; write it like https://www.gov.uk/..."
            ) from None
        if parts.scheme not in ("http", "https"):
            raise self.fail(
                line,
                f"{what}: url scheme {parts.scheme or '(none)'!r} is not allowed; use https:// or http://",
            )
        # Before the host check, which quotes the URL: a password must never reach a message.
        if "@" in parts.netloc:
            raise self.fail(line, f"{what}: url must not carry a user name or password")
        if not parts.hostname:
            raise self.fail(
                line, f"{what}: url {value!r} has no host; write it like https://www.gov.uk/..."
            )
        try:
            _ = parts.port
        except ValueError:
            raise self.fail(line, f"{what}: url has an invalid port") from None
        # The fetcher's own URL check and address gate, so what loads is what it will request.
        # Imported here: egress loads httpx, which a reader of config types (the web app) must
        # not pay for.
        from watcher.egress import address_verdict, parse_url

        try:
            host = parse_url(value).host
        except FetchError as exc:
            raise self.fail(
                line, f"{what}: url {exc}; write it like https://www.gov.uk/..."
            ) from None
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return value  # a name: resolved, and its answers checked, at fetch time
        verdict = address_verdict(literal, allow)
        if verdict:
            raise self.fail(
                line,
                f"{what}: url host {literal} is {verdict}, which the fetcher refuses; if this is "
                "an intranet source you trust, add its network to [egress] allow_cidrs",
            )
        return value

    def source(
        self,
        data: Any,
        index: int,
        default_every: timedelta,
        allow: tuple[IPNetwork, ...] = (),
    ) -> Source:
        header = self.where.table("source", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[source]] must be a table")
        name = data.get("name")
        what = f"source {name!r}" if isinstance(name, str) else f"source #{index + 1}"
        self.check_keys(data, SOURCE_KEYS, what, "source", index)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise self.fail(
                self.where.key("name", "source", index) or header,
                f"{what}: name is required: letters, digits, '.', '_' or '-', at most 64 characters",
            )
        if "url" not in data:
            raise self.fail(header, f"{what}: url is required")
        every = default_every
        if "every" in data:
            every = self.duration(data["every"], "every", what, "source", index)
        if not MIN_EVERY <= every <= MAX_EVERY:
            raise self.fail(
                self.where.key("every", "source", index),
                f'{what}: every must lie between "10s" and "31d"',
            )
        tags = self.string_list(data.get("tags", []), "tags", what, "source", index)
        select = self.string_list(data.get("select", []), "select", what, "source", index)
        exclude = self.string_list(data.get("exclude", []), "exclude", what, "source", index)
        for key, selectors in (("select", select), ("exclude", exclude)):
            for sel in selectors:
                try:
                    soupsieve.compile(sel)
                except (
                    soupsieve.SelectorSyntaxError,
                    NotImplementedError,
                    ValueError,
                    TypeError,
                ) as exc:
                    raise self.fail(
                        self.where.key(key, "source", index),
                        f"{what}: {key} {sel!r} is not a valid CSS selector ({str(exc).splitlines()[0]})",
                    ) from None
        order_matters = data.get("order_matters", False)
        if not isinstance(order_matters, bool):
            raise self.fail(
                self.where.key("order_matters", "source", index),
                f"{what}: order_matters must be true or false",
            )
        return Source(
            name=name,
            url=self.url(data["url"], what, index, allow),
            every=every,
            tags=tags,
            select=select,
            exclude=exclude,
            order_matters=order_matters,
        )
