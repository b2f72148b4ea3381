"""The access log's signed tree heads (in the database and on chain) and RFC 9162 proofs
between them, as auditors and subjects fetch them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.audit_anchor import AuditAnchorClient
from chain.errors import ChainError
from vault.audit import log as audit_log
from vault.audit.trace import check_page
from vault.context import ChainContext
from vault.db.audit import AuditEntry, AuditHead
from vault.errors import ChainStateError, VaultValueError


@dataclass(frozen=True)
class HeadView:
    tree_size: int
    root: str
    signed_at: int
    signature: str
    status: str
    tx_hash: str | None
    block_number: int | None
    on_chain: bool  # the chain holds this very (size, root)
    # sm suite: the SM2 signature (r || s hex) of the same head text, by Heads.sm2_public_key.
    sm2_signature: str | None = None


@dataclass(frozen=True)
class ChainHead:
    tree_size: int
    root: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Heads:
    log_key: str
    anchor_contract: str | None
    tree_size: int
    heads: list[HeadView]
    anchored: list[ChainHead]  # as the chain tells it, over the same range of sizes
    next: int | None  # pass as ``before_size`` for older heads
    # The log's SM2 public key (04 || x || y hex) when heads carry SM2 signatures (sm suite).
    sm2_public_key: str | None = None


async def chain_heads(chain: ChainContext) -> tuple[AuditAnchorClient | None, list[ChainHead]]:
    client = chain.audit
    if client is None:
        return None, []
    try:
        found = await chain.call(client.heads)
    except ChainError as exc:
        raise ChainStateError(f"the chain's anchored heads could not be read: {exc}") from exc
    return client, [ChainHead(h.tree_size, encode_hex(h.root), h.block_number, encode_hex(h.tx_hash)) for h in found]


async def heads(
    chain: ChainContext,
    session: AsyncSession,
    *,
    log_key: str,
    before_size: int | None = None,
    limit: int = 100,
    sm2_public_key: str | None = None,
) -> Heads:
    """Signed heads, newest first, next to what the chain holds for the same sizes."""
    check_page(None, limit)
    query = select(AuditHead).order_by(AuditHead.tree_size.desc()).limit(limit + 1)
    if before_size is not None:
        query = query.where(AuditHead.tree_size < before_size)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    size = await audit_log.tree_size(session)
    client, on_chain = await chain_heads(chain)
    held = {(h.tree_size, h.root) for h in on_chain}
    views = [
        HeadView(
            int(r.tree_size),
            encode_hex(bytes(r.root)),
            int(r.signed_at),
            r.signature,
            r.status,
            r.tx_hash,
            r.block_number,
            (int(r.tree_size), encode_hex(bytes(r.root))) in held,
            r.sm2_signature,
        )
        for r in rows
    ]
    # The chain's heads over the same sizes, so that one the database lacks shows up too.
    low = int(rows[-1].tree_size) if more else 0
    anchored = [h for h in on_chain if h.tree_size >= low and (before_size is None or h.tree_size < before_size)]
    return Heads(
        log_key,
        client.address if client else None,
        size,
        views,
        anchored,
        int(rows[-1].tree_size) if more else None,
        sm2_public_key,
    )


async def _checked_size(session: AsyncSession, size: int, name: str) -> int:
    current = await audit_log.tree_size(session)
    if not 0 <= size <= current:
        raise VaultValueError(f"{name} must be 0-{current}, the number of entries in the log", field=name)
    return size


def hex_list(values: Sequence[bytes]) -> list[str]:
    return [encode_hex(v) for v in values]


async def signed_head(session: AsyncSession, size: int) -> AuditHead | None:
    return await session.get(AuditHead, size)


async def inclusion(session: AsyncSession, seq: int, size: int) -> dict[str, Any]:
    """Entry ``seq``'s audit path in the tree of the first ``size`` entries, with that root."""
    await _checked_size(session, size, "size")
    if not 0 <= seq < size:
        raise VaultValueError(f"seq must be 0-{size - 1} for a tree of {size} entries", field="seq")
    row = await session.get(AuditEntry, seq)
    assert row is not None  # seq < size <= tree size: sequenced entries are contiguous
    path = await audit_log.inclusion(session, seq, size)
    root = await audit_log.root_of(session, size)
    head = await signed_head(session, size)
    return {
        "seq": seq,
        "tree_size": size,
        "leaf_hash": encode_hex(bytes(row.leaf_hash)),
        "root": encode_hex(root),
        "proof": hex_list(path),
        "entry": json.loads(row.entry),
        "head": _head_dict(head),
    }


async def consistency(session: AsyncSession, first: int, second: int) -> dict[str, Any]:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""
    await _checked_size(session, second, "second")
    if not 0 <= first <= second:
        raise VaultValueError(f"first must be 0-{second} (at most second)", field="first")
    proof = await audit_log.consistency(session, first, second)
    roots = [await audit_log.root_of(session, n) for n in (first, second)]
    return {
        "first": first,
        "second": second,
        "first_root": encode_hex(roots[0]),
        "second_root": encode_hex(roots[1]),
        "proof": hex_list(proof),
        "first_head": _head_dict(await signed_head(session, first)),
        "second_head": _head_dict(await signed_head(session, second)),
    }


def _head_dict(head: AuditHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return {
        "tree_size": int(head.tree_size),
        "root": encode_hex(bytes(head.root)),
        "signed_at": int(head.signed_at),
        "signature": head.signature,
        "sm2_signature": head.sm2_signature,
        "status": head.status,
        "tx_hash": head.tx_hash,
        "block_number": head.block_number,
    }
