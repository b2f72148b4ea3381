"""What the governance admin changes of a registered department: whether it is active, its
roles and its 颁发机构代码. Each change goes to the chain through the outbox where the chain
holds it, and is logged."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vault import outbox
from vault.accounts import data_users, issuer_sm2
from vault.accounts.departments import DepartmentView, Role, get, parse_roles, role_names, view
from vault.context import OPERATOR, VaultContext
from vault.errors import ConflictError
from vault.events import VaultEvent
from vault.licence_codes import check_uscc


async def set_active(ctx: VaultContext, session: AsyncSession, code: str, active: bool, now: int) -> DepartmentView:
    row = await get(session, code)
    if row.active == active:
        raise ConflictError(f"department {code!r} is already {'active' if active else 'inactive'}")
    row.active = active
    kind = "reactivate_department" if active else "deactivate_department"
    outbox.enqueue(session, kind, OPERATOR, {"account": row.chain_address}, now)
    await session.flush()
    action = "department.reactivated" if active else "department.deactivated"
    await ctx.events.emit(session, VaultEvent(action, "ok", now, "admin", "admin", reason=code))
    return view(row)


async def set_roles(ctx: VaultContext, session: AsyncSession, code: str, roles: list[str], now: int) -> DepartmentView:
    """Change a department's roles, on chain as in the vault; a bank, notary or enterprise
    is refused the issuer and registrar roles here as at its registration."""
    row = await get(session, code)
    mask = parse_roles(roles)
    data_users.check_roles(data_users.kind_of(row.kind), role_names(mask))
    if row.roles == int(mask):
        raise ConflictError(f"department {code!r} already has the roles {', '.join(role_names(mask))}")
    row.roles = int(mask)
    if mask & Role.ISSUER:
        issuer_sm2.ensure(ctx, row)
    outbox.enqueue(session, "set_roles", OPERATOR, {"account": row.chain_address, "roles": int(mask)}, now)
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent("department.roles", "ok", now, "admin", "admin", reason=f"{code} {','.join(role_names(mask))}"),
    )
    return view(row)


async def set_authority_code(
    ctx: VaultContext, session: AsyncSession, code: str, authority_code: str, now: int
) -> DepartmentView:
    """Give a department its 颁发机构代码 (统一社会信用代码), once: the identifiers of the
    e-licences it has issued contain it, so it is never changed afterwards."""
    row = await get(session, code)
    data_users.check_authority_code(data_users.kind_of(row.kind))
    check_uscc(authority_code, "authority_code")
    if row.authority_code is not None:
        raise ConflictError(f"department {code!r} already has the authority code {row.authority_code}")
    row.authority_code = authority_code
    await session.flush()
    await ctx.events.emit(
        session, VaultEvent("department.authority_code", "ok", now, "admin", "admin", reason=f"{code} {authority_code}")
    )
    return view(row)
