"""The durable outbox: chain writes committed in the same transaction as the data they anchor.

A service only *enqueues*; the submitter (``vault.outbox.submitter``) is the one process that sends,
so it alone owns every account's nonce, and after a crash it finds the work still queued.

An entry is ``pending`` (nothing signed yet), ``signed`` (its signed transaction is recorded
and may or may not have left the process), ``done`` or ``failed``.
"""

from __future__ import annotations

import json
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.transactions import SignedTx
from vault.db.models import OutboxEntry

# Entries the submitter still has to carry out, in id order.
ACTIVE = ("pending", "signed")


def enqueue(session: AsyncSession, kind: str, sender: str, payload: dict[str, Any], now: int) -> OutboxEntry:
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
        select(OutboxEntry).where(OutboxEntry.status.in_(ACTIVE)).order_by(OutboxEntry.id).limit(limit)
    )
    return list(rows)


def payload_of(entry: OutboxEntry) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(entry.payload)
    return value


def record_signed(entry: OutboxEntry, signed: SignedTx, now: int) -> None:
    entry.status = "signed"
    entry.tx_hash = encode_hex(signed.tx_hash)
    entry.raw_tx = signed.raw
    entry.nonce = signed.nonce
    entry.tx_from = signed.sender
    entry.signed_at = now
    entry.block_number = None
    entry.updated_at = now


def signed_of(entry: OutboxEntry) -> SignedTx | None:
    """The transaction recorded for ``entry``; None while nothing is signed."""
    if entry.status != "signed" or entry.raw_tx is None or entry.tx_hash is None:
        return None
    assert entry.nonce is not None and entry.tx_from is not None
    return SignedTx(
        raw=bytes(entry.raw_tx),
        tx_hash=decode_hex(entry.tx_hash),
        sender=entry.tx_from,
        nonce=int(entry.nonce),
    )


def forget_signed(entry: OutboxEntry, now: int) -> None:
    """Back to ``pending``: the recorded transaction can no longer be mined, or was lost."""
    entry.status = "pending"
    entry.tx_hash = entry.raw_tx = entry.nonce = entry.tx_from = entry.signed_at = None
    entry.block_number = None
    entry.updated_at = now


async def done_entry(session: AsyncSession, kind: str, **match: str) -> OutboxEntry | None:
    """The newest settled entry of ``kind`` whose payload holds ``match`` (unique hex values,
    such as a batch root: the payload is JSON text, so a LIKE narrows and the decode decides)."""
    ((key, value),) = match.items()
    candidates = await session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.kind == kind, OutboxEntry.status == "done", OutboxEntry.payload.contains(value))
        .order_by(OutboxEntry.id.desc())
    )
    for entry in candidates:
        if payload_of(entry).get(key) == value:
            return entry
    return None
