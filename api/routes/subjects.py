from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ctx, CurrentAdmin, CurrentRegistrar, CurrentSubject, Now, Session
from api.schemas.subjects import KeyRotationPublic, SubjectCreate, SubjectPublic
from vault import subjects

router = APIRouter(tags=["subjects"])


def public(view: subjects.SubjectView) -> SubjectPublic:
    return SubjectPublic.model_validate(view, from_attributes=True)


@router.post("/subjects", response_model=SubjectPublic, status_code=status.HTTP_201_CREATED)
async def register(body: SubjectCreate, registrar: CurrentRegistrar, ctx: Ctx, session: Session, now: Now) -> SubjectPublic:
    view = await subjects.register(
        ctx, session, kind=body.kind, identifier=body.identifier, name=body.name, address=body.address,
        registrar=registrar, now=now,
    )
    ctx.nudge()
    return public(view)


@router.get("/me", response_model=SubjectPublic)
async def me(subject: CurrentSubject, ctx: Ctx, session: Session) -> SubjectPublic:
    return public(await subjects.get(ctx, session, subject.id))


@router.post("/me/keys/rotate", response_model=KeyRotationPublic)
async def rotate_own_key(subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> KeyRotationPublic:
    version = await subjects.rotate_encryption_key(ctx, session, subject_id=subject.id, actor_role="subject", actor=subject.id, now=now)
    return KeyRotationPublic(subject_id=subject.id, key_version=version)


@router.post("/subjects/{subject_id}/keys/rotate", response_model=KeyRotationPublic)
async def rotate_key(subject_id: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> KeyRotationPublic:
    version = await subjects.rotate_encryption_key(ctx, session, subject_id=subject_id, actor_role="admin", actor="admin", now=now)
    return KeyRotationPublic(subject_id=subject_id, key_version=version)
