"""Growing delays for entries held up by transient errors.

An unreachable or misbehaving node is never a reason to fail an entry: it stays where it is,
its attempts and last error are recorded, and it is not tried again before its delay is over.
Delays live in memory only, so a restarted process tries every entry at once.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.errors import ChainError
from keys.errors import KeysError
from vault import clock
from vault.db.models import OutboxEntry

# Logged as the submitter, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.submitter")
# Errors that say nothing about whether the write can succeed: the node is down, slow or
# confused, a key file is unreadable. The entry waits and is retried.
TRANSIENT = (ChainError, OSError, ValueError, TimeoutError, KeysError)


class Backoff:
    """When each entry held up by a transient error may be tried again."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float, max_backoff: float,
    ) -> None:
        self.sessions = sessions
        # The delay doubles with each attempt the entry has on record (reverts count too),
        # so an entry that keeps failing is not hammered again after a restart either.
        self.interval = interval
        self.max_backoff = max_backoff
        self._not_before: dict[int, float] = {}

    def waiting(self, entry_id: int) -> bool:
        return time.monotonic() < self._not_before.get(entry_id, 0.0)

    def clear(self, entry_id: int) -> None:
        self._not_before.pop(entry_id, None)

    async def retry_later(self, entry_id: int, exc: BaseException) -> None:
        async with self.sessions.begin() as session:
            entry = await session.get(OutboxEntry, entry_id)
            if entry is None:
                return
            entry.attempts += 1
            entry.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            entry.updated_at = clock.now()
            attempts = entry.attempts
        delay = min(self.max_backoff, self.interval * 2 ** min(attempts, 16))
        self._not_before[entry_id] = time.monotonic() + delay
        level = logging.WARNING if attempts < 10 else logging.ERROR
        log.log(level, "outbox %s: %s (attempt %s; again in %.1fs)", entry_id, exc, attempts, delay)
