"""Directories a test process keeps for its whole life (a shared node's state, migrated
templates), removed when the session ends.

They live outside pytest's ``tmp_path`` because they outlive any one test; left behind, every
run leaked a few dozen megabytes into the temporary directory until a CI machine's disk filled.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_made: list[Path] = []


def scratch_dir(prefix: str) -> Path:
    """A new directory that :func:`remove_all` (or this process's exit) deletes."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _made.append(path)
    return path


def remove_all() -> None:
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


# An xdist worker may leave without its session-finish hook; exit handlers still run then.
atexit.register(remove_all)
