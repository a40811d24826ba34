"""The `[web]` table: where the staff web app listens, and the variables naming its secrets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from watcher.config.parse import parse_listen
from watcher.config.reader import ENV_RE, Reader
from watcher.config.types import Secret, WebSettings

WEB_KEYS = ("listen", "public_url", "password_env", "tokens_env", "secret_key_env")


class WebReader(Reader):
    def web(self, data: Any) -> WebSettings:
        if not isinstance(data, dict):
            raise self.fail(self.where.key("web"), "web must be a table: write it as [web]")
        self.check_keys(data, WEB_KEYS, "[web]", "web")
        listen = data.get("listen", WebSettings.listen)
        if not isinstance(listen, str) or (listen != "off" and parse_listen(listen) is None):
            raise self.fail(
                self.where.key("listen", "web"),
                f'[web]: listen = {listen!r} is not an address; write it like "127.0.0.1:8080" or "off"',
            )
        public_url = data.get("public_url")
        if public_url is not None:
            parts = urlsplit(public_url) if isinstance(public_url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(
                    self.where.key("public_url", "web"),
                    '[web]: public_url must be an http(s) URL like "https://watcher.example.org"',
                )
            public_url = public_url.rstrip("/")
        names: dict[str, str] = {}
        for key in ("password_env", "tokens_env", "secret_key_env"):
            value = data.get(key, getattr(WebSettings, key))
            if not isinstance(value, str) or not ENV_RE.match(value):
                raise self.fail(
                    self.where.key(key, "web"),
                    f'[web]: {key} must name an environment variable, like "WATCHER_WEB_PASSWORD"',
                )
            names[key] = value
        line = self.where.table("web")
        tokens = self.secret(names["tokens_env"], "[web]", line)
        return WebSettings(
            listen=listen,
            public_url=public_url,
            password=self.secret(names["password_env"], "[web]", line),
            tokens=tuple(
                Secret(t) for t in (tokens.reveal().replace(",", " ").split() if tokens else ())
            ),
            secret_key=self.secret(names["secret_key_env"], "[web]", line),
            **names,
        )
