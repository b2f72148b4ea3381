"""Outbox operations of the credential registry: anchoring a batch root, revoking a root or
one credential of it; and, after a restart, anchoring again the roots the chain lost.

``revoke_leaf`` revokes one credential of a batch by its hash (``revokeCredential``, the same
gas at any batch size). Its payload still carries the batch root and the credential's proof:
``applied`` reads the credential's status through them (the root names the issuer whose
revocations count), and a registry deployed by an older version takes them in ``revokeLeaf``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain import transactions
from chain.registry import TxResult
from vault import outbox
from vault.context import ChainContext
from vault.db.models import AnchorBatch, Department, OutboxEntry, Record
from vault.outbox import Op, Payload, TxRequest, contract_call, requeue


def _call(c: ChainContext, fn: str, *args: Any) -> TxRequest:
    return contract_call(c.client, fn, *args)


async def _batch(session: AsyncSession, p: Payload) -> AnchorBatch:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    return batch


async def _issue_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    batch = await _batch(session, p)
    batch.status = "anchored"
    batch.tx_hash = encode_hex(result.tx_hash) if result is not None else None
    batch.block_number = result.block_number if result is not None else None
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"], Record.status == "pending")):
        row.status = "anchored"


async def _issue_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    (await _batch(session, p)).status = "failed"
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"])):
        row.status = "failed"
        row.status_reason = f"the chain refused the anchor: {reason}"


async def _issue_lost(session: AsyncSession, p: Payload) -> None:
    batch = await _batch(session, p)
    batch.status, batch.tx_hash, batch.block_number = "pending", None, None
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"], Record.status == "anchored")):
        row.status = "pending"


def _issue_locate(c: ChainContext, p: Payload) -> TxResult | None:
    logs = c.client.contract.events.CredentialIssued().get_logs(
        argument_filters={"root": decode_hex(p["root"])},
        from_block=0,
    )
    for log in logs:
        found = transactions.receipt_for(c.engine.w3, bytes(log["transactionHash"]), c.client.abi)
        if found is not None:
            return found
    return None


async def _record(session: AsyncSession, p: Payload) -> Record:
    row = await session.get(Record, (p["record"], p["version"]))
    assert row is not None
    return row


async def _revoke_done(session: AsyncSession, p: Payload, _result: TxResult | None) -> None:
    (await _record(session, p)).status = "revoked"


async def _revoke_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    row = await _record(session, p)
    row.status = "anchored"
    row.status_reason = f"revocation refused by the chain: {reason}"


async def _revoke_lost(session: AsyncSession, p: Payload) -> None:
    row = await _record(session, p)
    if row.status == "revoked":
        row.status = "revoking"


def _leaf_revoked(chain: ChainContext, p: Payload) -> bool:
    status = chain.client.credential_status(decode_hex(p["leaf"]), _proof(p["proof"]))
    return bool(status.revoked)


def _revoke_leaf(c: ChainContext, p: Payload) -> TxRequest:
    leaf, root = decode_hex(p["leaf"]), decode_hex(p["root"])
    data = c.client.revoke_credential_calldata(leaf, root, _proof(p["proof"]))
    fn = "revokeCredential" if c.client.revokes_by_hash() else "revokeLeaf"
    return TxRequest(to=c.client.address, data=data, context=fn)


def _proof(values: Sequence[str]) -> list[bytes]:
    return [decode_hex(x) for x in values]


OPS: dict[str, Op] = {
    "issue": Op(
        applied=lambda c, p: c.client.root_status(decode_hex(p["root"])).anchored,
        build=lambda c, p: _call(c, "issue", decode_hex(p["root"]), int(p["valid_from"]), int(p["valid_until"])),
        done=_issue_done,
        failed=_issue_failed,
        lost=_issue_lost,
        locate=_issue_locate,
    ),
    "revoke": Op(
        applied=lambda c, p: c.client.root_status(decode_hex(p["root"])).revoked,
        build=lambda c, p: _call(c, "revoke", decode_hex(p["root"])),
        done=_revoke_done,
        failed=_revoke_failed,
        lost=_revoke_lost,
    ),
    "revoke_leaf": Op(
        applied=_leaf_revoked,
        build=_revoke_leaf,
        done=_revoke_done,
        failed=_revoke_failed,
        lost=_revoke_lost,
    ),
}


async def reanchor_lost(chain: ChainContext, session: AsyncSession, now: int) -> int:
    """Queues again the anchor of every batch the vault holds as anchored but the chain does not
    (no transaction on record, another chain history). Returns how many."""
    requeued = 0
    for batch in list(await session.scalars(select(AnchorBatch).where(AnchorBatch.status == "anchored"))):
        status = await chain.call(chain.client.root_status, decode_hex(batch.root))
        if status.anchored:
            continue
        reason = f"the chain does not hold root {batch.root}"
        issue = await _issue_entry(session, batch.root)
        if issue is not None:
            await requeue(session, issue, OPS["issue"], reason, now)
        else:
            payload = {"root": batch.root, "valid_from": batch.valid_from, "valid_until": batch.valid_until}
            await _issue_lost(session, payload)
            issuer = await session.get(Department, batch.issuer_code)
            assert issuer is not None
            outbox.enqueue(session, "issue", issuer.chain_key_name, payload, now).last_error = reason
        requeued += 1
    return requeued


async def _issue_entry(session: AsyncSession, root: str) -> OutboxEntry | None:
    """The outbox entry that anchored ``root``."""
    return await outbox.done_entry(session, "issue", root=root)
