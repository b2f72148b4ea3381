"""The durable outbox: chain writes committed in the same transaction as the data they anchor.

A service only *enqueues*; the submitter (``vault.submitter``) is the one process that sends,
so it alone owns every account's nonce, and after a crash it finds the work still queued.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault.db.models import OutboxEntry

KINDS = (
    "fund",
    "add_department",
    "set_roles",
    "deactivate_department",
    "reactivate_department",
    "issue",
    "revoke",
    "revoke_leaf",
)


def enqueue(session: AsyncSession, kind: str, sender: str, payload: dict[str, Any], now: int) -> OutboxEntry:
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    entry = OutboxEntry(
        kind=kind,
        payload=json.dumps(payload, sort_keys=True),
        sender=sender,
        status="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    return entry


async def pending(session: AsyncSession, limit: int = 100) -> list[OutboxEntry]:
    rows = await session.scalars(
        select(OutboxEntry).where(OutboxEntry.status == "pending").order_by(OutboxEntry.id).limit(limit)
    )
    return list(rows)


def payload_of(entry: OutboxEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(entry.payload)
    return value
