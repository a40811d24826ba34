"""The `[[source]]` tables: names, URLs (through the fetcher's own address gate), intervals and
CSS selectors."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from watcher.config.reader import Reader, name_problem
from watcher.config.settings import MAX_EVERY, MIN_EVERY
from watcher.config.types import IPNetwork
from watcher.errors import FetchError
from watcher.kinds.govuk_search import search_url
from watcher.models import Source
from watcher.presentation import compact_duration
from watcher.urls import GOVUK_HOSTS

SOURCE_KEYS = (
    "name",
    "url",
    "every",
    "tags",
    "select",
    "exclude",
    "order_matters",
    "kind",
    "query",
    "prefix",
    "follow",
    "expect_change_within",
)


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
        default_expect: timedelta | None = None,
    ) -> Source:
        header = self.where.table("source", index)
        if not isinstance(data, dict):
            raise self.fail(header, "[[source]] must be a table")
        name = data.get("name")
        what = f"source {name!r}" if isinstance(name, str) else f"source #{index + 1}"
        self.check_keys(data, SOURCE_KEYS, what, "source", index)
        problem = name_problem(name)
        if problem or not isinstance(name, str):
            raise self.fail(self.where.key("name", "source", index) or header, f"{what}: {problem}")
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
            if selectors:
                # Compiling its parser costs 50 ms: only configs that name selectors pay it.
                import soupsieve
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
        url = self.url(data["url"], what, index, allow)
        kind = self.kind(data, url, what, index)
        follow = data.get("follow", False)
        if not isinstance(follow, bool):
            raise self.fail(
                self.where.key("follow", "source", index), f"{what}: follow must be true or false"
            )
        prefix = data.get("prefix", "")
        if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
            raise self.fail(
                self.where.key("prefix", "source", index),
                f'{what}: prefix must be a URL path like "/government/"',
            )
        expect = (
            self.expect(data, what, "source", index)
            if "expect_change_within" in data
            else default_expect
        )
        if expect is not None and expect < every:
            # Checked less often than it is expected to change: every check would find it stale.
            key = "expect_change_within" if "expect_change_within" in data else "every"
            raise self.fail(
                self.where.key(key, "source", index) or header,
                f"{what}: expect_change_within ({compact_duration(expect.total_seconds())}) is shorter than every "
                f"({compact_duration(every.total_seconds())}), so no check could see a change in time; make it at least "
                f'"{compact_duration(every.total_seconds())}", or check more often',
            )
        return Source(
            name=name,
            url=url,
            every=every,
            tags=tags,
            select=select,
            exclude=exclude,
            order_matters=order_matters,
            kind=kind,
            query=self.query(data.get("query", {}), kind, what, index),
            prefix=prefix,
            follow=follow,
            expect_change_within=expect,
        )

    def kind(self, data: Any, url: str, what: str, index: int) -> str:
        """The source's kind: as written, else `govuk` for a GOV.UK page, else `page`."""
        from watcher.kinds import names

        known = names()
        if "kind" not in data:
            host = (urlsplit(url).hostname or "").lower()
            return "govuk" if host in GOVUK_HOSTS and "govuk" in known else "page"
        kind = data["kind"]
        if not isinstance(kind, str) or kind not in known:
            raise self.fail(
                self.where.key("kind", "source", index),
                f"{what}: kind {kind!r} is not known; choose from {', '.join(known)} "
                "(`watcher sources --kinds` says what each reads)",
            )
        return kind

    def query(self, value: Any, kind: str, what: str, index: int) -> tuple[tuple[str, str], ...]:
        """A search's filters: a table of names to a string (or a list of strings)."""
        line = self.where.key("query", "source", index)
        if not value:
            return ()
        if kind != "govuk-search":
            raise self.fail(line, f'{what}: query is only for kind = "govuk-search"')
        if not isinstance(value, dict):
            raise self.fail(
                line,
                f'{what}: query must be a table like {{ q = "kinship", order = "-public_timestamp" }}',
            )
        pairs: list[tuple[str, str]] = []
        for key, raw in value.items():
            try:
                search_url(((str(key), ""),), "https://www.gov.uk")  # the kind's own key check
            except ValueError as exc:
                raise self.fail(line, f"{what}: query {exc}") from None
            values = raw if isinstance(raw, list) else [raw]
            if not values or not all(
                isinstance(v, str | int) and not isinstance(v, bool) for v in values
            ):
                raise self.fail(line, f"{what}: query {key} must be a string or a list of strings")
            pairs += [(key, str(v)) for v in values]
        return tuple(pairs)
