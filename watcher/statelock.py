"""One writer per state: an OS file lock beside the database, held by `check`, `run`, `migrate`
and `prune` for as long as they run.

`flock` locks belong to the open file, so the kernel drops them when the holder exits, however it
exits (kill -9 included): a lock is never left behind by a dead process. The file is never
deleted, which would let a second process lock a new file while the first still holds the old.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from watcher.errors import StoreError, WatcherError

LOCK_NAME = "watcher.lock"
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


class StateLocked(WatcherError):
    """Another watcher process is writing this state; the message names it (pid, command)."""

    exit_code = 2


def read_only_error(state_dir: Path, detail: str) -> StoreError:
    """The one message for a state directory that cannot be written to."""
    return StoreError(
        f"{state_dir}: the state directory is read-only or not writable by this user ({detail}); "
        "mount it read-write, fix its owner, or point --state at a writable directory"
    )


def unwritable(state_dir: Path) -> str | None:
    """Why nothing can be written in `state_dir` (a read-only mount, no permission), or None."""
    try:
        if os.statvfs(state_dir).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        return None  # missing: whoever creates it will say why if it cannot
    if not os.access(state_dir, os.W_OK):
        return "no write permission"
    return None


@contextmanager
def hold(state_dir: Path, command: str, server: bool = False) -> Iterator[Path]:
    """Hold the state's writer lock while the block runs; raise StateLocked if another has it.

    `server`: the state is a PostgreSQL database, shared by workers on several machines, which
    an flock beside a file cannot span; nothing is locked (migrations take an advisory lock)."""
    if server:
        yield state_dir / LOCK_NAME
        return
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in READ_ONLY:
            raise read_only_error(state_dir, exc.strerror or str(exc)) from None
        raise StoreError(
            f"{state_dir}: cannot create the lock file ({exc.strerror or exc}); "
            "set --state or WATCHER_STATE to a writable directory"
        ) from None
    path = state_dir / LOCK_NAME
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise StateLocked(
                f"{state_dir} is in use by {holder}; wait for it to finish or stop it, "
                "since two writers on one state would alert twice"
            ) from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`watcher {command}` (pid {os.getpid()}, since {started})\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock
