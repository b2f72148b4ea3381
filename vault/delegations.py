"""Delegations: agents (经办人) an enterprise's legal representative appoints, and guardians a
registrar appoints for a minor or an elderly person. Mirrors the consent registry's rules."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.db.grants import DelegationRow

# A delegation still being anchored already counts: the outbox anchors it before any grant
# the agent signs, so the chain sees them in that order.
LIVE = ("pending", "active")


async def active_for(session: AsyncSession, subject_id: str, agent: str, now: int) -> DelegationRow | None:
    """The delegation under which ``agent`` may act for ``subject_id`` at ``now``, if any."""
    row = await session.scalar(
        select(DelegationRow)
        .where(DelegationRow.subject_id == subject_id, DelegationRow.agent_address == agent)
        .order_by(DelegationRow.id.desc())
    )
    if row is None or row.status not in LIVE or row.revoked_at is not None:
        return None
    if not row.not_before <= now < row.expires_at:
        return None
    return row
