"""Corrections (纠错): the subject (``/me/...``) or its agent or guardian (``/subjects/{id}/...``)
asks; the issuing department lists and decides; departments that read the old version are
notified."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from api.deps import (
    ActingFor,
    Ctx,
    CurrentDepartment,
    CurrentPrincipal,
    CurrentSubject,
    Now,
    Session,
)
from api.routes.records import public as record_public
from api.schemas.common import After, PageLimit, RowId
from api.schemas.corrections import (
    CorrectionAccept,
    CorrectionPagePublic,
    CorrectionPublic,
    CorrectionReject,
    CorrectionRequest,
    DecisionPublic,
    NotificationPagePublic,
    NotificationPublic,
)
from vault import pages
from vault.credentials import correction_notices, corrections
from vault.db.corrections import CorrectionNotice

router = APIRouter(tags=["corrections"])


def public(view: corrections.CorrectionView) -> CorrectionPublic:
    return CorrectionPublic(
        id=view.id,
        record_id=view.record_id,
        record_version=view.record_version,
        record_type=view.record_type,
        subject_id=view.subject_id,
        issuer=view.issuer_code,
        requested_by=view.requested_by,
        reason=view.reason,
        fields=view.fields,
        previous=view.previous,
        status=view.status,
        decided_by=view.decided_by,
        decided_at=view.decided_at,
        note=view.note,
        new_version=view.new_version,
        created_at=view.created_at,
    )


def decision(d: corrections.Decision) -> DecisionPublic:
    return DecisionPublic(
        correction=public(d.correction),
        record=record_public(d.new_record) if d.new_record else None,
        notified=d.notified,
    )


def notice(row: CorrectionNotice) -> NotificationPublic:
    return NotificationPublic.model_validate(row, from_attributes=True)


# -- the subject, or its agent or guardian ------------------------------------------------------


@router.post(
    "/me/records/{record_id}/corrections", response_model=CorrectionPublic, status_code=status.HTTP_201_CREATED
)
async def request(
    record_id: str, body: CorrectionRequest, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now
) -> CorrectionPublic:
    """Ask the issuing department to correct a record; one open request per record."""
    who = corrections.Requester(subject.id, subject.address, "subject")
    return public(
        await corrections.request(
            ctx, session, requester=who, record_id=record_id, reason=body.reason, fields=body.fields, now=now
        )
    )


def page_public(page: pages.Page[corrections.CorrectionView]) -> CorrectionPagePublic:
    return CorrectionPagePublic(corrections=[public(v) for v in page.items], total=page.total, next=page.next)


@router.get("/me/corrections", response_model=CorrectionPagePublic)
async def mine(
    subject: CurrentSubject,
    ctx: Ctx,
    session: Session,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> CorrectionPagePublic:
    """Your correction requests, a page at a time.

    The corrections asked for the subject's records, oldest first, with the values asked for
    and the decision; `total` counts them all. Follow `next` (as `after`) for the next page."""
    return page_public(await corrections.page_for_subject(ctx, session, subject.id, after=after, limit=limit))


@router.post(
    "/subjects/{subject_id}/records/{record_id}/corrections",
    response_model=CorrectionPublic,
    status_code=status.HTTP_201_CREATED,
)
async def request_for(
    record_id: str, body: CorrectionRequest, acting: ActingFor, ctx: Ctx, session: Session, now: Now
) -> CorrectionPublic:
    """As /me/records/{id}/corrections, by an agent or guardian with a live delegation."""
    who = corrections.Requester(acting.subject_id, acting.address, acting.role)
    return public(
        await corrections.request(
            ctx, session, requester=who, record_id=record_id, reason=body.reason, fields=body.fields, now=now
        )
    )


@router.get("/subjects/{subject_id}/corrections", response_model=CorrectionPagePublic)
async def of_subject(
    acting: ActingFor,
    ctx: Ctx,
    session: Session,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> CorrectionPagePublic:
    """The subject's corrections, a page at a time.

    Those of records whose type the caller's delegation covers, oldest first; `total` counts
    what the caller may see. Follow `next` (as `after`) for the next page."""
    covering = None if acting.role == "subject" else acting.record_types  # as Acting.covers
    found = await corrections.page_for_subject(
        ctx, session, acting.subject_id, covering=covering, after=after, limit=limit
    )
    return page_public(found)


# -- the issuing department --------------------------------------------------------------------


@router.get("/corrections", response_model=CorrectionPagePublic)
async def to_decide(
    dept: CurrentDepartment,
    ctx: Ctx,
    session: Session,
    now: Now,
    state: Annotated[Literal["requested", "accepted", "rejected", "erased"] | None, Query(alias="status")] = None,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> CorrectionPagePublic:
    """Requests about this department's records, a page at a time.

    Oldest first, with the values asked for (the page is logged as a read); `total` counts
    those in `status`, if given. Follow `next` (as `after`) with the same `status`."""
    found = await corrections.page_for_issuer(ctx, session, dept, status=state, now=now, after=after, limit=limit)
    return page_public(found)


@router.post("/corrections/{correction_id}/accept", response_model=DecisionPublic)
async def accept(
    correction_id: str,
    body: CorrectionAccept,
    dept: CurrentDepartment,
    principal: CurrentPrincipal,
    ctx: Ctx,
    session: Session,
    now: Now,
) -> DecisionPublic:
    """Issues the corrected version, revokes the old one and notifies its readers, in one step."""
    d = await corrections.accept(
        ctx, session, department=dept, official=principal.address, correction_id=correction_id, note=body.note, now=now
    )
    ctx.nudge()
    return decision(d)


@router.post("/corrections/{correction_id}/reject", response_model=DecisionPublic)
async def reject(
    correction_id: str,
    body: CorrectionReject,
    dept: CurrentDepartment,
    principal: CurrentPrincipal,
    ctx: Ctx,
    session: Session,
    now: Now,
) -> DecisionPublic:
    """Reject a correction request.

    The record stays as it is; the note is sealed under the subject's key for the subject to
    read."""
    d = await corrections.reject(
        ctx, session, department=dept, official=principal.address, correction_id=correction_id, note=body.note, now=now
    )
    return decision(d)


# -- departments that read an outdated version -------------------------------------------------


@router.get("/notifications", response_model=NotificationPagePublic)
async def notifications(
    dept: CurrentDepartment,
    session: Session,
    unread: bool = False,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> NotificationPagePublic:
    """Notices of corrected records this department read, a page at a time.

    When a record this department read under a grant is corrected, it gets a notice;
    `unread=true` lists only those not yet marked read. Oldest first; `total` counts them all.
    Follow `next` (as `after`) with the same `unread`."""
    page = await correction_notices.page_for(session, dept, unread=unread, after=after, limit=limit)
    return NotificationPagePublic(notifications=[notice(row) for row in page.items], total=page.total, next=page.next)


@router.post("/notifications/{notice_id}/read", response_model=NotificationPublic)
async def mark_read(notice_id: RowId, dept: CurrentDepartment, session: Session, now: Now) -> NotificationPublic:
    """Mark a notice read.

    Marks one of this department's notices read and answers the notice."""
    return notice(await correction_notices.mark_read(session, dept, notice_id, now))
