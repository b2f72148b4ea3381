"""What an issuer is told of erasures: which of its records were erased, when, on what basis.

The issuer may hold its own copy of what it issued (its register); the notice is its cue to
handle that copy under its own rules. Verifiers of the credential are told "erased" by the
vault from now on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vault import pages
from vault.db.erasure import ErasureNotice
from vault.db.models import Department


async def notices_for(session: AsyncSession, department: Department, *, unread: bool = False) -> list[ErasureNotice]:
    query = select(ErasureNotice).where(ErasureNotice.department_code == department.code)
    if unread:
        query = query.where(ErasureNotice.read_at.is_(None))
    return list((await session.scalars(query.order_by(ErasureNotice.created_at, ErasureNotice.id))).all())


async def page_for(
    session: AsyncSession, department: Department, *, after: str | None = None, limit: int = pages.DEFAULT_LIMIT
) -> pages.Page[ErasureNotice]:
    """One page of the department's notices, newest first, for its counter page (the index
    ``ix_erasure_notices_department`` walks them)."""
    where = [ErasureNotice.department_code == department.code]
    order = [ErasureNotice.created_at, ErasureNotice.id]
    return await pages.keyset(
        session, ErasureNotice, where, order, "erasure-notices", after=after, limit=limit, newest=True
    )


async def unread_count(session: AsyncSession, department: Department) -> int:
    """How many of the department's notices are not yet read: a ``COUNT``, no rows loaded."""
    found = await session.scalar(
        select(func.count())
        .select_from(ErasureNotice)
        .where(ErasureNotice.department_code == department.code, ErasureNotice.read_at.is_(None))
    )
    return int(found or 0)


async def mark_read(
    session: AsyncSession, department: Department, notice_ids: Sequence[int], now: int
) -> list[ErasureNotice]:
    """Mark the department's notices among ``notice_ids`` read (others' ids are ignored:
    a department learns nothing of notices that are not its own)."""
    found = await session.scalars(
        select(ErasureNotice)
        .where(ErasureNotice.department_code == department.code, ErasureNotice.id.in_(set(notice_ids)))
        .order_by(ErasureNotice.id)
    )
    notices = list(found.all())
    for notice in notices:
        if notice.read_at is None:
            notice.read_at = now
    return notices
