"""The access log for people: the governance admin registers auditors; an auditor (审计)
traces, exports and verifies the log and fetches its proofs; a subject (or its agent or
guardian) sees who accessed its data (使用知情), with proofs against the chain."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ActingFor, Ctx, CurrentAdmin, CurrentAuditor, CurrentSubject, Now, Session
from api.schemas.audit import (
    AccessLogPublic,
    AuditorCreate,
    AuditorPublic,
    AuditReportPublic,
    ConsistencyPublic,
    EntryPagePublic,
    HeadsPublic,
    InclusionPublic,
)
from api.schemas.common import ADDRESS, HASH32
from vault.accounts import auditors, departments
from vault.audit import access_log
from vault.audit import heads as audit_heads
from vault.audit import trace as audit_trace
from vault.audit import verify as audit_verify
from vault.audit.trace import MAX_LIMIT, Filter, Order

router = APIRouter(tags=["audit"])

POSITION = 2**63 - 1  # BIGINT: larger values are no position of any log
MOMENT = 2**62


def trace_filter(
    subject_id: Annotated[str | None, Query(pattern=HASH32, description="pseudonymous subject id")] = None,
    department: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,30}$", description="the acting department's code")
    ] = None,
    official: Annotated[str | None, Query(pattern=ADDRESS, description="the acting official's login address")] = None,
    grant_id: Annotated[str | None, Query(pattern=HASH32)] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z][a-z_.]{0,47}$", examples=["grant.used"])] = None,
    outcome: Annotated[Literal["ok", "refused"] | None, Query()] = None,
    since: Annotated[int | None, Query(alias="from", ge=0, le=MOMENT, description="Unix seconds, inclusive")] = None,
    until: Annotated[int | None, Query(ge=0, le=MOMENT, description="Unix seconds, exclusive")] = None,
) -> Filter:
    return Filter(
        subject_id=subject_id,
        department=department,
        official=official,
        grant_id=grant_id,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )


TraceFilter = Annotated[Filter, Depends(trace_filter)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
AfterSeq = Annotated[int | None, Query(ge=0, le=POSITION, description="cursor: the `next` of the previous page")]


# -- auditors ----------------------------------------------------------------------------------


@router.post("/auditors", response_model=AuditorPublic, status_code=status.HTTP_201_CREATED)
async def register_auditor(
    body: AuditorCreate, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now
) -> AuditorPublic:
    """Register an auditor.

    An auditor logs in with `address`, then traces, exports and verifies the access log; it
    sees no personal data."""
    row = await auditors.add(ctx, session, address=body.address, name=body.name, now=now)
    return AuditorPublic.model_validate(row, from_attributes=True)


@router.get("/auditors", response_model=list[AuditorPublic])
async def list_auditors(_admin: CurrentAdmin, session: Session) -> list[AuditorPublic]:
    """List auditors.

    Every registered auditor with its address and name."""
    return [AuditorPublic.model_validate(row, from_attributes=True) for row in await auditors.list_all(session)]


# -- the auditor -------------------------------------------------------------------------------


@router.get("/audit/entries", response_model=EntryPagePublic)
async def entries(
    f: TraceFilter,
    _auditor: CurrentAuditor,
    session: Session,
    after_seq: AfterSeq = None,
    limit: Limit = 100,
    order: Order = "oldest",
) -> EntryPagePublic:
    """Entries matching every filter given, a page at a time (follow `next`)."""
    page = await audit_trace.trace(session, f, after_seq=after_seq, limit=limit, order=order)
    return EntryPagePublic.model_validate(page, from_attributes=True)


@router.get("/audit/export", response_class=StreamingResponse)
async def export(
    f: TraceFilter,
    _auditor: CurrentAuditor,
    ctx: Ctx,
    format: Literal["jsonl", "csv"] = "jsonl",
    order: Order = "oldest",
    limit: Annotated[int | None, Query(ge=1, le=POSITION)] = None,
) -> StreamingResponse:
    """Export the access log.

    Every matching entry, streamed as JSON Lines or CSV (the last CSV column is the entry
    as hashed). The log as it stood when the export began."""
    pieces = audit_trace.export(ctx.sessions, f, format, order=order, limit=limit)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="access-log.{format}"'}
    return StreamingResponse(pieces, media_type=media, headers=headers)


@router.get("/audit/heads", response_model=HeadsPublic)
async def heads(
    request: Request,
    _auditor: CurrentAuditor,
    ctx: Ctx,
    session: Session,
    before_size: Annotated[int | None, Query(ge=0, le=POSITION)] = None,
    limit: Limit = 100,
) -> HeadsPublic:
    """Signed tree heads and their anchors.

    Signed tree heads and their anchoring, the log key that signs them, and the heads the
    chain holds: anyone with the key's address can check every signature."""
    sequencer = request.app.state.vault.sequencer
    log_key: str = sequencer.log_key.address
    sm2 = sequencer.sm2_key.public_key.hex if sequencer.sm2_key is not None else None
    found = await audit_heads.heads(
        ctx.chain, session, log_key=log_key, before_size=before_size, limit=limit, sm2_public_key=sm2
    )
    return HeadsPublic.model_validate(found, from_attributes=True)


