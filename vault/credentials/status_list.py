"""Status indexes: each version 2 credential's bit in the revocation bitmap.

Indexes are handed out in order from one counter row; the UPDATE takes the row's lock, so on
PostgreSQL concurrent issuers queue for it only until they commit, and no two credentials
ever share a bit. A bulk request takes its whole range in one step.
"""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vault.credentials import status_bitmap
from vault.db.models import Counter, Record

COUNTER = "status_index"


async def allocate(session: AsyncSession, count: int = 1) -> int:
    """The first of ``count`` consecutive fresh indexes."""
    end = await session.scalar(
        update(Counter).where(Counter.name == COUNTER).values(value=Counter.value + count).returning(Counter.value)
    )
    if end is None:
        raise RuntimeError("the status index counter is missing: the database was not migrated")
    return int(end) - count


async def issued(session: AsyncSession) -> int:
    """How many indexes were handed out so far (the bitmap's length in bits)."""
    value = await session.scalar(select(Counter.value).where(Counter.name == COUNTER))
    return int(value or 0)


async def revoked_indexes(session: AsyncSession) -> list[int]:
    """Indexes of credentials revoked, or being revoked (deny wins before the chain confirms),
    or erased: an offline verifier must not accept what the vault no longer vouches for."""
    rows = await session.scalars(
        select(Record.status_index).where(
            Record.status_index.is_not(None),
            or_(Record.status.in_(("revoked", "revoking")), Record.erased_at.is_not(None)),
        )
    )
    return sorted(int(i) for i in rows if i is not None)


async def bitmap(session: AsyncSession) -> tuple[int, bytes]:
    """(size, revocation bitmap) for a status snapshot (``vault.credentials.status_bitmap``)."""
    # Revoked first, then the count: every index read as revoked was handed out before the
    # count is read, so it is inside the bitmap even if credentials are issued meanwhile.
    revoked = await revoked_indexes(session)
    size = await issued(session)
    return size, status_bitmap.pack(size, revoked)
