"""Where `watcher migrate --to` copies a state: a SQLite state directory or a PostgreSQL URL.

A database URL carries a password, so it is only ever shown as `postgresql://host:port/dbname`
and registered as a secret, so no log line or error can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from watcher.errors import ConfigError, StoreError
from watcher.logs import register_secret
from watcher.store.schema import DB_NAME

if TYPE_CHECKING:
    from watcher.store import Store

POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class Target:
    """A parsed target: `engine` "sqlite" (with `path`, the database file) or "postgresql"
    (with `url`, secret); `shown` is what may be printed."""

    engine: str
    shown: str
    path: Path | None = None
    url: str = ""


def parse_target(text: str, origin: str = "--to") -> Target:
    """`sqlite:PATH`, a state directory (or a .db file) path, or a postgresql:// URL.

    `origin` names where the text came from, for the error message."""
    scheme, _, rest = text.partition(":")
    if scheme.lower() in POSTGRES_SCHEMES and rest.startswith("//"):
        register_secret(text)
        parts = urlsplit(text)
        if parts.password:
            register_secret(parts.password)
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            raise ConfigError(f"{origin}: the database URL has a bad port; fix the URL") from None
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise ConfigError(
                f"{origin}: the database URL needs a host and a database name, like "
                "postgresql://USER:PASSWORD@HOST:5432/DBNAME"
            )
        return Target("postgresql", f"postgresql://{parts.hostname}{port}/{dbname}", url=text)
    if scheme.lower() == "sqlite":
        text = rest
    elif "://" in text:
        raise ConfigError(
            f"{origin}: {scheme}:// is not a store watcher can copy into; give sqlite:PATH, a "
            "state directory, or a postgresql:// URL"
        )
    if not text:
        raise ConfigError(f"{origin}: give a path after sqlite:, like sqlite:/var/lib/watcher2")
    path = Path(text).expanduser()
    database = path if path.suffix == ".db" or path.is_file() else path / DB_NAME
    return Target("sqlite", f"sqlite:{database}", path=database)


def open_target(target: Target) -> Store:
    """The target store, opened and migrated to the latest schema."""
    from watcher.store import Store

    if target.engine == "postgresql":
        return open_postgresql(target)
    return Store(make_directory(target) / target.path.name)  # type: ignore[union-attr]


def make_directory(target: Target) -> Path:
    """The SQLite target's directory, created if missing (one line naming it when it cannot be)."""
    assert target.path is not None
    try:
        target.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"{target.shown}: cannot create the target directory ({exc.strerror}); "
            "choose a writable path"
        ) from None
    return target.path.parent


def open_postgresql(target: Target) -> Store:
    """The PostgreSQL store at `target.url`, migrated."""
    from watcher.store import Store

    return Store.connect(target.url)
