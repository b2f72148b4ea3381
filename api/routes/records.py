from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import Ctx, CurrentDepartment, CurrentSubject, Now, Session
from api.schemas.common import After, PageLimit
from api.schemas.records import (
    AnchorPublic,
    BulkCreate,
    BulkIssued,
    BulkResult,
    RecordCreate,
    RecordPagePublic,
    RecordPublic,
    RecordRevoke,
    RecordStatus,
    StatusQuery,
)
from vault import pages
from vault.accounts import subjects
from vault.credentials import bulk, records
from vault.credentials.documents import DocumentSpec

router = APIRouter(tags=["records"])


def public(view: records.RecordView) -> RecordPublic:
    anchor = None
    if view.anchor is not None:
        anchor = AnchorPublic(
            root=view.anchor.root,
            proof=list(view.anchor.proof),
            tx_hash=view.anchor.tx_hash,
            block_number=view.anchor.block_number,
            sm2_signature=view.anchor.sm2_signature,
        )
    return RecordPublic(
        id=view.id,
        version=view.version,
        type=view.type,
        issuer=view.issuer_code,
        status=view.status,
        status_reason=view.status_reason,
        credential_hash=view.credential_hash,
        valid_from=view.valid_from,
        valid_until=view.valid_until,
        created_at=view.created_at,
        anchor=anchor,
        document=view.document,
    )


@router.post("/records", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def issue(body: RecordCreate, dept: CurrentDepartment, ctx: Ctx, session: Session, now: Now) -> RecordPublic:
    """Issue a credential into a subject's vault.

    The subject is named by its id, or by kind and identifier. The record is sealed under the
    subject's key with every field committed separately; its hash is anchored on chain within
    seconds (`anchor` is null until then)."""
    subject = await subjects.resolve(
        ctx, session, subject_id=body.subject.subject_id, kind=body.subject.kind, identifier=body.subject.identifier
    )
    spec = DocumentSpec(
        type=body.type,
        title=body.title,
        fields=body.fields,
        valid_from=now if body.valid_from is None else body.valid_from,
        valid_until=body.valid_until,
    )
    view = await records.issue(ctx, session, issuer=dept, subject_id=subject.id, spec=spec, now=now)
    ctx.nudge()
    return public(view)


@router.post("/records/bulk", response_model=BulkResult, status_code=status.HTTP_201_CREATED)
async def issue_bulk(
    body: BulkCreate,
    dept: CurrentDepartment,
    ctx: Ctx,
    session: Session,
    now: Now,
    response: Response,
) -> BulkResult:
    """Issue up to 10,000 credentials in one request.

    Up to 10,000 credentials, all or nothing: every item is checked, and any invalid one
    refuses the request with a 422 whose ``errors`` name each problem (``{index, field, reason}``,
    the first 100; ``more_errors`` counts the rest); nothing is written. Anchored together, in one
    transaction. With ``dry_run`` every item is checked the same way, nothing is written, and the
    answer is 200."""
    items = [
        bulk.BulkItem(
            spec=DocumentSpec(
                type=item.type,
                title=item.title,
                fields=item.fields,
                valid_from=now if item.valid_from is None else item.valid_from,
                valid_until=item.valid_until,
            ),
            subject_id=item.subject.subject_id,
            kind=item.subject.kind,
            identifier=item.subject.identifier,
        )
        for item in body.items
    ]
    issued = await bulk.issue_many(ctx, session, issuer=dept, items=items, now=now, dry_run=body.dry_run)
    if body.dry_run:
        response.status_code = status.HTTP_200_OK
        return BulkResult(count=len(items), dry_run=True, created_at=now, records=[])
    ctx.nudge()
    return BulkResult(
        count=len(issued),
        created_at=now,
        records=[BulkIssued(id=i.id, subject_id=i.subject_id, credential_hash=i.credential_hash) for i in issued],
    )


@router.post("/records/status", response_model=list[RecordStatus])
async def anchor_status(body: StatusQuery, dept: CurrentDepartment, session: Session) -> list[RecordStatus]:
    """Where this department's records stand.

    Where records this department issued stand (pending, anchored with its transaction...);
    ids it did not issue answer ``unknown``. No contents are read."""
    found = await bulk.statuses(session, issuer=dept, ids=body.ids)
    return [
        RecordStatus(id=s.id, status=s.status, root=s.root, tx_hash=s.tx_hash, block_number=s.block_number)
        for s in found
    ]


@router.post("/records/{record_id}/revoke", response_model=RecordPublic)
async def revoke(
    record_id: str, body: RecordRevoke, dept: CurrentDepartment, ctx: Ctx, session: Session, now: Now
) -> RecordPublic:
    """Revoke a record this department issued.

    The reason is recorded and the revocation anchored on chain; from then on the credential
    no longer verifies."""
    view = await records.revoke(ctx, session, issuer=dept, record_id=record_id, reason=body.reason, now=now)
    ctx.nudge()
    return public(view)


@router.get("/me/records", response_model=RecordPagePublic)
async def my_records(
    subject: CurrentSubject,
    ctx: Ctx,
    session: Session,
    now: Now,
    after: After = None,
    limit: PageLimit = pages.DEFAULT_LIMIT,
) -> RecordPagePublic:
    """Your records, decrypted, a page at a time.

    The records in the caller's vault, oldest first, each with its anchor (Merkle proof and
    transaction) once anchored; `total` counts them all. Follow `next` (as `after`) for the
    next page."""
    page = await records.page_for_subject(ctx, session, subject.id, after=after, limit=limit, now=now)
    return RecordPagePublic(records=[public(v) for v in page.items], total=page.total, next=page.next)


@router.get("/me/records/{record_id}", response_model=RecordPublic)
async def my_record(record_id: str, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> RecordPublic:
    """One of your records, decrypted.

    As `/me/records`, for one record id."""
    return public(await records.read_for_subject(ctx, session, subject.id, record_id, now))
