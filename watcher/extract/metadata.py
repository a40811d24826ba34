"""What a publisher states about a page in its markup. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable

from watcher.extract.blocks import normalise_line
from watcher.extract.tree import Element

# What a publisher states about a page in its markup: GOV.UK's govuk:* meta tags (govuk:format is
# the document type), Open Graph's og:type, and schema.org JSON-LD @type.
STATED_PROPERTIES = frozenset({"og:type"})


def metadata(metas: Iterable[Element], json_ld: Iterable[Element]) -> tuple[tuple[str, str], ...]:
    """The page's stated kind, as (key, value) pairs: govuk:*, og:type, schema:@type, from its
    <meta> elements and its <script type="application/ld+json"> elements."""
    found: dict[str, str] = {}
    for tag in metas:
        key = str(tag.get("name") or tag.get("property") or "").strip().lower()
        value = normalise_line(str(tag.get("content") or ""))[:200]
        if value and (key.startswith("govuk:") or key in STATED_PROPERTIES):
            found.setdefault(key, value)
    types: list[str] = []
    for script in json_ld:
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # a page's broken JSON-LD says nothing
        types += [t for t in _schema_types(data) if t not in types]
    if types:
        found["schema:@type"] = ",".join(types)
    return tuple(sorted(found.items()))


def _schema_types(data: object, depth: int = 0) -> list[str]:
    """@type values of a JSON-LD document, its @graph and top-level lists."""
    if depth > 3:
        return []
    if isinstance(data, list):
        return [t for item in data for t in _schema_types(item, depth + 1)]
    if not isinstance(data, dict):
        return []
    kind = data.get("@type")
    out = (
        [kind]
        if isinstance(kind, str)
        else [k for k in kind if isinstance(k, str)]
        if isinstance(kind, list)
        else []
    )
    return out + _schema_types(data.get("@graph"), depth + 1)
