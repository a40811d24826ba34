"""How the CLI writes page text and reads its own arguments: cut lines, indented diffs,
terminal-safe text, `--since` values."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from watcher.config import parse_duration


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    bad = click.BadParameter(
        f'{text!r}: give an ISO date like 2026-11-01 or an age like "7d"', param_hint="--since"
    )
    try:
        age = parse_duration(text)
    except ValueError:
        pass
    else:
        try:
            return datetime.now(UTC) - age
        except OverflowError:  # "999999d" reaches back before year 1
            raise bad from None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise bad from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# Page text reaches the terminal: bidirectional overrides could make a line read unlike its bytes,
# and escape sequences could drive the terminal itself. Both are shown escaped.
TERMINAL_UNSAFE = frozenset(
    [
        *range(0x00, 0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


def terminal_safe(text: str) -> str:
    """`text` with control, escape and bidi-override characters shown as \\uXXXX."""
    return "".join(f"\\u{ord(c):04x}" if ord(c) in TERMINAL_UNSAFE else c for c in text)


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def stamp(value: str | None, empty: str = "-") -> str:
    """A stored ISO timestamp as `2026-11-30 09:15:02` (UTC, to the second): no fraction and no
    offset, which the column header names."""
    if not value:
        return empty
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.utcoffset() is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def table(headers: list[str], rows: list[list[str]], tty: bool | None = None) -> str:
    """Rows under a header row. On a terminal, columns padded to line up under headers in
    capitals (`last_check_utc` reads LAST CHECK UTC). Piped (`tty` False), tab-separated lines
    under the headers as given, which `cut`, `awk` and spreadsheets read. Tabs and line breaks
    inside a cell become spaces, and cells are made terminal-safe, either way."""
    if tty is None:
        tty = sys.stdout.isatty()
    cells = [[" ".join(terminal_safe(str(c)).split()) for c in row] for row in rows]
    if not tty:
        return "\n".join("\t".join(row) for row in [headers, *cells])
    top = [h.replace("_", " ").upper() for h in headers]
    widths = [max(len(row[i]) for row in [top, *cells]) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [top, *cells]
    )
