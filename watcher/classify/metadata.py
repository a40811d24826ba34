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
# GOV.UK formats beyond the labelled corpus's document types whose kind is plain.
GOVUK_FORMATS = {
    **DOCUMENT_TYPES,
    "answer": "guidance",
    "transaction": "guidance",
    "simple_smart_answer": "guidance",
    "statistics_announcement": "report",
    "official_statistics_announcement": "report",
    "national_statistics_announcement": "report",
    "statistics": "report",
    "fatality_notice": "news",
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
        if value in GOVUK_FORMATS:
            return GOVUK_FORMATS[value], f"metadata: {key}={value}"
    for value in meta.get("schema:@type", "").split(","):
        # "Report", "schema:Report" and "https://schema.org/Report" are the same type.
        name = value.strip().rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        if name in SCHEMA_TYPES:
            return SCHEMA_TYPES[name], f"metadata: schema.org @type={name}"
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    if host in HOSTS:
        return HOSTS[host], f"host: {host}"
    return None
