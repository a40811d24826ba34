"""The `govuk-search` kind: a GOV.UK site search, read as the publications it finds."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from watcher.errors import ExtractError
from watcher.kinds.base import Kind
from watcher.kinds.items import absolute, clip, iso_utc, listed
from watcher.models import Extracted, Fetched, Item, Source

# Links in results are site paths ("/government/consultations/..."); they name pages on GOV.UK
# itself, whichever base the API was read from (a loopback server in tests).
GOVUK = "https://www.gov.uk"
SEARCH_PATH = "/api/search.json"
DEFAULT_ORDER = "-public_timestamp"  # newest first: new publications come in at the top
DEFAULT_COUNT = "50"
PLAIN_KEYS = frozenset({"q", "order", "count", "fields"})
PREFIXED_KEYS = ("filter_", "reject_")


def search_url(query: tuple[tuple[str, str], ...], govuk_base: str) -> str:
    """The Search API URL for `query` pairs, newest first and 50 results unless they say
    otherwise; `ValueError` naming a key the API would not take as a filter."""
    for key, _ in query:
        if key not in PLAIN_KEYS and not (key.startswith(PREFIXED_KEYS) and len(key) > 7):
            raise ValueError(
                f"search key {key!r} is not one watcher sends to GOV.UK search; use q, order, "
                "count, fields, filter_<field> or reject_<field>"
            )
    pairs = list(query)
    given = {key for key, _ in pairs}
    if "order" not in given:
        pairs.append(("order", DEFAULT_ORDER))
    if "count" not in given:
        pairs.append(("count", DEFAULT_COUNT))
    return f"{govuk_base.rstrip('/')}{SEARCH_PATH}?{urlencode(pairs)}"


def _organisations(result: dict[str, Any]) -> tuple[str, ...]:
    orgs = result.get("organisations")
    if not isinstance(orgs, list):
        return ()
    titles = (str(o.get("title") or "") for o in orgs if isinstance(o, dict))
    return tuple(t for t in titles if t)


def _item(result: dict[str, Any]) -> Item:
    link = str(result.get("link") or "")
    return Item(
        url=absolute(link, GOVUK + "/") if link else "",
        title=" ".join(str(result.get("title") or "").split()),
        updated=iso_utc(str(result.get("public_timestamp") or "")),
        summary=clip(str(result.get("description") or "")),
        organisations=_organisations(result),
        # `document_type` in a result is the search index's own ("edition"); these two are the
        # publisher's.
        document_type=str(result.get("content_store_document_type") or result.get("format") or ""),
    )


class GovukSearch(Kind):
    """A GOV.UK search (organisation, document type, topic, keywords): each new result is a new publication.

    The source's `query` pairs (q, filter_*, reject_*, order, count, fields) are sent to the
    GOV.UK Search API, newest first and 50 results unless set. Each result is read with its
    title, date, description, organisations and document type.
    """

    __kind__ = "govuk-search"
    lists = True

    def locate(self, source: Source, govuk_base: str) -> str:
        return search_url(source.query, govuk_base)

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        where = fetched.final_url or fetched.url
        try:
            document = json.loads(fetched.text)
        except ValueError as exc:
            raise ExtractError(
                "search", f"{where} is not JSON ({exc}); check the GOV.UK base URL"
            ) from None
        results = document.get("results") if isinstance(document, dict) else None
        if not isinstance(results, list):
            raise ExtractError(
                "search",
                f"{where} has no search results list; check the GOV.UK base URL points at "
                "the site whose /api/search.json is wanted",
            )
        items = (_item(r) for r in results if isinstance(r, dict))
        return listed(source.name, items, "results")
