"""Outbox operations of the consent registry: subject keys, grants and their revocations.

Grants and revocations are relayed by the operator (subjects need no ether); a subject key
is bound by the registrar department that registered the subject, as the contract demands.
A revocation is never undone in the database when its transaction fails or is lost: the
vault stopped honouring the grant when it received the signed revocation (deny wins).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from web3 import Web3

from chain import transactions
from chain.consent import ConsentClient, compact_signature
from chain.transactions import TxResult
from vault.context import ChainContext
from vault.db.grants import GrantRow
from vault.grants import terms_from_message
from vault.operation import Op, Payload, TxRequest


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _consent(c: ChainContext) -> ConsentClient:
    if c.consent is None:
        raise RuntimeError("no consent registry in this vault's chain context")
    return c.consent


def _call(c: ChainContext, fn: str, *args: Any) -> TxRequest:
    client = _consent(c)
    data = bytes.fromhex(client.contract.encode_abi(fn, args=list(args))[2:])
    return TxRequest(to=client.address, data=data, context=fn)


def _grant_build(c: ChainContext, p: Payload) -> TxRequest:
    terms = terms_from_message(p["terms"])
    r, vs = compact_signature(p["signature"])
    return _call(c, "grant", terms.contract_args(), r, vs)


async def _grant(session: AsyncSession, p: Payload) -> GrantRow:
    row = await session.get(GrantRow, p["grant_id"])
    assert row is not None
    return row


async def _grant_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    row = await _grant(session, p)
    if row.status == "pending":  # a grant revoked before it was mined stays revoked
        row.status = "active"
    row.tx_hash = "0x" + result.tx_hash.hex() if result is not None else None
    row.block_number = result.block_number if result is not None else None


async def _grant_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    row = await _grant(session, p)
    if row.status != "revoked":
        row.status = "failed"
    row.status_reason = f"the chain refused the grant: {reason}"


async def _grant_lost(session: AsyncSession, p: Payload) -> None:
    row = await _grant(session, p)
    if row.status == "active":
        row.status = "pending"
    row.tx_hash, row.block_number = None, None


def _grant_locate(c: ChainContext, p: Payload) -> TxResult | None:
    client = _consent(c)
    for log in client.contract.events.GrantCreated().get_logs(argument_filters={"grantId": _b(p["grant_id"])}, from_block=0):
        found = transactions.receipt_for(c.engine.w3, bytes(log["transactionHash"]), client.abi)
        if found is not None:
            return found
    return None


def _revoke_build(c: ChainContext, p: Payload) -> TxRequest:
    r, vs = compact_signature(p["signature"])
    return _call(c, "revokeGrant", _b(p["subject"]), int(p["nonce"]), r, vs)


async def _revoke_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    (await _grant(session, p)).revoke_tx_hash = "0x" + result.tx_hash.hex() if result is not None else None


async def _revoke_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    # Still revoked here; the chain simply does not show it (e.g. the grant itself failed).
    row = await _grant(session, p)
    row.status_reason = f"the chain refused the revocation: {reason}"


async def _revoke_lost(session: AsyncSession, p: Payload) -> None:
    (await _grant(session, p)).revoke_tx_hash = None


def _bound_to(c: ChainContext, p: Payload) -> bool:
    return _consent(c).subject_key(_b(p["subject"])).key == Web3.to_checksum_address(p["key"])


CONSENT_OPS: dict[str, Op] = {
    "bind_subject": Op(
        applied=lambda c, p: _consent(c).subject_key(_b(p["subject"])).key is not None,
        build=lambda c, p: _call(c, "bindSubject", _b(p["subject"]), Web3.to_checksum_address(p["key"])),
    ),
    "rotate_subject_key": Op(
        applied=_bound_to,
        build=lambda c, p: _call(c, "rotateSubjectKey", _b(p["subject"]), Web3.to_checksum_address(p["key"])),
    ),
    "grant": Op(
        applied=lambda c, p: _consent(c).grant_status(_b(p["grant_id"])).exists,
        build=_grant_build,
        done=_grant_done,
        failed=_grant_failed,
        lost=_grant_lost,
        locate=_grant_locate,
    ),
    "revoke_grant": Op(
        applied=lambda c, p: _consent(c).grant_status(_b(p["grant_id"])).revoked,
        build=_revoke_build,
        done=_revoke_done,
        failed=_revoke_failed,
        lost=_revoke_lost,
    ),
}
