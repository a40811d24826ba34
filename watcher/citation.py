"""A change as a citation: where the text came from, when it was retrieved, the SHA-256 of the
text as stored, what changed, and the archived copy's permalink. Pure.

The hash is the address of the stored text (`snapshots.hash`, the SHA-256 of its UTF-8 bytes,
`watcher.pipeline.observed.digest`), so anyone holding the archived copy can recompute it. A
citation is built from the text read back from the store and says whether the text still hashes
to its address (`verified`): a mismatch means the stored copy was altered or damaged, and the
citation says so rather than vouch for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime

from watcher.blockmarks import plain, plain_summary
from watcher.presentation import UNSAFE_CHARS, when
from watcher.rows import ChangeRow

FORMATS = ("text", "json", "bibtex", "markdown")
EXCERPT_CHARS = 400
EXCERPT_LINES = 3


def digest(text: str) -> str:
    """The SHA-256 of text's UTF-8 bytes, as hex: how snapshots are addressed (the same as
    `watcher.pipeline.observed.digest`, which the web app may not import)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Citation:
    change_id: int
    source: str
    title: str
    url: str
    retrieved_at: str  # ISO 8601, UTC: when the check that found the change fetched the page
    sha256: str  # of the stored text after the change
    verified: bool  # the stored text still hashes to `sha256`
    excerpt: str  # what changed, quoted
    before_sha256: str = ""
    permalink: str | None = None  # the archived copy in the web app
    change_link: str | None = None  # the change page in the web app


def _one_line(text: str) -> str:
    return " ".join(UNSAFE_CHARS.sub("", text).split())


def excerpt(row: ChangeRow, limit: int = EXCERPT_CHARS) -> str:
    """What changed, quoted: the first added lines (or, for a removal, the removed ones)."""
    lines, mark = (row.added, "") if row.added else (row.removed, "removed: ")
    text = " / ".join(_one_line(plain(line)) for line in lines[:EXCERPT_LINES] if line.strip())
    if len(lines) > EXCERPT_LINES:
        text += " / …"
    text = mark + text if text else _one_line(plain_summary(row.summary))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def cite(row: ChangeRow, stored_text: str | None, base: str | None = None) -> Citation:
    """The citation of a change whose after-text, as stored, is `stored_text`."""
    root = (base or "").rstrip("/")
    return Citation(
        change_id=row.id,
        source=_one_line(row.source),
        title=_one_line(row.title),
        url=_one_line(row.url),
        retrieved_at=row.detected_at,
        sha256=row.after_hash,
        verified=stored_text is not None and digest(stored_text) == row.after_hash,
        excerpt=excerpt(row),
        before_sha256=row.before_hash,
        permalink=f"{root}/snapshots/{row.after_hash}" if root else None,
        change_link=f"{root}/changes/{row.id}" if root else None,
    )


def _retrieved(c: Citation) -> str:
    return when(c.retrieved_at) or c.retrieved_at


def as_text(c: Citation) -> str:
    lines = [
        f"{c.source}. “{c.title or c.url}”.",
        f"URL: {c.url}",
        f"Retrieved: {_retrieved(c)} ({c.retrieved_at})",
        f"SHA-256 of the stored text: {c.sha256}"
        + ("" if c.verified else " (WARNING: the stored text no longer matches this hash)"),
        f"What changed: “{c.excerpt}”",
    ]
    if c.permalink:
        lines.append(f"Archived copy: {c.permalink}")
    if c.change_link:
        lines.append(f"Change: {c.change_link}")
    lines.append(f"watcher change #{c.change_id}")
    return "\n".join(lines)


def as_markdown(c: Citation) -> str:
    def md(text: str) -> str:
        return re.sub(r"([\\`*_\[\]<>|#!])", r"\\\1", text)

    title = md(c.title or c.url)
    lines = [
        f"{md(c.source)}, “{title}”, <{c.url}>, retrieved {md(_retrieved(c))}.",
        f"SHA-256 of the stored text: `{c.sha256}`"
        + ("" if c.verified else " (**the stored text no longer matches this hash**)"),
        f"What changed: “{md(c.excerpt)}”",
    ]
    if c.permalink:
        lines.append(f"Archived copy: <{c.permalink}>")
    return "  \n".join(lines)


def as_bibtex(c: Citation) -> str:
    def bib(text: str) -> str:
        # Braces balanced by escaping, TeX specials escaped: page text cannot end the entry.
        return re.sub(r"([\\{}%$&#_^~])", r"\\\1", text)

    day = c.retrieved_at[:10]
    try:
        year = str(datetime.fromisoformat(c.retrieved_at).year)
    except ValueError:
        year = day[:4]
    fields = {
        "title": bib(c.title or c.url),
        "author": "{" + bib(c.source) + "}",
        "howpublished": "\\url{" + c.url.replace("}", "%7D").replace("{", "%7B") + "}",
        "url": c.url.replace("}", "%7D").replace("{", "%7B"),
        "urldate": day,
        "year": year,
        "note": bib(
            f"Retrieved {c.retrieved_at}; SHA-256 of the stored text {c.sha256}"
            + (f"; archived copy {c.permalink}" if c.permalink else "")
        ),
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{watcher-change-{c.change_id},\n{body}\n}}"


def as_json(c: Citation) -> str:
    return json.dumps(asdict(c), ensure_ascii=False, indent=2)


def render(c: Citation, fmt: str = "text") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return {"text": as_text, "json": as_json, "bibtex": as_bibtex, "markdown": as_markdown}[fmt](c)
