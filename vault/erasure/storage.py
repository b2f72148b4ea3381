"""After an erasure commits: leave no copy of the destroyed bytes in the database's files.

SQLite runs with ``secure_delete`` (vault.db.engine), so the erasure's own transaction zeroes
the cells it emptied and the key rows it deleted, in the pages it writes to the WAL. Those
pages' earlier images stay in the WAL until a checkpoint copies the latest ones into the
database file and the WAL is truncated: that is done here, at once, rather than whenever
SQLite next checkpoints on its own.

PostgreSQL keeps dead row versions until VACUUM reuses their space and WAL segments until
they are recycled; what is left there is a wrapped key whose key-encryption key is destroyed.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


async def forget_freed_pages(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Checkpoint and truncate SQLite's WAL; True when it was emptied (False: a reader held an
    older snapshot, or the database is not SQLite — nothing to do there)."""
    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name != "sqlite":
            return False
        # TRUNCATE waits (busy timeout) for readers of older snapshots, then empties the file.
        busy, _frames, _done = (await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
        if busy:
            log.warning("the WAL could not be emptied after an erasure: a reader held an older snapshot")
        return not busy
