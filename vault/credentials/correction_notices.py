"""Who must hear of a correction: the departments that read the record's earlier versions
under a grant (found in the access log), their notices, and marking them read."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vault import pages
from vault.context import VaultContext
from vault.db.audit import AuditEntry, AuditQueued
from vault.db.corrections import CorrectionNotice, CorrectionRow
from vault.db.models import Department, Record
from vault.errors import NotFoundError
from vault.events import VaultEvent


def _names_record(entry: str, record_id: str) -> str | None:
    """The reading department of a ``grant.used`` entry that disclosed ``record_id``, else None."""
    document = json.loads(entry)
    if (
        document.get("action") == "grant.used"
        and document.get("outcome") == "ok"
        and document.get("actor_role") == "department"
        and record_id in (document.get("record_ids") or ())
    ):
        return str(document["actor"])
    return None


async def readers(session: AsyncSession, subject_id: str, record_id: str) -> set[str]:
    """Departments that read this record under a grant, from the access log: its sequenced
    entries and the events still queued for it (written by reads not yet sequenced). Every
    version before the newest is outdated, so a reader of any earlier version is included."""
    found: set[str] = set()
    sequenced = select(AuditEntry.entry).where(
        AuditEntry.subject_id == subject_id,
        AuditEntry.action == "grant.used",
        AuditEntry.outcome == "ok",
        AuditEntry.entry.contains(record_id, autoescape=True),
    )
    queued = select(AuditQueued.entry).where(
        AuditQueued.entry.contains('"action":"grant.used"', autoescape=True),
        AuditQueued.entry.contains(record_id, autoescape=True),
    )
    for query in (sequenced, queued):
        for entry in await session.scalars(query):
            code = _names_record(entry, record_id)
            if code is not None:
                found.add(code)
    return found


async def notify(
    ctx: VaultContext,
    session: AsyncSession,
    issuer: Department,
    correction: CorrectionRow,
    old: Record,
    new_version: int,
    now: int,
) -> list[str]:
    codes = sorted(await readers(session, correction.subject_id, old.id) - {issuer.code})
    for code in codes:
        session.add(
            CorrectionNotice(
                department_code=code,
                correction_id=correction.id,
                subject_id=correction.subject_id,
                record_id=old.id,
                old_version=old.version,
                new_version=new_version,
                created_at=now,
            )
        )
    await session.flush()
    for code in codes:
        await ctx.events.emit(
            session,
            VaultEvent(
                "department.notified",
                "ok",
                now,
                "department",
                issuer.code,
                subject_id=correction.subject_id,
                record_types=(old.type,),
                record_ids=(old.id,),
                reason=f"notified {code}: version {old.version} -> {new_version}",
            ),
        )
    return codes


# -- the notified department -------------------------------------------------------------------


async def page_for(
    session: AsyncSession,
    department: Department,
    *,
    unread: bool = False,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[CorrectionNotice]:
    """One page of the department's notices (only those not yet read, if ``unread``), oldest
    first (newest first with ``newest``), and how many there are. The index ``ix_correction_notices_department``
    (department_code, id) walks them in order; ``unread`` filters along it."""
    where = [CorrectionNotice.department_code == department.code]
    if unread:
        where.append(CorrectionNotice.read_at.is_(None))
    return await pages.keyset(
        session,
        CorrectionNotice,
        where,
        [CorrectionNotice.id],
        "notifications",
        after=after,
        limit=limit,
        newest=newest,
    )


async def unread_count(session: AsyncSession, department: Department) -> int:
    """How many of the department's notices are not yet read: a ``COUNT``, no rows loaded."""
    found = await session.scalar(
        select(func.count())
        .select_from(CorrectionNotice)
        .where(CorrectionNotice.department_code == department.code, CorrectionNotice.read_at.is_(None))
    )
    return int(found or 0)


async def notices_for(session: AsyncSession, department: Department, *, unread: bool = False) -> list[CorrectionNotice]:
    """Every notice of the department at once, for its counter page; the API answers a page at
    a time (``page_for``)."""
    query = select(CorrectionNotice).where(CorrectionNotice.department_code == department.code)
    if unread:
        query = query.where(CorrectionNotice.read_at.is_(None))
    return list(await session.scalars(query.order_by(CorrectionNotice.id)))


async def mark_read(session: AsyncSession, department: Department, notice_id: int, now: int) -> CorrectionNotice:
    row = await session.get(CorrectionNotice, notice_id)
    if row is None or row.department_code != department.code:
        raise NotFoundError("notification", str(notice_id))  # another's notice: as if missing
    if row.read_at is None:
        row.read_at = now
        await session.flush()
    return row
