from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ctx, CurrentAdmin, CurrentRegistrar, CurrentSubject, Now, Session
from api.schemas.subjects import (
    KeyRotationPublic,
    RegistrarAssign,
    RegistrarPublic,
    SubjectCreate,
    SubjectFind,
    SubjectPublic,
)
from vault.accounts import departments, subjects

router = APIRouter(tags=["subjects"])


def public(view: subjects.SubjectView) -> SubjectPublic:
    return SubjectPublic.model_validate(view, from_attributes=True)


@router.post("/subjects", response_model=SubjectPublic, status_code=status.HTTP_201_CREATED)
async def register(
    body: SubjectCreate, registrar: CurrentRegistrar, ctx: Ctx, session: Session, now: Now
) -> SubjectPublic:
    """Register a citizen or enterprise.

    The subject is known by a pseudonymous id derived from its kind and identifier; `address`
    is the key it logs in and signs consent with, bound on chain. An address has one role."""
    view = await subjects.register(
        ctx,
        session,
        kind=body.kind,
        identifier=body.identifier,
        name=body.name,
        address=body.address,
        registrar=registrar,
        now=now,
    )
    ctx.nudge()
    return public(view)


@router.post("/subjects/find", response_model=SubjectPublic)
async def find(body: SubjectFind, registrar: CurrentRegistrar, ctx: Ctx, session: Session) -> SubjectPublic:
    """Find a subject in your care by its ID number or credit code.

    For a registrar replacing a lost key or appointing a guardian: the person shows the number,
    the counter needs the subject's pseudonymous id. A POST, so the number stays out of
    addresses and access logs."""
    return public(await subjects.find(ctx, session, registrar=registrar, kind=body.kind, identifier=body.identifier))


@router.get("/me", response_model=SubjectPublic)
async def me(subject: CurrentSubject, ctx: Ctx, session: Session) -> SubjectPublic:
    """Your own subject.

    The caller's pseudonymous id, kind, name and current key."""
    return public(await subjects.get(ctx, session, subject.id))


@router.post("/me/keys/rotate", response_model=KeyRotationPublic)
async def rotate_own_key(subject: CurrentSubject, ctx: Ctx, session: Session, now: Now) -> KeyRotationPublic:
    """Re-seal your data under a new data key.

    Rotates the subject's encryption key (not its login key) and answers the new key version."""
    version = await subjects.rotate_encryption_key(
        ctx, session, subject_id=subject.id, actor_role="subject", actor=subject.id, now=now
    )
    return KeyRotationPublic(subject_id=subject.id, key_version=version)


@router.post("/subjects/{subject_id}/keys/rotate", response_model=KeyRotationPublic)
async def rotate_key(subject_id: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> KeyRotationPublic:
    """Re-seal a subject's data under a new data key.

    As `/me/keys/rotate`, by the governance admin."""
    version = await subjects.rotate_encryption_key(
        ctx, session, subject_id=subject_id, actor_role="admin", actor="admin", now=now
    )
    return KeyRotationPublic(subject_id=subject_id, key_version=version)


@router.post("/subjects/{subject_id}/registrar", response_model=RegistrarPublic)
async def assign_registrar(
    subject_id: str,
    body: RegistrarAssign,
    _admin: CurrentAdmin,
    ctx: Ctx,
    session: Session,
    now: Now,
) -> RegistrarPublic:
    """Hand a subject over to another registrar.

    The governance admin lets another registrar take the subject over: from then on only it
    replaces the subject's key and appoints its guardians."""
    row = await departments.assign_registrar(ctx, session, subject_id=subject_id.lower(), code=body.department, now=now)
    return RegistrarPublic(subject_id=row.id, kind=row.kind, registered_by=row.registered_by or "")
