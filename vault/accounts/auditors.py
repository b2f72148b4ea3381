"""Auditors (审计): registered by the governance admin; they trace every access and check the
access log against the chain, and see no personal data (the log holds none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.accounts.subjects import address_in_use, check_address, platform_key
from vault.context import VaultContext
from vault.db.models import Auditor
from vault.errors import ConflictError, VaultValueError
from vault.events import VaultEvent


async def add(ctx: VaultContext, session: AsyncSession, *, address: str, name: str, now: int) -> Auditor:
    auth = check_address(address)
    if not name.strip() or len(name) > 100:
        raise VaultValueError("name must be 1-100 characters", field="name")
    if await session.get(Auditor, auth) is not None or await address_in_use(session, auth):
        raise ConflictError("this address is already registered")
    if (what := await platform_key(ctx, session, auth)) is not None:
        raise ConflictError(f"this address is {what}; an auditor logs in with a key of its own")
    row = Auditor(address=auth, name=name.strip(), created_at=now)
    session.add(row)
    await session.flush()
    # The address only: an auditor's name is not the log's business.
    await ctx.events.emit(session, VaultEvent("auditor.registered", "ok", now, "admin", "admin", reason=auth))
    return row


async def list_all(session: AsyncSession) -> list[Auditor]:
    return list(await session.scalars(select(Auditor).order_by(Auditor.created_at, Auditor.address)))
