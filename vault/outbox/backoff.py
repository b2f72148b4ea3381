"""Growing delays for entries held up by errors.

An unreachable or misbehaving node (or database) is never a reason to fail an entry: it stays
where it is, its attempts and last error are recorded, and it is not tried again before its
delay is over. Any other error is a bug: it is logged with its traceback and delayed the same
way, but ``vault.outbox.delivery`` fails the entry after ``BUG_ATTEMPTS`` of them in a row, rather than
retry it, and hold up every entry after it, forever.
Delays live in memory only, so a restarted process tries every entry at once.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chain.errors import ChainError
from keys.errors import KeysError
from vault import clock
from vault.db.models import OutboxEntry

# Logged as the outbox, whichever of its modules writes: one logger name to filter on.
log = logging.getLogger("vault.outbox")
# Errors that say nothing about whether the write can succeed: the node is down, slow or
# confused (web3's errors reach the vault as ChainError), the database is unreachable or
# busy, a key file is unreadable. The entry waits and is retried, however long it takes.
# Not ValueError, TypeError, KeyError...: those are bugs, and waiting does not fix them.
TRANSIENT: tuple[type[Exception], ...] = (
    ChainError,
    OSError,
    TimeoutError,
    KeysError,
    OperationalError,
    InterfaceError,
)
# Tries of an entry that keeps raising a bug before it fails: enough to tell a bug from a fluke.
BUG_ATTEMPTS = 5


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


class Backoff:
    """When each entry held up by a transient error may be tried again."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        max_backoff: float,
    ) -> None:
        self.sessions = sessions
        # The delay doubles with each attempt the entry has on record (reverts count too),
        # so an entry that keeps failing is not hammered again after a restart either.
        self.interval = interval
        self.max_backoff = max_backoff
        self._not_before: dict[int, float] = {}
        self._bugs: dict[int, int] = {}  # errors in a row that are not transient, per entry

    def waiting(self, entry_id: int) -> bool:
        return time.monotonic() < self._not_before.get(entry_id, 0.0)

    def clear(self, entry_id: int) -> None:
        self._not_before.pop(entry_id, None)
        self._bugs.pop(entry_id, None)

    def bugs(self, entry_id: int) -> int:
        """How many errors in a row that are not transient the entry met (in this process)."""
        return self._bugs.get(entry_id, 0)

    async def retry_later(self, entry_id: int, exc: BaseException) -> None:
        """Records the error and delays the entry."""
        transient = is_transient(exc)
        self._bugs[entry_id] = 0 if transient else self.bugs(entry_id) + 1
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
        if transient:
            level = logging.WARNING if attempts < 10 else logging.ERROR
            log.log(level, "outbox %s: %s (attempt %s; again in %.1fs)", entry_id, exc, attempts, delay)
        else:
            log.error(
                "outbox %s: %s: %s (a bug, %s of %s tries; again in %.1fs)",
                entry_id,
                type(exc).__name__,
                exc,
                self.bugs(entry_id),
                BUG_ATTEMPTS,
                delay,
                exc_info=exc,
            )
