"""What a publisher states a page is, in its own metadata or address. Pure.

A GOV.UK page names its document type in `<meta name="govuk:format">`; a page may carry a
schema.org JSON-LD `@type`; some hosts publish one kind of document only. A statement of the
document's kind decides its category over the wording. A type that only says "this is an article"
(schema.org NewsArticle, og:type article) does not: the trade press reports a new fund or a
consultation in a NewsArticle, so such types are context, never the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from watcher.classify.pagetype import DOCUMENT_TYPES

GOVUK_KEYS = ("govuk:format", "govuk:document-type", "govuk:schema-name")
# schema.org types that name the kind of document (https://schema.org/docs/full.html).
SCHEMA_TYPES = {
    "Legislation": "legislation",
    "LegislationObject": "legislation",
    "Report": "report",
    "Dataset": "report",
    "MonetaryGrant": "funding",
    "Grant": "funding",
    "HowTo": "guidance",
    "GovernmentService": "guidance",
}
# Hosts whose every page is a bill, an act or a statutory instrument.
HOSTS = {
    "legislation.gov.uk": "legislation",
    "bills.parliament.uk": "legislation",
}


def stated(
    metadata: Mapping[str, str] | None = None, url: str = "", document_type: str = ""
) -> tuple[str, str] | None:
    """(category, what stated it) when the publisher says what the page is, else None."""
    meta = dict(metadata or {})
    if document_type:
        meta.setdefault("document_type", document_type)
    for key in (*GOVUK_KEYS, "document_type"):
        value = meta.get(key, "").strip().lower()
        if value in DOCUMENT_TYPES:
            return DOCUMENT_TYPES[value], f"metadata: {key}={value}"
    for value in meta.get("schema:@type", "").split(","):
        if value.strip() in SCHEMA_TYPES:
            return SCHEMA_TYPES[value.strip()], f"metadata: schema.org @type={value.strip()}"
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if host in HOSTS:
        return HOSTS[host], f"host: {host}"
    return None
