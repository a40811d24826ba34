"""What every table's reader shares: the line of a key, unknown-key errors, durations, string
lists, and secrets from the environment or a file."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from watcher.config.parse import parse_duration
from watcher.config.types import Secret
from watcher.errors import ConfigError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Bounds of `expect_change_within`: shorter than an hour is noise, longer than ten years is never.
MIN_EXPECT = timedelta(hours=1)
MAX_EXPECT = timedelta(days=3650)
EXPECT_HINT = 'write it like "90d" (or false to turn a [watcher] default off for one source)'
NAME_RULE = (
    "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters"
)


def name_problem(name: object) -> str:
    """Why `name` is not a valid source or target name, worded with the fix ('' if it is valid).

    A name that was given is never called missing: the message says what is wrong with it."""
    if isinstance(name, str) and NAME_RE.match(name):
        return ""
    if not isinstance(name, str) or not name.strip():
        return f"name is required: a name is {NAME_RULE}"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("._-")[:64] or "my-source"
    bad = list(dict.fromkeys(c for c in name if not (c.isascii() and (c.isalnum() or c in "._-"))))
    if bad:
        why = f"name {name!r} cannot hold {' or '.join(repr(c) for c in bad)}"
    elif len(name) > 64:
        why = f"name is {len(name)} characters long"
    else:
        why = f"name {name!r} starts with {name[0]!r}"
    return f'{why}: a name is {NAME_RULE}; try name = "{slug}"'


class _Locator:
    """Finds the line of a table or key in the TOML text, since tomllib keeps no positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str]] = []
        for i, line in enumerate(self.lines, start=1):
            m = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", line)
            if m:
                self.headers.append((i, m.group(1)))
        # Indexed once: a file of thousands of sources asks for each one's line, and a scan per
        # question made loading it quadratic.
        self._tables: dict[str, list[int]] = {}
        for ln, name in self.headers:
            self._tables.setdefault(name, []).append(ln)
        self._next = {ln: later for (ln, _), (later, _) in pairwise(self.headers)}

    def table(self, name: str, index: int = 0) -> int | None:
        found = self._tables.get(name, [])
        return found[index] if index < len(found) else None

    def key(self, key: str, table: str | None = None, index: int = 0) -> int | None:
        start = self.table(table, index) if table else 0
        if table and start is None:
            return None
        start = start or 0
        if start:
            end = self._next.get(start, len(self.lines) + 1)
        else:
            end = self.headers[0][0] if self.headers else len(self.lines) + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for ln in range(start + 1, end):
            if pattern.match(self.lines[ln - 1]):
                return ln
        return start or None


class Reader:
    """Reads one sources file; each table's reader (settings, sources, alerts) builds on it."""

    def __init__(self, path: Path, text: str, environ: Mapping[str, str]) -> None:
        self.path = path
        self.where = _Locator(text)
        self.environ = environ

    def fail(self, line: int | None, message: str) -> ConfigError:
        place = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{place}: {message}")

    def check_keys(
        self,
        data: Mapping[str, Any],
        allowed: tuple[str, ...],
        what: str,
        table: str | None,
        index: int = 0,
    ) -> None:
        for key in data:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(key, allowed, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"allowed keys: {', '.join(allowed)}"
            if table == "notify" and key in ("url", "apprise", "urls"):
                fix = 'put the Apprise URL in an environment variable and name it with env = "..."'
            line = (
                self.where.key(key, table, index)
                if table
                else self.where.table(key) or self.where.key(key)
            )
            raise self.fail(line, f"{what}: unknown key {key!r}; {fix}")

    def duration(self, value: Any, key: str, what: str, table: str, index: int = 0) -> timedelta:
        line = self.where.key(key, table, index)
        if not isinstance(value, str):
            raise self.fail(line, f'{what}: {key} must be a string like "30m", "6h" or "1d"')
        try:
            return parse_duration(value)
        except ValueError:
            raise self.fail(
                line,
                f'{what}: {key} = {value!r} is not a duration; write it like "30m", "6h" or "1d"',
            ) from None

    def expect(
        self, data: Mapping[str, Any], what: str, table: str, index: int = 0
    ) -> timedelta | None:
        """`expect_change_within`: a duration from "1h" to "3650d", or false for none."""
        key = "expect_change_within"
        if key not in data or data[key] is False:
            return None
        value = data[key]
        line = self.where.key(key, table, index)
        if not isinstance(value, str):
            raise self.fail(line, f"{what}: {key} must be a duration; {EXPECT_HINT}")
        try:
            within = parse_duration(value)
        except ValueError:
            raise self.fail(
                line, f"{what}: {key} = {value!r} is not a duration; {EXPECT_HINT}"
            ) from None
        if not MIN_EXPECT <= within <= MAX_EXPECT:
            raise self.fail(
                line, f'{what}: {key} = {value!r} must lie between "1h" and "3650d", like "90d"'
            )
        return within

    def string_list(
        self, value: Any, key: str, what: str, table: str, index: int
    ) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(
                self.where.key(key, table, index),
                f"{what}: {key} must be a string or a list of strings",
            )
        return tuple(v.strip() for v in value)

    def secret(self, env: str, what: str, line: int | None = None) -> Secret | None:
        value = self.environ.get(env, "").strip()
        if value:
            return Secret(value)
        file_var = f"{env}_FILE"
        file_path = self.environ.get(file_var, "").strip()
        if not file_path:
            return None
        try:
            content = Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise self.fail(
                line,
                f"{what}: cannot read the secret file named by {file_var} "
                f"({exc.strerror or type(exc).__name__}); check the path and its permissions",
            ) from None
        except UnicodeDecodeError:  # its message would quote bytes of the secret
            raise self.fail(
                line,
                f"{what}: the secret file named by {file_var} is not UTF-8 text; write the URL as text",
            ) from None
        return Secret(content) if content else None
