"""Backups of the data without its keys (SQLite): a consistent copy of the database in which
the subjects' key-encryption keys are left out, with the keys written to a key backup of the
same name in the data directory (``vault.backups.key_files``).

So a data backup can be copied off the machine and kept for years: it holds ciphertexts and
wrapped data keys only. What an erasure destroys is removed from the key backups at once, so
a data backup taken before an erasure cannot bring the erased data back.

``VACUUM INTO`` copies the live rows only (no free pages, no WAL), while the vault keeps
running; the copy's key table is then emptied and vacuumed again, so it holds no trace of them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vault.backups import key_files
from vault.errors import VaultValueError


def name_at(now: int) -> str:
    return "vault-" + datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")


async def write(
    sessions: async_sessionmaker[AsyncSession], database: Path | None, out: Path, keys_dir: Path, now: int
) -> tuple[Path, Path]:
    """(the data backup in ``out``, its key backup in ``keys_dir``), named by ``now``."""
    if database is None:
        raise VaultValueError(
            "backups here are of the embedded SQLite database; on PostgreSQL use pg_dump with "
            "--exclude-table-data=subject_keys and keep `datavault backup --keys-only` beside it",
            field="database",
        )
    name = name_at(now)
    target = out / f"{name}.db"
    async with sessions() as session:
        # The keys first: a key backup may hold a key the data backup does not need, never
        # the other way round.
        keys = await key_files.write(session, keys_dir, name)
    await asyncio.to_thread(_copy_without_keys, database, target)
    return target, keys


def _copy_without_keys(database: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if target.exists():
        raise VaultValueError(f"{target} exists already", field="out")
    source = sqlite3.connect(database, timeout=30)
    try:
        source.execute("VACUUM INTO ?", (str(target),))
    finally:
        source.close()
    copy = sqlite3.connect(target)
    try:
        copy.execute("PRAGMA secure_delete=ON")
        copy.execute("DELETE FROM subject_keys")
        copy.commit()
        copy.execute("VACUUM")
    finally:
        copy.close()
    target.chmod(0o600)
