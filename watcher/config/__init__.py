"""Configuration: the typed values (types.py) and the reader of `sources.toml` (loader.py and
one module per table). Today's names are re-exported, so `from watcher.config import X` works."""

from watcher.config.alerts import FORMATS, MODES
from watcher.config.loader import load_config, register_secrets
from watcher.config.parse import default_user_agent, parse_duration, parse_listen
from watcher.config.types import Config, NotifyTarget, Route, Secret, Settings, WebSettings

__all__ = [
    "FORMATS",
    "MODES",
    "Config",
    "NotifyTarget",
    "Route",
    "Secret",
    "Settings",
    "WebSettings",
    "default_user_agent",
    "load_config",
    "parse_duration",
    "parse_listen",
    "register_secrets",
]
