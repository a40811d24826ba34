"""Atom feeds, CSV and JSON exports, and the JSON shapes of the API. Pure."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from watcher.diff import render_diff
from watcher.presentation import category_label, change_json
from watcher.rows import ChangeRow, SearchHit, TimelineItem
from watcher.web.present import plain_snippet

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all; a page may hold them, a feed must not.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A cell starting with these is a formula to a spreadsheet: page text must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "detected_at",
    "source",
    "category",
    "confidence",
    "review_state",
    "title",
    "summary",
    "evidence",
    "url",
    "link",
    "sha256",
    "retrieved_at",
    "permalink",
)
# Atom entries carry the change-v1 object (watcher.structured) as elements of this namespace.
CHANGE_NS = "https://watcher.invalid/schema/change-v1"
XML_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]")


def xml_text(text: object) -> str:
    return NOT_XML.sub("\ufffd", "" if text is None else str(text))


def change_summary(row: ChangeRow | TimelineItem, base: str) -> dict[str, Any]:
    """A change as one item of the API's lists."""
    return change_json(row, base, detail=False)


def change_detail(row: ChangeRow, base: str) -> dict[str, Any]:
    """A change with its diff, evidence and review history."""
    return change_json(row, base)


def search_hit(row: SearchHit, base: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "detected_at": row.detected_at,
        "title": row.title,
        "category": row.category,
        "review_state": row.review_state,
        "snippet": plain_snippet(row.snippet),
        "link": f"{base}/changes/{row.id}",
    }


def data_element(parent: ET.Element, key: str, value: Any) -> ET.Element:
    """A JSON value as XML in the change namespace: an object's keys become child elements, a
    list's entries `item` elements, null an empty element with nil="true", anything else its
    text (true/false in lower case, as JSON writes them)."""
    name = XML_NAME_BAD.sub("_", key) or "_"
    if not (name[0].isalpha() or name[0] == "_"):
        name = "_" + name
    element = ET.SubElement(parent, f"{{{CHANGE_NS}}}{name}")
    if value is None:
        element.set("nil", "true")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            data_element(element, str(k), v)
    elif isinstance(value, list | tuple):
        element.set("list", "true")
        for v in value:
            data_element(element, "item", v)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = xml_text(value)
    return element


def atom(
    rows: Sequence[ChangeRow],
    *,
    title: str,
    feed_url: str,
    base: str,
    now: datetime,
    structured: Mapping[int, Mapping[str, Any]] | None = None,
) -> bytes:
    """An Atom 1.0 feed of changes (full rows, newest first). ElementTree escapes every value.
    With `structured` (change id to its change-v1 object), each entry carries its object as a
    `change` element in the CHANGE_NS namespace (see `data_element`)."""
    ET.register_namespace("", ATOM)
    ET.register_namespace("w", CHANGE_NS)

    def sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = xml_text(text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", feed_url)
    sub(feed, "title", title)
    updated = rows[0].detected_at if rows else now.astimezone(UTC).isoformat()
    sub(feed, "updated", updated)
    sub(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=feed_url.replace("/feed.atom", "/", 1))
    sub(sub(feed, "author"), "name", "watcher")
    sub(feed, "generator", "watcher")
    for row in rows:
        entry = sub(feed, "entry")
        link = f"{base}/changes/{row.id}"
        sub(entry, "id", link)
        label = category_label(row.category, "feed")
        sub(entry, "title", f"[{label}] {row.source}: {row.title}")
        sub(entry, "updated", row.detected_at)
        sub(entry, "published", row.detected_at)
        sub(entry, "link", rel="alternate", href=link)
        if row.category:
            sub(entry, "category", term=xml_text(row.category))
        data = (structured or {}).get(row.id)
        if data is not None:
            data_element(entry, "change", data)
        lines = [row.sentence or "", row.summary, "", render_diff(row.diff, 40)]
        sub(
            entry,
            "summary",
            "\n".join(line for line in lines if line is not None).strip(),
            type="text",
        )
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: Sequence[ChangeRow | TimelineItem], base: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        item = change_summary(row, base)
        item["evidence"] = item.pop("evidence_sentence")
        if isinstance(row, ChangeRow):
            item.update(
                sha256=row.after_hash,
                retrieved_at=row.detected_at,
                permalink=f"{base}/snapshots/{row.after_hash}",
            )
        writer.writerow([_cell(item.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
