"""Logging set-up for the CLI: one line per event, human or JSON, with secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_SECRETS: set[str] = set()
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def register_secret(value: str) -> None:
    """Remember a secret so that no log line can carry it."""
    if len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    # Longest first: a whole URL is hidden whole, not left in pieces around its password.
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and v is not None}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        parts = [when, record.levelname.lower(), record.getMessage()]
        parts += [f"{k}={v}" for k, v in _extras(record).items()]
        if record.exc_info:
            parts.append(self.formatException(record.exc_info).replace("\n", " | "))
        # One event, one line: page-derived text must not forge extra log lines.
        return redact(" ".join(str(p) for p in parts).replace("\n", "\\n").replace("\r", "\\r"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(data, default=str, ensure_ascii=False))


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Apprise and the scheduler are chatty below WARNING, and Apprise may name its URLs.
    for noisy in ("apprise", "apscheduler", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
