"""Who may act for whom, now: the delegations (agents and guardians) in force.

Appointing and withdrawing them is consent's business (``vault.consent.delegations``); this is
the look-up that logins, grants and corrections all ask, kept here so that none of them needs
the consent folder to know whether an agent is acting within a delegation.
"""

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


async def subjects_of(session: AsyncSession, agent: str, now: int) -> list[str]:
    """The subjects ``agent`` may act for now."""
    rows = await session.scalars(
        select(DelegationRow.subject_id).where(DelegationRow.agent_address == agent).distinct()
    )
    return [sid for sid in rows if await active_for(session, sid, agent, now) is not None]
