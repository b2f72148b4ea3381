"""Erasure (被遗忘): a subject erases a record or its file, a registrar on a legal basis; issuers
read what was erased; the governance admin sets retention rules and sees what is due."""

from __future__ import annotations

import json

from fastapi import APIRouter, BackgroundTasks, status

from api.deps import Ctx, CurrentAdmin, CurrentDepartment, CurrentRegistrar, CurrentSubject, Now, Session
from api.schemas.erasure import (
    ErasureCreate,
    ErasureNoticePublic,
    ErasurePublic,
    NoticesRead,
    RegistrarErasureCreate,
    RetentionDuePublic,
    RetentionRulePublic,
    RetentionRuleSet,
    RetentionRunPublic,
    basis_text,
)
from vault import erasure
from vault.db.erasure import ErasureNotice, ErasureRow
from vault.record_types import RecordType

router = APIRouter(tags=["erasure"])


def public(row: ErasureRow) -> ErasurePublic:
    return ErasurePublic(
        id=row.id,
        subject_id=row.subject_id,
        scope=row.scope,
        record_ids=json.loads(row.record_ids),
        requested_by_role=row.requested_by_role,
        basis=row.basis,
        basis_text=basis_text(row.basis),
        requested_at=row.requested_at,
        revoked_grants=json.loads(row.revoked_grants),
    )


def notice_public(row: ErasureNotice) -> ErasureNoticePublic:
    return ErasureNoticePublic(
        id=row.id,
        erasure_id=row.erasure_id,
        record_id=row.record_id,
        credential_hash=row.credential_hash,
        basis=row.basis,
        basis_text=basis_text(row.basis),
        created_at=row.created_at,
        read_at=row.read_at,
    )


@router.post("/me/erasures", response_model=ErasurePublic, status_code=status.HTTP_201_CREATED)
async def erase_mine(
    body: ErasureCreate, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now, tasks: BackgroundTasks
) -> ErasurePublic:
    """Erase one of my records, or my whole file, for good.

    A whole file needs my live grants revoked first (409 lists them): only my key revokes them
    on chain."""
    requester = erasure.Requester("subject", subject.address, "subject-request")
    row = await erasure.erase(
        ctx, session, subject_id=subject.id, scope=body.scope, record_id=body.record_id, requester=requester, now=now
    )
    # After the response's commit: the WAL then holds nothing the erasure replaced.
    tasks.add_task(erasure.storage.after_erasure, ctx)
    return public(row)


@router.get("/me/erasures", response_model=list[ErasurePublic])
async def my_erasures(subject: CurrentSubject, session: Session) -> list[ErasurePublic]:
    """What was erased of my file, when, by whom and on what basis."""
    return [public(row) for row in await erasure.list_for_subject(session, subject.id)]


@router.post("/subjects/{subject_id}/erasures", response_model=ErasurePublic, status_code=status.HTTP_201_CREATED)
async def erase_by_registrar(
    subject_id: str,
    body: RegistrarErasureCreate,
    registrar: CurrentRegistrar,
    ctx: Ctx,
    session: Session,
    now: Now,
    tasks: BackgroundTasks,
) -> ErasurePublic:
    """The registrar answerable for the subject erases on a legal basis.

    Live grants are revoked in the vault at once."""
    subject = await erasure.registrar_for(session, registrar, subject_id.lower())
    requester = erasure.Requester("registrar", registrar.code, body.basis)
    row = await erasure.erase(
        ctx, session, subject_id=subject.id, scope=body.scope, record_id=body.record_id, requester=requester, now=now
    )
    tasks.add_task(erasure.storage.after_erasure, ctx)
    return public(row)


@router.get("/departments/me/erasure-notices", response_model=list[ErasureNoticePublic])
async def my_notices(dept: CurrentDepartment, session: Session, unread: bool = False) -> list[ErasureNoticePublic]:
    """Records this department issued that were erased since."""
    return [notice_public(n) for n in await erasure.notices.notices_for(session, dept, unread=unread)]


@router.post("/departments/me/erasure-notices/read", response_model=list[ErasureNoticePublic])
async def read_notices(
    body: NoticesRead, dept: CurrentDepartment, session: Session, now: Now
) -> list[ErasureNoticePublic]:
    """Mark these notices read; ids that are not this department's notices are left alone."""
    return [notice_public(n) for n in await erasure.notices.mark_read(session, dept, body.ids, now)]


@router.put("/retention-rules/{record_type}", response_model=RetentionRulePublic)
async def set_rule(
    record_type: RecordType, body: RetentionRuleSet, admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now
) -> RetentionRulePublic:
    """Keep records of this type so many days after they expire, then shred them."""
    rule = await erasure.retention.set_rule(
        ctx, session, record_type.value, body.keep_days_after_expiry, set_by=admin.address, now=now
    )
    return RetentionRulePublic(
        record_type=RecordType(rule.record_type), keep_days_after_expiry=rule.keep_days_after_expiry, set_at=rule.set_at
    )


@router.delete("/retention-rules/{record_type}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_rule(record_type: RecordType, admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> None:
    """Keep records of this type until they are erased on request (no rule; none is fine)."""
    await erasure.retention.remove_rule(ctx, session, record_type.value, by=admin.address, now=now)


@router.get("/retention-rules", response_model=list[RetentionRulePublic])
async def rules(_admin: CurrentAdmin, session: Session) -> list[RetentionRulePublic]:
    """The retention rules in force, one per record type that has one."""
    return [
        RetentionRulePublic(
            record_type=RecordType(r.record_type), keep_days_after_expiry=r.keep_days_after_expiry, set_at=r.set_at
        )
        for r in await erasure.retention.rules(session)
    ]


@router.get("/retention/due", response_model=list[RetentionDuePublic])
async def due(_admin: CurrentAdmin, session: Session, now: Now) -> list[RetentionDuePublic]:
    """The dry run: what the retention job would erase now, oldest first."""
    return [RetentionDuePublic(**vars(d)) for d in await erasure.retention.due(session, now)]


@router.post("/retention/run", response_model=RetentionRunPublic)
async def run(_admin: CurrentAdmin, ctx: Ctx, now: Now, tasks: BackgroundTasks) -> RetentionRunPublic:
    """Erase what is due now (the scheduled job does the same)."""
    erased = await erasure.retention.run(ctx, now)
    if erased:
        tasks.add_task(erasure.storage.after_erasure, ctx)
    return RetentionRunPublic(erased=erased)
