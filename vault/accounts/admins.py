"""Governance admins, bootstrapped from the command line (there is no one to ask over HTTP)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.accounts.subjects import address_in_use, check_address
from vault.db.models import Admin
from vault.errors import ConflictError


async def add(session: AsyncSession, address: str, name: str, now: int) -> Admin:
    auth = check_address(address)
    if await address_in_use(session, auth):
        raise ConflictError("this address is already registered")
    row = Admin(address=auth, name=name, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def count(session: AsyncSession) -> int:
    return len((await session.scalars(select(Admin.address))).all())
