"""The `govuk` kind: a www.gov.uk page read through the GOV.UK Content API. Pure.

Every GOV.UK page has a JSON twin at `/api/content/<path>`. Reading it instead of the HTML gives
the publisher's own statements (document type, organisations, change notes, attachments) and
leaves out what changes by nature on the rendered page (navigation, "updated" stamps, related
links). Only fields that say something about the document reach the blocks: the API's own
bookkeeping (`updated_at`, `public_updated_at`, `links.finder`...) changes with no edit at all.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from watcher.errors import ExtractError
from watcher.extract import extract, normalise_line
from watcher.kinds.base import Kind
from watcher.models import Attachment, Extracted, Fetched, Source

GOVUK_SITE = "https://www.gov.uk"
# HTML fields of `details` that hold the document's text, in reading order.
BODY_FIELDS = ("body", "final_outcome_detail", "public_feedback_detail")
# HTML fields holding rendered attachment blocks (`<section class="attachment embedded">`).
DOCUMENT_FIELDS = ("documents", "final_outcome_documents", "public_feedback_documents")


class GovUk(Kind):
    """A www.gov.uk page read through the GOV.UK Content API, with its stated document type.

    The description, the body and (for consultations) the opening and closing dates are
    compared; the publisher's newest change note summarises a change; the document type and
    organisations are stated metadata for the classifier; attachments are listed with the page.
    """

    __kind__ = "govuk"
    documents = True

    def locate(self, source: Source, govuk_base: str) -> str:
        """`{govuk_base}/api/content{path}`: the page's path only, never its query or fragment."""
        return content_api_url(source.url, govuk_base)

    def read(self, fetched: Fetched, source: Source, *, explain: bool = False) -> Extracted:
        item = content_item(fetched.text, fetched.final_url or fetched.url)
        return read_item(item, base=_site_of(fetched.final_url or fetched.url))


def content_api_url(page_url: str, govuk_base: str) -> str:
    """The Content API URL for a GOV.UK page URL, against `govuk_base`."""
    path = urlsplit(page_url).path or "/"
    if path.startswith("/api/content/"):
        path = path.removeprefix("/api/content")  # already an API URL: keep its path once
    path = "/" + path.strip("/")
    return govuk_base.rstrip("/") + "/api/content" + (path if path != "/" else "")


def content_item(text: str, url: str) -> dict[str, Any]:
    """The parsed content item, or `ExtractError` naming what is wrong with it."""
    try:
        data = json.loads(text)
    except ValueError:
        start = normalise_line(text[:60])
        raise ExtractError(
            "not_json",
            f"{url} did not return a GOV.UK content item (not JSON; it starts {start!r}); "
            'check the page exists or watch it as kind = "page"',
        ) from None
    if not isinstance(data, dict):
        raise ExtractError(
            "not_content_item", f"{url} returned JSON that is not a GOV.UK content item"
        )
    missing = [key for key in ("title", "document_type") if not _text(data.get(key))]
    if missing:
        raise ExtractError(
            "not_content_item",
            f"{url} returned JSON without {' or '.join(missing)}: not a GOV.UK content item",
        )
    return data


def read_item(item: dict[str, Any], base: str = GOVUK_SITE) -> Extracted:
    """A content item's blocks, metadata, newest change note and attachments."""
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    assert isinstance(details, dict)
    document_type = _text(item.get("document_type"))
    blocks: list[str] = []
    paths: list[str] = []
    links: list[tuple[str, str]] = []

    def add(line: str, path: str) -> None:
        line = normalise_line(line)
        if line:
            blocks.append(line)
            paths.append(path)

    add(_text(item.get("description")), "govuk/description")
    add(consultation_dates(details, document_type), "govuk/dates")
    for name in BODY_FIELDS:
        html = _html(details.get(name))
        if html:
            for line, path in _body_blocks(html, links):
                add(line, f"govuk/{name}/{path}")
    attachments = list_attachments(details, base)
    for attachment in attachments:
        add(f"Attachment: {attachment.title or attachment.url}", "govuk/attachment")
    note, when = newest_note(details)
    if note:
        add(f"Latest change ({when}): {note}" if when else f"Latest change: {note}", "govuk/note")
    if not blocks:
        raise ExtractError("empty", f"the content item {item.get('base_path', '')!r} has no text")
    metadata = [
        ("govuk:document-type", document_type),
        ("govuk:format", document_type),
    ]
    schema = _text(item.get("schema_name"))
    if schema:
        metadata.append(("govuk:schema-name", schema))
    for org in _organisations(item):
        metadata.append(("govuk:organisation", org))
    return Extracted(
        title=normalise_line(_text(item.get("title"))),
        blocks=tuple(blocks),
        paths=tuple(paths),
        metadata=tuple(metadata),
        attachments=tuple(attachments),
        note=note,
        links=tuple(links),
    )


