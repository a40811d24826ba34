"""Log lines: one event per line whatever page text says, and secrets redacted."""

from __future__ import annotations

import json
import logging

from watcher.logs import JsonFormatter, TextFormatter, redact, register_secret

FORGED = 'Title\n{"level": "error", "event": "forged"}\r\nnext'


def record(**extra: object) -> logging.LogRecord:
    rec = logging.makeLogRecord({"msg": "checked", "levelname": "INFO", "levelno": 20})
    rec.__dict__.update(extra)
    return rec


def test_page_text_cannot_forge_a_log_line() -> None:
    text = TextFormatter().format(record(title=FORGED))
    assert "\n" not in text and "\r" not in text
    line = JsonFormatter().format(record(title=FORGED))
    assert "\n" not in line
    assert json.loads(line)["title"] == FORGED


def test_a_registered_secret_is_masked_but_short_values_are_not() -> None:
    register_secret("CANARY-SECRET-7f3a9")
    register_secret("abc")  # too short to be a secret worth masking everywhere
    assert redact("url CANARY-SECRET-7f3a9 abc") == "url *** abc"