@router.get("/audit/proofs/inclusion", response_model=InclusionPublic)
async def inclusion(
    _auditor: CurrentAuditor,
    session: Session,
    seq: Annotated[int, Query(ge=0, le=POSITION)],
    size: Annotated[int, Query(ge=1, le=POSITION)],
) -> InclusionPublic:
    """Entry `seq` is in the tree of the first `size` entries (RFC 9162 audit path)."""
    return InclusionPublic.model_validate(await audit_heads.inclusion(session, seq, size))


@router.get("/audit/proofs/consistency", response_model=ConsistencyPublic)
async def consistency(
    _auditor: CurrentAuditor,
    session: Session,
    first: Annotated[int, Query(ge=0, le=POSITION)],
    second: Annotated[int, Query(ge=0, le=POSITION)],
) -> ConsistencyPublic:
    """The tree of `first` entries is a prefix of the tree of `second` (RFC 9162)."""
    return ConsistencyPublic.model_validate(await audit_heads.consistency(session, first, second))


@router.post("/audit/verify", response_model=AuditReportPublic)
async def verify(request: Request, _auditor: CurrentAuditor, ctx: Ctx) -> AuditReportPublic:
    """Checks the whole log: entries, tree, signed heads and their anchors on chain."""
    log_key: str = request.app.state.vault.sequencer.log_key.address
    report = await audit_verify.verify_log(ctx, log_key_address=log_key, anchor=ctx.chain.audit)
    return AuditReportPublic.model_validate(report.to_dict())


# -- the subject: who accessed my data ---------------------------------------------------------


async def _named(session: AsyncSession, found: access_log.AccessLog) -> AccessLogPublic:
    """The log with each acting department (or bank, notary, enterprise) named and its kind given."""
    page = AccessLogPublic.model_validate(found, from_attributes=True)
    known = await departments.named(session, {e.department for e in page.entries if e.department})
    for entry in page.entries:
        if (who := known.get(entry.department or "")) is not None:
            entry.department_name, entry.department_kind = who.name, who.kind
    return page


@router.get("/me/access-log", response_model=AccessLogPublic)
async def my_access_log(
    subject: CurrentSubject,
    session: Session,
    after_seq: AfterSeq = None,
    limit: Limit = 100,
    order: Order = "newest",
) -> AccessLogPublic:
    """Who accessed your data.

    Every access to my data by someone else (my own reads left out), newest first, each
    with its inclusion proof against the latest head anchored on chain."""
    found = await access_log.access_log(session, subject.id, after_seq=after_seq, limit=limit, order=order)
    return await _named(session, found)


@router.get("/subjects/{subject_id}/access-log", response_model=AccessLogPublic)
async def access_log_for(
    acting: ActingFor,
    session: Session,
    after_seq: AfterSeq = None,
    limit: Limit = 100,
    order: Order = "newest",
) -> AccessLogPublic:
    """Who accessed the subject's data.

    As /me/access-log, for an agent or guardian acting for the subject: an agent sees the
    entries about the record types its delegation covers."""
    scope = None if acting.role == "subject" else acting.record_types
    found = await access_log.access_log(
        session,
        acting.subject_id,
        after_seq=after_seq,
        limit=limit,
        order=order,
        record_types=scope,
    )
    return await _named(session, found)
