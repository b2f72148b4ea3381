from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ctx, CurrentDepartment, CurrentSubject, Now, Session
from api.schemas.records import AnchorPublic, RecordCreate, RecordPublic, RecordRevoke
from vault import records, subjects
from vault.documents import DocumentSpec

router = APIRouter(tags=["records"])


def public(view: records.RecordView) -> RecordPublic:
    anchor = None
    if view.anchor is not None:
        anchor = AnchorPublic(
            root=view.anchor.root, proof=list(view.anchor.proof),
            tx_hash=view.anchor.tx_hash, block_number=view.anchor.block_number,
        )
    return RecordPublic(
        id=view.id, version=view.version, type=view.type, issuer=view.issuer_code, status=view.status,
        status_reason=view.status_reason, credential_hash=view.credential_hash, valid_from=view.valid_from,
        valid_until=view.valid_until, created_at=view.created_at, anchor=anchor, document=view.document,
    )


@router.post("/records", response_model=RecordPublic, status_code=status.HTTP_201_CREATED)
async def issue(body: RecordCreate, dept: CurrentDepartment, ctx: Ctx, session: Session, now: Now) -> RecordPublic:
    subject = await subjects.resolve(
        ctx, session, subject_id=body.subject.subject_id, kind=body.subject.kind, identifier=body.subject.identifier
    )
    spec = DocumentSpec(
        type=body.type, title=body.title, fields=body.fields,
        valid_from=now if body.valid_from is None else body.valid_from, valid_until=body.valid_until,
    )
    view = await records.issue(ctx, session, issuer=dept, subject_id=subject.id, spec=spec, now=now)
    ctx.nudge()
    return public(view)


@router.post("/records/{record_id}/revoke", response_model=RecordPublic)
async def revoke(record_id: str, body: RecordRevoke, dept: CurrentDepartment, ctx: Ctx, session: Session, now: Now) -> RecordPublic:
    view = await records.revoke(ctx, session, issuer=dept, record_id=record_id, reason=body.reason, now=now)
    ctx.nudge()
    return public(view)


@router.get("/me/records", response_model=list[RecordPublic])
async def my_records(subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> list[RecordPublic]:
    return [public(v) for v in await records.list_for_subject(ctx, session, subject.id, now)]


@router.get("/me/records/{record_id}", response_model=RecordPublic)
async def my_record(record_id: str, subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> RecordPublic:
    return public(await records.read_for_subject(ctx, session, subject.id, record_id, now))
