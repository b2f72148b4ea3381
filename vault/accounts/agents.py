"""Who may act for whom, now: the delegations (agents and guardians) in force.

Appointing and withdrawing them is consent's business (``vault.consent.delegations``); this is
the look-up that logins, grants and corrections all ask, kept here so that none of them needs
the consent folder to know whether an agent is acting within a delegation.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from vault import pages
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


def _in_force(agent: str, now: int) -> list[ColumnElement[bool]]:
    """``active_for`` as a query: the rows that are, each for its subject, the delegation under
    which ``agent`` may act at ``now`` (the subject's latest to the agent, live, in its time)."""
    newer = aliased(DelegationRow)
    return [
        DelegationRow.agent_address == agent,
        ~exists().where(
            newer.subject_id == DelegationRow.subject_id,
            newer.agent_address == DelegationRow.agent_address,
            newer.id > DelegationRow.id,
        ),
        DelegationRow.status.in_(LIVE),
        DelegationRow.revoked_at.is_(None),
        DelegationRow.not_before <= now,
        DelegationRow.expires_at > now,
    ]


async def page_for_agent(
    session: AsyncSession,
    agent: str,
    now: int,
    *,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[DelegationRow]:
    """One page of the delegations under which ``agent`` may act now, one per subject (what
    ``subjects_of`` names, with the terms ``active_for`` gives), oldest first (newest first with
    ``newest``), and how many subjects there are in all."""
    return await pages.keyset(
        session,
        DelegationRow,
        _in_force(agent, now),
        [DelegationRow.id],
        "acting",
        after=after,
        limit=limit,
        newest=newest,
    )
