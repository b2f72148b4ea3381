"""Outbox operation anchoring a signed tree head of the access log on chain."""

from __future__ import annotations

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from chain import transactions
from chain.audit_anchor import AuditAnchorClient
from chain.transactions import TxResult
from vault.context import ChainContext
from vault.db.audit import AuditHead
from vault.errors import ChainStateError
from vault.outbox import Op, Payload, TxRequest


def _client(c: ChainContext) -> AuditAnchorClient:
    if c.audit is None:
        raise ChainStateError("this vault has no audit anchor deployed")
    return c.audit


def _build(c: ChainContext, p: Payload) -> TxRequest:
    client = _client(c)
    data = client.encode_anchor(int(p["tree_size"]), decode_hex(p["root"]))
    return TxRequest(to=client.address, data=data, context="anchor")


def _locate(c: ChainContext, p: Payload) -> TxResult | None:
    client = _client(c)
    for head in client.heads():
        if head.tree_size == int(p["tree_size"]):
            return transactions.receipt_for(c.engine.w3, head.tx_hash, client.abi)
    return None


async def _head(session: AsyncSession, p: Payload) -> AuditHead:
    head = await session.get(AuditHead, int(p["tree_size"]))
    assert head is not None
    return head


async def _done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    head = await _head(session, p)
    if result is None:
        # A later head was anchored first: this one is covered by it (consistency proofs
        # link the two), but it is not on chain itself.
        head.status = "superseded"
        return
    head.status, head.tx_hash, head.block_number = "anchored", encode_hex(result.tx_hash), result.block_number


async def _failed(session: AsyncSession, p: Payload, _reason: str) -> None:
    (await _head(session, p)).status = "failed"


async def _lost(session: AsyncSession, p: Payload) -> None:
    head = await _head(session, p)
    head.status, head.tx_hash, head.block_number = "pending", None, None


def _applied(c: ChainContext, p: Payload) -> bool:
    return _client(c).latest().tree_size >= int(p["tree_size"])


OPS: dict[str, Op] = {
    "anchor_head": Op(applied=_applied, build=_build, done=_done, failed=_failed, lost=_lost, locate=_locate),
}
