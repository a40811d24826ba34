"""watcher: watch web pages, say what changed and why it matters."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("watcher")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

PROJECT_URL = "https://github.com/watcher-monitor/watcher"