def consultation_dates(details: dict[str, Any], document_type: str) -> str:
    """ "This consultation closes on 11 May 2027 at 5pm (opening date: 2 March 2027)." or ""."""
    closing = _when(details.get("closing_date"))
    if closing is None:
        return ""
    what = "call for evidence" if "call_for_evidence" in document_type else "consultation"
    closed = document_type.startswith("closed_") or document_type.endswith("_outcome")
    line = f"This {what} {'closed' if closed else 'closes'} on {_day(closing)}"
    opening = _when(details.get("opening_date"))
    if opening is not None:
        line += f" (opening date: {_day(opening)})"
    return line + "."


def newest_note(details: dict[str, Any]) -> tuple[str, str]:
    """(note, "29 March 2016") of the newest `change_history` entry; its order varies by item."""
    entries = details.get("change_history")
    if not isinstance(entries, list):
        return "", ""
    dated: list[tuple[datetime, str]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        note = normalise_line(_text(entry.get("note")))
        when = _when(entry.get("public_timestamp"))
        if note and when is not None:
            dated.append((when, note))
    if not dated:
        return "", ""
    when, note = max(dated, key=lambda pair: pair[0])
    return note, f"{when.day} {when:%B %Y}"


def list_attachments(details: dict[str, Any], base: str = GOVUK_SITE) -> list[Attachment]:
    """`details.attachments[]` and the files linked from rendered attachment blocks, once each."""
    found: dict[str, Attachment] = {}
    raw = details.get("attachments")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not _text(entry.get("url")):
            continue
        url = _absolute(_text(entry["url"]), base)
        if url and url not in found:
            found[url] = Attachment(
                url=url,
                title=normalise_line(_text(entry.get("title"))),
                content_type=_text(entry.get("content_type")) or _guess_type(url),
            )
    for name in DOCUMENT_FIELDS:
        for block in _as_list(details.get(name)):
            for attachment in _embedded(block, base):
                found.setdefault(attachment.url, attachment)
    return list(found.values())


def _embedded(html: str, base: str) -> list[Attachment]:
    soup = BeautifulSoup(html, "lxml")
    out: list[Attachment] = []
    for section in soup.select("section.attachment"):
        link = section.select_one("h2.title a[href], .title a[href]") or section.find(
            "a", href=True
        )
        if not isinstance(link, Tag):
            continue
        href = str(link.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:")):
            continue
        url = _absolute(href, base)
        if url:
            out.append(
                Attachment(
                    url=url,
                    title=normalise_line(link.get_text(" ")),
                    content_type=_guess_type(url),
                )
            )
    return out


def _body_blocks(html: str, links: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """The readable blocks of an HTML fragment with their element paths; its links (href, anchor
    text) are added to `links` when given."""
    try:
        got = extract(f"<html><body><main>{html}</main></body></html>")
    except ExtractError:
        return []  # a body that is only markup (an image, an empty div) says nothing
    if links is not None:
        links.extend(got.links)
    paths = got.paths or ("",) * len(got.blocks)
    return [
        (line, path.removeprefix("main").strip("/"))
        for line, path in zip(got.blocks, paths, strict=True)
    ]


def _organisations(item: dict[str, Any]) -> list[str]:
    links = item.get("links")
    orgs = links.get("organisations") if isinstance(links, dict) else None
    names = [normalise_line(_text(org.get("title"))) for org in _as_dicts(orgs)]
    return list(dict.fromkeys(name for name in names if name))


def _html(value: object) -> str:
    """An HTML field: a string, or the multi-type form [{content_type, content}, ...]."""
    if isinstance(value, str):
        return value
    for part in _as_dicts(value):
        if part.get("content_type") == "text/html":
            return _text(part.get("content"))
    return ""


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _as_dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _when(value: object) -> datetime | None:
    try:
        when = datetime.fromisoformat(_text(value)) if _text(value) else None
    except ValueError:
        return None
    # A stamp without a zone is taken as UTC, so every stamp of an item compares with the others.
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _day(when: datetime) -> str:
    day = f"{when.day} {when:%B %Y}"
    if (when.hour, when.minute) in ((0, 0), (23, 59)):
        return day  # midnight is a date, not a time of day
    hour = when.hour % 12 or 12
    minute = f":{when.minute:02d}" if when.minute else ""
    return f"{day} at {hour}{minute}{'am' if when.hour < 12 else 'pm'}"


def _absolute(href: str, base: str) -> str:
    url = urljoin(base.rstrip("/") + "/", href)
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _guess_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed or ""


def _site_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return GOVUK_SITE
