"""Delegations: a subject appoints and withdraws agents (经办人); a registrar appoints and
removes guardians and rotates a subject's key; a department checks an agent's authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import (
    Ctx,
    CurrentDelegate,
    CurrentDepartment,
    CurrentRegistrar,
    CurrentSubject,
    Now,
    Session,
)
from api.routes.subjects import public as subject_public
from api.schemas.common import RowId
from api.schemas.delegations import (
    DelegationCheckPublic,
    DelegationPrepare,
    DelegationPublic,
    GuardianCreate,
    SubjectKeyRotate,
)
from api.schemas.grants import GrantSubmit, SignatureSubmit, TypedDataPublic
from api.schemas.subjects import SubjectPublic
from vault.accounts import agents, subjects
from vault.consent import delegations
from vault.db.grants import DelegationRow
from vault.record_bits import bits_of, names_of
from vault.record_types import RecordType

router = APIRouter(tags=["delegations"])


def public(row: DelegationRow, now: int, reason: str | None = None) -> DelegationPublic:
    state = row.status
    if state in agents.LIVE and now >= row.expires_at:
        state = "expired"
    return DelegationPublic(
        id=row.id,
        subject_id=row.subject_id,
        agent=row.agent_address,
        kind=row.kind,
        record_types=[t.value for t in names_of(row.record_types)],
        not_before=row.not_before,
        expires_at=row.expires_at,
        status=state,
        appointed_by=row.appointed_by,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
        reason=reason,
    )


@router.post("/me/delegations/prepare", response_model=TypedDataPublic)
async def prepare(
    body: DelegationPrepare, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now
) -> TypedDataPublic:
    """The EIP-712 typed data appointing an agent; sign it with the subject's own key."""
    typed = await delegations.prepare(
        ctx,
        session,
        subject_id=subject.id,
        agent=body.agent,
        record_types=list(body.record_types),
        not_before=now if body.not_before is None else body.not_before,
        expires_at=body.expires_at,
        now=now,
    )
    return TypedDataPublic(typed_data=typed)


@router.post("/me/delegations", response_model=DelegationPublic, status_code=status.HTTP_201_CREATED)
async def submit(body: GrantSubmit, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> DelegationPublic:
    """Submit a signed delegation, appointing an agent.

    The `message` of the typed data from `/me/delegations/prepare` and the subject's EIP-712
    signature over it; relayed to the chain."""
    row = await delegations.submit(
        ctx, session, subject_id=subject.id, message=body.message, signature=body.signature, now=now
    )
    ctx.nudge()
    return public(row, now)


@router.get("/me/delegations", response_model=list[DelegationPublic])
async def mine(subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> list[DelegationPublic]:
    """My agents and guardians; a guardian with the reason its registrar gave."""
    rows = await delegations.list_for_subject(session, subject.id)
    return [public(row, now, await delegations.guardian_reason(ctx, session, row)) for row in rows]


@router.post("/me/delegations/{delegation_id}/revoke/prepare", response_model=TypedDataPublic)
async def prepare_revocation(
    delegation_id: RowId, subject: CurrentSubject, ctx: Ctx, session: Session
) -> TypedDataPublic:
    """The typed data withdrawing one of your agents.

    Sign it (`eth_signTypedData_v4`) and send the signature to
    `/me/delegations/{delegation_id}/revoke`."""
    row = await delegations.get_for_subject(session, subject.id, delegation_id)
    return TypedDataPublic(typed_data=delegations.revocation_typed_data(ctx, row))


@router.post("/me/delegations/{delegation_id}/revoke", response_model=DelegationPublic)
async def revoke(
    delegation_id: RowId, body: SignatureSubmit, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now
) -> DelegationPublic:
    """Takes effect at once; the agent's later signatures are refused."""
    row = await delegations.get_for_subject(session, subject.id, delegation_id)
    row = await delegations.revoke(ctx, session, row=row, signature=body.signature, now=now)
    ctx.nudge()
    return public(row, now)


@router.get("/me/acting-for", response_model=list[str])
async def acting_for(delegate: CurrentDelegate, session: Session, now: Now) -> list[str]:
    """For an agent or guardian: the subjects it may act for now."""
    return await agents.subjects_of(session, delegate.address, now)


@router.post("/subjects/{subject_id}/guardians", response_model=DelegationPublic, status_code=status.HTTP_201_CREATED)
async def appoint_guardian(
    subject_id: str, body: GuardianCreate, registrar: CurrentRegistrar, ctx: Ctx, session: Session, now: Now
) -> DelegationPublic:
    """Appoint a guardian for a subject.

    By the registrar answerable for the subject only, with a reason; the subject sees the
    appointment in its access log and, with the reason, in /me/delegations."""
    row = await delegations.appoint_guardian(
        ctx,
        session,
        registrar=registrar,
        subject_id=subject_id.lower(),
        guardian=body.address,
        not_before=now if body.not_before is None else body.not_before,
        expires_at=body.expires_at,
        reason=body.reason,
        now=now,
    )
    ctx.nudge()
    return public(row, now, body.reason.strip())


@router.delete("/subjects/{subject_id}/guardians/{address}", response_model=DelegationPublic)
async def remove_guardian(
    subject_id: str, address: str, registrar: CurrentRegistrar, ctx: Ctx, session: Session, now: Now
) -> DelegationPublic:
    """Remove a subject's guardian.

    The guardian's delegation ends at once, on chain as well."""
    row = await delegations.remove_guardian(
        ctx, session, registrar=registrar, subject_id=subject_id.lower(), guardian=address, now=now
    )
    ctx.nudge()
    return public(row, now)


@router.post("/subjects/{subject_id}/key", response_model=SubjectPublic)
async def rotate_key(
    subject_id: str, body: SubjectKeyRotate, registrar: CurrentRegistrar, ctx: Ctx, session: Session, now: Now
) -> SubjectPublic:
    """The identity authority replaces a subject's key; the old key stops working at once."""
    view = await subjects.rotate_key(
        ctx, session, registrar=registrar, subject_id=subject_id.lower(), address=body.address, now=now
    )
    ctx.nudge()
    return subject_public(view)


@router.get("/delegations/check", response_model=DelegationCheckPublic)
async def check(
    subject_id: str,
    agent: str,
    _dept: CurrentDepartment,
    ctx: Ctx,
    session: Session,
    now: Now,
    record_types: Annotated[list[RecordType] | None, Query()] = None,
) -> DelegationCheckPublic:
    """May ``agent`` act for ``subject_id`` now (over ``record_types``)? Vault and chain agree."""
    result = await delegations.check(
        ctx, session, subject_id=subject_id.lower(), agent=agent, bits=bits_of(record_types or []), now=now
    )
    return DelegationCheckPublic(**result)
