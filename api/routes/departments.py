from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ctx, CurrentAdmin, Now, Session
from api.schemas.departments import DepartmentCreate, DepartmentPublic
from vault import departments

router = APIRouter(prefix="/departments", tags=["departments"])


def public(view: departments.DepartmentView) -> DepartmentPublic:
    return DepartmentPublic.model_validate(view, from_attributes=True)


@router.post("", response_model=DepartmentPublic, status_code=status.HTTP_201_CREATED)
async def register(body: DepartmentCreate, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> DepartmentPublic:
    view = await departments.register(
        ctx, session, code=body.code, name=body.name, roles=body.roles, auth_address=body.auth_address, now=now
    )
    ctx.nudge()
    return public(view)


@router.get("", response_model=list[DepartmentPublic])
async def list_departments(session: Session) -> list[DepartmentPublic]:
    return [public(v) for v in await departments.list_all(session)]


@router.post("/{code}/deactivate", response_model=DepartmentPublic)
async def deactivate(code: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> DepartmentPublic:
    view = await departments.set_active(ctx, session, code, False, now)
    ctx.nudge()
    return public(view)


@router.post("/{code}/reactivate", response_model=DepartmentPublic)
async def reactivate(code: str, _admin: CurrentAdmin, ctx: Ctx, session: Session, now: Now) -> DepartmentPublic:
    view = await departments.set_active(ctx, session, code, True, now)
    ctx.nudge()
    return public(view)
