from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ctx, CurrentAdmin, Now, Session
from api.schemas.departments import AuthorityCodeSet, DepartmentCreate, DepartmentPublic, RolesSet
from vault.accounts import department_changes, departments

router = APIRouter(prefix="/departments", tags=["departments"])


def public(view: departments.DepartmentView) -> DepartmentPublic:
    return DepartmentPublic.model_validate(view, from_attributes=True)


@router.post("", response_model=DepartmentPublic, status_code=status.HTTP_201_CREATED)
async def register(
    body: DepartmentCreate, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now
) -> DepartmentPublic:
    """Register a department, with its roles and login key.

    Roles: `issuer` issues records, `verifier` checks presentations, `registrar` registers
    subjects, replaces their keys and appoints guardians, `data_user` reads under grants.
    `auth_address` is the key its officials log in with; the department is authorised on the
    chain's registry as well. `kind`: a bank, notary or enterprise is a data user that is not
    a department: it gives its `licence_number` and may be a verifier and data user only."""
    view = await departments.register(
        ctx,
        session,
        code=body.code,
        name=body.name,
        roles=body.roles,
        auth_address=body.auth_address,
        now=now,
        subject_kinds=None if body.subject_kinds is None else list(body.subject_kinds),
        authority_code=body.authority_code,
        kind=body.kind,
        licence_number=body.licence_number,
    )
    ctx.nudge()
    return public(view)


@router.get("", response_model=list[DepartmentPublic])
async def list_departments(session: Session) -> list[DepartmentPublic]:
    """List departments.

    Public: every department with its code, name, roles and whether it is active."""
    return [public(v) for v in await departments.list_all(session)]


@router.post("/{code}/deactivate", response_model=DepartmentPublic)
async def deactivate(code: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> DepartmentPublic:
    """Deactivate a department.

    Its officials can no longer act, and the chain stops trusting what it issued."""
    view = await department_changes.set_active(ctx, session, code, False, now)
    ctx.nudge()
    return public(view)


@router.post("/{code}/reactivate", response_model=DepartmentPublic)
async def reactivate(code: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> DepartmentPublic:
    """Reactivate a department.

    Undoes a deactivation: the department acts again and what it issued is trusted again."""
    view = await department_changes.set_active(ctx, session, code, True, now)
    ctx.nudge()
    return public(view)


@router.put("/{code}/roles", response_model=DepartmentPublic)
async def set_roles(
    code: str, body: RolesSet, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now
) -> DepartmentPublic:
    """Change a department's roles, in the vault and on the chain's registry.

    A bank, notary or enterprise is refused `issuer` and `registrar` (422), as at registration."""
    view = await department_changes.set_roles(ctx, session, code, body.roles, now)
    ctx.nudge()
    return public(view)


@router.put("/{code}/authority-code", response_model=DepartmentPublic)
async def set_authority_code(
    code: str, body: AuthorityCodeSet, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now
) -> DepartmentPublic:
    """Give a department registered without one its 统一社会信用代码, once.

    The e-licence identifiers (GB/T 36904 标识) of what it issues contain this code, so it is
    never changed afterwards: a second call is a 409."""
    return public(await department_changes.set_authority_code(ctx, session, code, body.authority_code, now))
