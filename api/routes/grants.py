"""Grants: the subject (``/me/...``) or its agent or guardian (``/subjects/{id}/...``) prepares,
signs, submits and revokes; the grantee department lists and reads."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import (
    Acting,
    ActingFor,
    Ctx,
    CurrentDepartment,
    CurrentReader,
    CurrentSubject,
    Now,
    Session,
)
from api.schemas.common import After, PageLimit
from api.schemas.grants import (
    ConsentReceiptPublic,
    DisclosurePublic,
    GrantPagePublic,
    GrantPrepare,
    GrantPublic,
    GrantRead,
    GrantSubmit,
    SignatureSubmit,
    TypedDataPublic,
)
from vault import pages
from vault.accounts import departments
from vault.consent import access, grants, revocations, typed_data
from vault.consent import purposes as grant_purposes
from vault.context import VaultContext
from vault.db.grants import GrantRow
from vault.errors import NotFoundError
from vault.record_bits import names_of

router = APIRouter(tags=["grants"])


def public(
    row: GrantRow, now: int, purpose: str | None, grantee: departments.DepartmentView | None = None
) -> GrantPublic:
    return GrantPublic(
        id=row.id,
        subject_id=row.subject_id,
        grantee=row.grantee_code,
        grantee_name=None if grantee is None else grantee.name,
        grantee_kind=None if grantee is None else grantee.kind,
        record_types=names_of(row.record_types),
        fields=json.loads(row.fields),
        purpose_code=row.purpose_code,
        purpose=purpose,
        not_before=row.not_before,
        expires_at=row.expires_at,
        max_uses=row.max_uses,
        uses=row.uses,
        status=grants.status_at(row, now),
        status_reason=row.status_reason,
        signer=row.signer,
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )


async def publics(
    ctx: VaultContext,
    session: AsyncSession,
    rows: list[GrantRow],
    now: int,
) -> list[GrantPublic]:
    """The grants as their subject or grantee sees them, purposes opened."""
    purposes = await grant_purposes.purposes(ctx.master, session, rows)
    grantees = await departments.named(session, {row.grantee_code for row in rows})
    return [public(row, now, purposes[row.id], grantees.get(row.grantee_code)) for row in rows]


async def page_public(
    ctx: VaultContext, session: AsyncSession, page: pages.Page[GrantRow], now: int
) -> GrantPagePublic:
    return GrantPagePublic(grants=await publics(ctx, session, page.items, now), total=page.total, next=page.next)


async def _prepare(
    subject_id: str,
    signer: str,
    body: GrantPrepare,
    ctx: VaultContext,
    session: AsyncSession,
    now: int,
) -> TypedDataPublic:
    request = grants.GrantRequest(
        grantee=body.grantee,
        record_types=tuple(body.record_types),
        fields=tuple(body.fields),
        purpose_code=body.purpose_code,
        purpose=body.purpose,
        not_before=now if body.not_before is None else body.not_before,
        expires_at=body.expires_at,
        max_uses=body.max_uses,
        allow_unissued_fields=body.allow_unissued_fields,
    )
    gid, typed = await grants.prepare(ctx, session, subject_id, request, now, signer=signer)
    return TypedDataPublic(typed_data=typed, grant_id=gid)


async def _submit(
    subject_id: str, body: GrantSubmit, ctx: VaultContext, session: AsyncSession, now: int
) -> GrantPublic:
    row = await grants.submit(
        ctx, session, subject_id=subject_id, message=body.message, signature=body.signature, now=now
    )
    ctx.nudge()
    return (await publics(ctx, session, [row], now))[0]


async def _revoke(
    subject_id: str, grant_id: str, body: SignatureSubmit, ctx: VaultContext, session: AsyncSession, now: int
) -> GrantPublic:
    row = await grants.get_for_subject(session, subject_id, grant_id)
    row = await revocations.revoke(ctx, session, row=row, signature=body.signature, now=now)
    ctx.nudge()
    return (await publics(ctx, session, [row], now))[0]


async def _revocation(subject_id: str, grant_id: str, ctx: VaultContext, session: AsyncSession) -> TypedDataPublic:
    row = await grants.get_for_subject(session, subject_id, grant_id)
    return TypedDataPublic(typed_data=revocations.typed_data(ctx, row), grant_id=row.id)


@router.get("/consent/eip712")
async def eip712(ctx: Ctx) -> dict[str, Any]:
    """Public: the EIP-712 domain and types of grants, revocations and delegations."""
    return typed_data.published(ctx)


# -- the subject itself ------------------------------------------------------------------------


@router.post("/me/grants/prepare", response_model=TypedDataPublic)
async def prepare(body: GrantPrepare, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> TypedDataPublic:
    """The EIP-712 typed data to sign for this grant (standard wallets: eth_signTypedData_v4)."""
    return await _prepare(subject.id, subject.address, body, ctx, session, now)


@router.post("/me/grants", response_model=GrantPublic, status_code=status.HTTP_201_CREATED)
async def submit(body: GrantSubmit, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> GrantPublic:
    """Submit a signed grant.

    The `message` of the typed data from `/me/grants/prepare` and the subject's EIP-712
    signature over it. The vault checks the signature and relays the grant to the consent
    registry; the grant is usable once it is anchored."""
    return await _submit(subject.id, body, ctx, session, now)


@router.get("/me/grants", response_model=GrantPagePublic)
async def my_grants(
    subject: CurrentSubject,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> GrantPagePublic:
    """Your grants, a page at a time.

    The grants the subject gave, oldest first, with their status and the uses so far; `total`
    counts them all. Follow `next` (as `after`) for the next page."""
    page = await grants.page_for_subject(session, subject.id, after=after, limit=limit)
    return await page_public(ctx, session, page, now)


@router.get("/me/grants/{grant_id}", response_model=GrantPublic)
async def my_grant(grant_id: str, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> GrantPublic:
    """One of your grants.

    As `/me/grants`, for one grant id."""
    row = await grants.get_for_subject(session, subject.id, grant_id)
    return (await publics(ctx, session, [row], now))[0]


@router.get("/me/grants/{grant_id}/receipt", response_model=ConsentReceiptPublic)
async def receipt(grant_id: str, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> ConsentReceiptPublic:
    """A consent receipt: who, what, why, until when, grant id and transaction."""
    row = await grants.get_for_subject(session, subject.id, grant_id)
    return ConsentReceiptPublic.model_validate(await grants.receipt(ctx, session, row, now))


@router.post("/me/grants/{grant_id}/revoke/prepare", response_model=TypedDataPublic)
async def prepare_revocation(grant_id: str, subject: CurrentSubject, ctx: Ctx, session: Session) -> TypedDataPublic:
    """The typed data revoking one of your grants.

    Sign it (`eth_signTypedData_v4`) and send the signature to
    `/me/grants/{grant_id}/revoke`."""
    return await _revocation(subject.id, grant_id, ctx, session)


@router.post("/me/grants/{grant_id}/revoke", response_model=GrantPublic)
async def revoke(
    grant_id: str, body: SignatureSubmit, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now
) -> GrantPublic:
    """Takes effect at once (deny wins), before the revocation is mined."""
    return await _revoke(subject.id, grant_id, body, ctx, session, now)


# -- an agent or guardian acting for the subject -----------------------------------------------


@router.post("/subjects/{subject_id}/grants/prepare", response_model=TypedDataPublic)
async def prepare_for(body: GrantPrepare, acting: ActingFor, ctx: Ctx, session: Session, now: Now) -> TypedDataPublic:
    """As /me/grants/prepare; a delegate signs it with its own key, inside its delegation."""
    return await _prepare(acting.subject_id, acting.address, body, ctx, session, now)


@router.post("/subjects/{subject_id}/grants", response_model=GrantPublic, status_code=status.HTTP_201_CREATED)
async def submit_for(body: GrantSubmit, acting: ActingFor, ctx: Ctx, session: Session, now: Now) -> GrantPublic:
    """Submit a signed grant for the subject.

    As `/me/grants`, signed with the agent's or guardian's own key, inside its delegation."""
    return await _submit(acting.subject_id, body, ctx, session, now)


async def _in_scope(acting: Acting, grant_id: str, session: AsyncSession) -> None:
    # A grant over record types outside the delegation is not the delegate's to see.
    row = await grants.get_for_subject(session, acting.subject_id, grant_id)
    if not acting.covers(row.record_types):
        raise NotFoundError("grant", grant_id)


@router.get("/subjects/{subject_id}/grants", response_model=GrantPagePublic)
async def grants_of(
    acting: ActingFor,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> GrantPagePublic:
    """The subject's grants over record types the caller's delegation covers, a page at a time."""
    covering = None if acting.role == "subject" else acting.record_types  # as Acting.covers
    page = await grants.page_for_subject(session, acting.subject_id, covering=covering, after=after, limit=limit)
    return await page_public(ctx, session, page, now)


@router.post("/subjects/{subject_id}/grants/{grant_id}/revoke/prepare", response_model=TypedDataPublic)
async def prepare_revocation_for(grant_id: str, acting: ActingFor, ctx: Ctx, session: Session) -> TypedDataPublic:
    """The typed data revoking a subject's grant.

    As `/me/grants/{grant_id}/revoke/prepare`, for an agent or guardian."""
    await _in_scope(acting, grant_id, session)
    return await _revocation(acting.subject_id, grant_id, ctx, session)


@router.post("/subjects/{subject_id}/grants/{grant_id}/revoke", response_model=GrantPublic)
async def revoke_for(
    grant_id: str, body: SignatureSubmit, acting: ActingFor, ctx: Ctx, session: Session, now: Now
) -> GrantPublic:
    """Revoke a subject's grant.

    As `/me/grants/{grant_id}/revoke`, for an agent or guardian; takes effect at once."""
    await _in_scope(acting, grant_id, session)
    return await _revoke(acting.subject_id, grant_id, body, ctx, session, now)


# -- the grantee department --------------------------------------------------------------------


@router.get("/grants", response_model=GrantPagePublic)
async def held(
    dept: CurrentDepartment,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> GrantPagePublic:
    """The grants this department holds, a page at a time (follow `next`)."""
    page = await grants.page_for_department(session, dept.code, after=after, limit=limit)
    return await page_public(ctx, session, page, now)


@router.post("/grants/{grant_id}/read", response_model=DisclosurePublic)
async def read(
    grant_id: str,
    body: GrantRead,
    reader: CurrentReader,
    ctx: Ctx,
    session: Session,
    now: Now,
) -> DisclosurePublic:
    """Reads what the grant covers (or a narrower part of it). Counts one use."""
    disclosure = await access.read(
        ctx,
        session,
        department=reader.department,
        official=reader.official,
        grant_id=grant_id,
        facts=reader.facts,
        record_types=list(body.record_types) if body.record_types else None,
        fields=body.fields,
        now=now,
    )
    return DisclosurePublic.model_validate(disclosure, from_attributes=True)
