"""What each outbox kind does on chain, how to tell it is already done, and what follows.

An operation only *describes* its transaction (``build``); the submitter signs, records,
broadcasts and waits, so that the signed bytes are in the database before they leave the
process (see ``vault.submitter``). ``applied`` reads the chain to tell whether the effect is
already there; it guards entries with no recorded transaction, and decides what to do when a
recorded transaction was dropped or replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from web3 import Web3

from chain import transactions
from chain.registry import TxResult
from vault.audit_ops import AUDIT_OPS
from vault.consent_ops import CONSENT_OPS
from vault.context import ChainContext
from vault.db.models import AnchorBatch, Record
from vault.departments import code_bytes
from vault.operation import Op, Payload, TxRequest, contract_call

__all__ = ["OPS", "Op", "Payload", "TxRequest"]

def _call(c: ChainContext, fn: str, *args: Any) -> TxRequest:
    return contract_call(c.client, fn, *args)


def _addr(value: str) -> ChecksumAddress:
    return Web3.to_checksum_address(value)


def _dept(chain: ChainContext, account: str) -> Any:
    return chain.client.department(account)


def _dept_has(chain: ChainContext, account: str, check: Callable[[Any], bool]) -> bool:
    info = _dept(chain, account)
    return info is not None and check(info)


def _fund_build(c: ChainContext, p: Payload) -> TxRequest | None:
    if c.zero_gas:
        return None
    return TxRequest(to=_addr(p["address"]), value=int(p["wei"]), context=f"funding {p['address']}")


async def _issue_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    batch.status = "anchored"
    batch.tx_hash = encode_hex(result.tx_hash) if result is not None else None
    batch.block_number = result.block_number if result is not None else None
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"], Record.status == "pending")):
        row.status = "anchored"


async def _issue_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    batch.status = "failed"
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"])):
        row.status = "failed"
        row.status_reason = f"the chain refused the anchor: {reason}"


async def _issue_lost(session: AsyncSession, p: Payload) -> None:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    batch.status, batch.tx_hash, batch.block_number = "pending", None, None
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"], Record.status == "anchored")):
        row.status = "pending"


def _issue_locate(c: ChainContext, p: Payload) -> TxResult | None:
    logs = c.client.contract.events.CredentialIssued().get_logs(
        argument_filters={"root": decode_hex(p["root"])}, from_block=0,
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
    status = chain.client.credential_status(decode_hex(p["leaf"]), [decode_hex(x) for x in p["proof"]])
    return bool(status.revoked)


def _proof(values: Sequence[str]) -> list[bytes]:
    return [decode_hex(x) for x in values]


OPS: dict[str, Op] = {
    "fund": Op(
        applied=lambda c, p: c.engine.w3.eth.get_balance(_addr(p["address"])) >= int(p["wei"]) // 2,
        build=_fund_build,
    ),
    "add_department": Op(
        applied=lambda c, p: _dept(c, p["account"]) is not None,
        build=lambda c, p: _call(c, "addDepartment", _addr(p["account"]), code_bytes(p["code"]), int(p["roles"])),
    ),
    "set_roles": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: d.roles == int(p["roles"])),
        build=lambda c, p: _call(c, "setRoles", _addr(p["account"]), int(p["roles"])),
    ),
    "deactivate_department": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: not d.active),
        build=lambda c, p: _call(c, "deactivateDepartment", _addr(p["account"])),
    ),
    "reactivate_department": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: d.active),
        build=lambda c, p: _call(c, "reactivateDepartment", _addr(p["account"])),
    ),
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
        build=lambda c, p: _call(c, "revokeLeaf", decode_hex(p["root"]), decode_hex(p["leaf"]), _proof(p["proof"])),
        done=_revoke_done,
        failed=_revoke_failed,
        lost=_revoke_lost,
    ),
    **CONSENT_OPS,
    **AUDIT_OPS,
}
