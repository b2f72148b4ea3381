"""Retention rules per record type: a record is kept so many days after it expires, then
shredded by the scheduled job. ``due`` is the dry run: what the job would erase now.

Only the governance admin sets rules. A type without a rule is kept until erased on request.
Each record is erased in a transaction of its own, so one that cannot be erased (its subject
erased meanwhile, say) holds up no other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.context import VaultContext
from vault.db.erasure import RetentionRule
from vault.db.models import Record, Subject
from vault.erasure import requests
from vault.errors import ConflictError, VaultValueError
from vault.events import VaultEvent
from vault.record_types import RECORD_TYPES

DAY = 86_400
MAX_DAYS = 100 * 366
RETENTION = requests.Requester("system", "retention", "retention-expired")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    record_id: str
    subject_id: str
    type: str
    issuer_code: str
    valid_until: int
    due_at: int


def _record_type(record_type: str) -> None:
    if record_type not in RECORD_TYPES:
        raise VaultValueError(f"record type must be one of {', '.join(RECORD_TYPES)}", field="record_type")


async def set_rule(
    ctx: VaultContext, session: AsyncSession, record_type: str, keep_days: int, *, set_by: str, now: int
) -> RetentionRule:
    """Keep ``record_type``'s records ``keep_days`` after they expire; the admin's change is logged."""
    _record_type(record_type)
    if not 0 <= keep_days <= MAX_DAYS:
        raise VaultValueError(f"keep_days_after_expiry must be 0..{MAX_DAYS}", field="keep_days_after_expiry")
    rule = await session.get(RetentionRule, record_type)
    if rule is None:
        rule = RetentionRule(record_type=record_type, keep_days_after_expiry=keep_days, set_by=set_by, set_at=now)
        session.add(rule)
    else:
        rule.keep_days_after_expiry, rule.set_by, rule.set_at = keep_days, set_by, now
    await session.flush()
    await ctx.events.emit(
        session, VaultEvent("retention.rule_set", "ok", now, "admin", set_by, reason=f"{record_type} {keep_days} days")
    )
    return rule


async def remove_rule(ctx: VaultContext, session: AsyncSession, record_type: str, *, by: str, now: int) -> bool:
    """No rule for ``record_type`` from now on: its records are kept until erased on request.
    True if there was one (removing none is not an error: the outcome is the same)."""
    _record_type(record_type)
    rule = await session.get(RetentionRule, record_type)
    if rule is None:
        return False
    await session.delete(rule)
    await session.flush()
    await ctx.events.emit(session, VaultEvent("retention.rule_removed", "ok", now, "admin", by, reason=record_type))
    return True


async def rules(session: AsyncSession) -> list[RetentionRule]:
    return list((await session.scalars(select(RetentionRule).order_by(RetentionRule.record_type))).all())


async def due(session: AsyncSession, now: int, *, limit: int = 1_000) -> list[Due]:
    """Records past their type's retention, oldest first: what ``run`` would erase now."""
    found: list[Due] = []
    for rule in await rules(session):
        keep = rule.keep_days_after_expiry * DAY
        newest = (
            select(Record.id, func.max(Record.version).label("version"))
            .where(Record.type == rule.record_type)
            .group_by(Record.id)
            .subquery()
        )
        rows = await session.execute(
            select(Record)
            .join(newest, (Record.id == newest.c.id) & (Record.version == newest.c.version))
            .join(Subject, Subject.id == Record.subject_id)
            .where(Record.erased_at.is_(None), Subject.erased_at.is_(None), Record.valid_until + keep <= now)
            .order_by(Record.valid_until, Record.id)
            .limit(limit)
        )
        for (row,) in rows:
            until = row.valid_until
            found.append(Due(row.id, row.subject_id, row.type, row.issuer_code, until, until + keep))
    found.sort(key=lambda d: (d.due_at, d.record_id))
    return found[:limit]


async def run(ctx: VaultContext, now: int, *, limit: int = 1_000) -> list[str]:
    """Erase what is due; returns the erased record ids."""
    async with ctx.sessions() as session:
        pending = await due(session, now, limit=limit)
    erased: list[str] = []
    for item in pending:
        try:
            async with ctx.sessions.begin() as session:
                await requests.erase(
                    ctx,
                    session,
                    subject_id=item.subject_id,
                    scope="record",
                    record_id=item.record_id,
                    requester=RETENTION,
                    now=now,
                )
        except ConflictError as exc:
            log.info("retention skipped record %s: %s", item.record_id, exc.reason)
            continue
        erased.append(item.record_id)
    return erased
