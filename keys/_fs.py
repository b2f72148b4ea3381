"""Create secret files atomically, never overwriting an existing one."""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

# Filesystems where hard links are unavailable; we fall back to an exclusive create there.
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS}


def create_exclusive(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to a new file at ``path`` with ``mode``; FileExistsError if it exists.

    The content is written to a temporary file and hard-linked into place, so a reader
    never sees a half-written file and two racing creators cannot both win (a rename
    would silently replace the loser's key, losing whatever it already encrypted).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write(tmp, data, mode)
    try:
        try:
            os.link(tmp, path)
        except OSError as exc:
            if exc.errno not in _NO_LINK or isinstance(exc, FileExistsError):
                raise
            _write(path, data, mode)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        # The umask can only narrow the mode, but make it exact anyway.
        os.fchmod(f.fileno(), mode)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    # Makes the new directory entry durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace the existing file at ``path`` with ``data`` in one rename: a reader sees the old
    content or the new, never a mix. Only for content that means the same as what it replaces
    (a keystore entry rewrapped in another suite holds the same key), never to swap keys."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write(tmp, data, mode)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
