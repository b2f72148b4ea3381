"""Departments (部门): registered by the governance admin, mirrored on chain.

A department logs in with a key it holds (``auth_address``); the vault keeps a second,
custodial chain key per department so that its anchors are sent by one nonce owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault import outbox
from vault.accounts import data_users, issuer_sm2, subjects
from vault.accounts.subjects import (
    SUBJECT_KINDS,
    address_in_use,
    check_address,
    kinds_of,
    platform_key,
)
from vault.context import OPERATOR, VaultContext
from vault.db.models import Department, Subject
from vault.errors import ConflictError, NotFoundError, VaultValueError
from vault.events import VaultEvent
from vault.ids import Address, DepartmentCode
from vault.licence_codes import ELicenceFacts, check_uscc


class Role(IntFlag):
    ISSUER = 1
    VERIFIER = 2
    REGISTRAR = 4
    DATA_USER = 8


ROLE_NAMES = {r.name.lower(): r for r in Role if r.name}
_CODE = re.compile(r"[a-z][a-z0-9-]{1,30}")
# Enough for thousands of anchors on a dev chain at its default gas price.
FUNDING_WEI = 10**19


def parse_roles(names: list[str]) -> Role:
    roles = Role(0)
    for name in names:
        if name not in ROLE_NAMES:
            raise VaultValueError(f"unknown role {name!r}; roles are {', '.join(ROLE_NAMES)}", field="roles")
        roles |= ROLE_NAMES[name]
    if not roles:
        raise VaultValueError("a department needs at least one role", field="roles")
    return roles


def _subject_kinds(names: list[str] | None) -> list[str]:
    # Unsaid, a registrar registers both kinds (as every registrar did before kinds existed).
    if names is None:
        return list(SUBJECT_KINDS)
    unknown = sorted(set(names) - set(SUBJECT_KINDS))
    if unknown or not names:
        raise VaultValueError(f"subject kinds are {' and '.join(SUBJECT_KINDS)} (at least one)", field="subject_kinds")
    return [k for k in SUBJECT_KINDS if k in names]


def role_names(roles: int) -> list[str]:
    return [name for name, role in ROLE_NAMES.items() if roles & role]


def code_bytes(code: str) -> bytes:
    return code.encode().ljust(32, b"\0")


@dataclass(frozen=True)
class DepartmentView:
    code: DepartmentCode
    name: str
    roles: list[str]
    active: bool
    auth_address: Address
    chain_address: Address
    created_at: int
    subject_kinds: list[str]  # what a registrar registers
    authority_code: str | None = None  # its 统一社会信用代码: the 颁发机构代码 of its e-licences
    kind: str = "government"  # or a data user's: bank, notary, enterprise (data_users.Kind)
    licence_number: str | None = None  # a non-government data user's licence
    sm2_public_key: str | None = None  # sm suite: its SM2 key (04 || x || y hex) signing batch roots


def view(row: Department) -> DepartmentView:
    return DepartmentView(
        code=DepartmentCode(row.code),
        name=row.name,
        roles=role_names(row.roles),
        active=row.active,
        auth_address=Address(row.auth_address),
        chain_address=Address(row.chain_address),
        created_at=row.created_at,
        subject_kinds=kinds_of(row),
        authority_code=row.authority_code,
        kind=row.kind,
        licence_number=row.licence_number,
        sm2_public_key=row.sm2_public_key,
    )


async def register(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    code: str,
    name: str,
    roles: list[str],
    auth_address: str,
    now: int,
    subject_kinds: list[str] | None = None,
    authority_code: str | None = None,
    kind: str = "government",
    licence_number: str | None = None,
) -> DepartmentView:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise VaultValueError(
            "code must be 2-31 lowercase letters, digits or '-', starting with a letter", field="code"
        )
    if not name.strip() or len(name) > 200:
        raise VaultValueError("name must be 1-200 characters", field="name")
    mask = parse_roles(roles)
    user_kind = data_users.kind_of(kind)
    data_users.check_roles(user_kind, role_names(mask))
    licence = data_users.check_licence(user_kind, licence_number)
    kinds = _subject_kinds(subject_kinds)
    auth = check_address(auth_address, "auth_address")
    if authority_code is not None:
        data_users.check_authority_code(user_kind)
        check_uscc(authority_code, "authority_code")
    if await session.get(Department, code) is not None:
        raise ConflictError(f"department {code!r} is already registered")
    holder = select(Department.code).where(Department.licence_number == licence)
    if licence is not None and await session.scalar(holder) is not None:
        raise ConflictError("another data user is registered with this licence number")
    if await address_in_use(session, auth):
        raise ConflictError("this address is already registered")
    if (what := await platform_key(ctx, session, auth)) is not None:
        raise ConflictError(f"this address is {what}; a department logs in with a key of its own")
    key_name = f"dept-{code}-chain"
    chain_address = (
        ctx.keystore.address_of(key_name) if ctx.keystore.exists(key_name) else ctx.keystore.create(key_name)
    )
    row = Department(
        code=code,
        name=name,
        roles=int(mask),
        active=True,
        auth_address=auth,
        chain_address=chain_address,
        chain_key_name=key_name,
        created_at=now,
        subject_kinds=",".join(kinds),
        authority_code=authority_code,
        kind=user_kind.value,
        licence_number=licence,
    )
    if mask & Role.ISSUER:
        issuer_sm2.ensure(ctx, row)  # sm suite: its batch roots are signed in SM2 too
    session.add(row)
    if not ctx.chain.zero_gas:
        outbox.enqueue(session, "fund", OPERATOR, {"address": chain_address, "wei": FUNDING_WEI}, now)
    outbox.enqueue(
        session, "add_department", OPERATOR, {"account": chain_address, "code": code, "roles": int(mask)}, now
    )
    await session.flush()
    await ctx.events.emit(session, VaultEvent("department.registered", "ok", now, "admin", "admin", reason=code))
    return view(row)


async def get(session: AsyncSession, code: str) -> Department:
    row = await session.get(Department, code)
    if row is None:
        raise NotFoundError("department", code)
    return row


async def by_auth_address(session: AsyncSession, address: str) -> Department | None:
    return await session.scalar(select(Department).where(Department.auth_address == address))


async def named(session: AsyncSession, codes: set[str]) -> dict[str, DepartmentView]:
    """The departments (and other data users) of ``codes``, by code, in one query: what a list
    of grants or accesses names them by."""
    if not codes:
        return {}
    rows = await session.scalars(select(Department).where(Department.code.in_(sorted(codes))))
    return {r.code: view(r) for r in rows}


async def list_all(session: AsyncSession) -> list[DepartmentView]:
    return [view(r) for r in await session.scalars(select(Department).order_by(Department.code))]


async def assign_registrar(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    code: str,
    now: int,
) -> Subject:
    """The governance admin hands a subject to another registrar (a merger of departments, a
    move), which from then on is the one that replaces its key and appoints its guardians."""
    row = await session.get(Subject, subject_id)
    if row is None:
        raise NotFoundError("subject", subject_id)
    dept = await session.get(Department, code)
    if dept is None:
        raise NotFoundError("department", code)
    if not dept.active or not dept.roles & Role.REGISTRAR:
        raise VaultValueError(f"department {code!r} is not an active registrar", field="department")
    if row.kind not in kinds_of(dept):
        raise VaultValueError(f"department {code!r} does not register {row.kind}s", field="department")
    previous, row.registered_by = row.registered_by, dept.code
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            "subject.registrar_assigned",
            "ok",
            now,
            "admin",
            "admin",
            subject_id=row.id,
            reason=f"from {previous or 'none'} to {dept.code}",
        ),
    )
    return row


async def licence_facts(
    ctx: VaultContext, session: AsyncSession, document: dict[str, Any], *, holder: bool = True
) -> ELicenceFacts:
    """What the e-licence metadata (GB/T 36903) of ``document`` needs beyond it: its issuer's
    name and 颁发机构代码 and, with ``holder``, the holder's name, unsealed (personal data: for
    the holder's own export only)."""
    issuer = await get(session, str(document["issuer"]["code"]))
    name = (await subjects.get(ctx, session, str(document["subject"]))).name if holder else None
    return ELicenceFacts(issuer_name=issuer.name, authority_code=issuer.authority_code, holder_name=name)
