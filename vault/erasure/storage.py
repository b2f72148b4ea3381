"""After an erasure commits: leave no copy of what it destroyed, in the database's files or in
the key backups.

SQLite runs with ``secure_delete`` (vault.db.engine), so the erasure's own transaction zeroes
the cells it emptied and the key rows it deleted, in the pages it writes to the WAL. Those
pages' earlier images stay in the WAL until a checkpoint copies the latest ones into the
database file and the WAL is truncated: that is done here, at once, rather than whenever
SQLite next checkpoints on its own. Then the destroyed keys are removed from every key backup
(``vault.backups.key_files``): a data backup taken before the erasure has nothing left to open them.

PostgreSQL keeps dead row versions until VACUUM reuses their space and WAL segments until
they are recycled; what is left there is a wrapped key whose key-encryption key is destroyed.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vault.backups import key_files
from vault.context import VaultContext

log = logging.getLogger(__name__)


async def after_erasure(ctx: VaultContext) -> bool:
    """Empty SQLite's WAL and purge the key backups; True when the WAL was emptied too."""
    emptied = await forget_freed_pages(ctx.sessions)
    if ctx.key_backups is not None:
        async with ctx.sessions() as session:
            removed = await key_files.purge(session, ctx.key_backups)
        if removed:
            log.info("removed %d destroyed key(s) from the key backups", removed)
    return emptied


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
