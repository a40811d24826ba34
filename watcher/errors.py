"""One exception hierarchy: every error a user can see names the thing and the fix."""

from __future__ import annotations


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""

    exit_code = 1


class ConfigError(WatcherError):
    """`sources.toml` (or the environment it points at) is wrong; the message says where and how."""

    exit_code = 2


class FetchError(WatcherError):
    """A fetch failed. `reason` is a short machine word: timeout, connect, http_status, too_large..."""

    def __init__(self, reason: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class EgressDenied(FetchError):
    """The address gate refused to connect (private, loopback, metadata or non-http address)."""

    def __init__(self, message: str) -> None:
        super().__init__("blocked", message)


class ExtractError(WatcherError):
    """A fetched page could not be turned into text (selector matched nothing, empty page)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class StoreError(WatcherError):
    """The state database is unusable (not writable, damaged, newer than this code)."""

    exit_code = 3


class ClaimLost(StoreError):
    """A worker's lease on a site ran out (a stall longer than the lease, and another worker took
    the site over): its outcome is not written, since the new holder's may already be."""


class CopyError(WatcherError):
    """A state copy was refused (the target holds data) or its check found a difference."""

    exit_code = 2
