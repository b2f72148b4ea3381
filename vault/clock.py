"""Time as the vault sees it: integer Unix seconds. Services take ``now`` so tests control time."""

from __future__ import annotations

import time


def now() -> int:
    return int(time.time())
