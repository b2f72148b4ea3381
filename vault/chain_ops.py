"""What each outbox kind does on chain, how to tell it is already done, and what follows.

``applied`` makes every operation idempotent: after a crash between sending a transaction
and recording it, the submitter sees the effect on chain and records it instead of resending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.registry import TxResult
from vault.context import ChainContext
from vault.db.models import AnchorBatch, Record
from vault.departments import code_bytes

Payload = dict[str, Any]


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


@dataclass(frozen=True)
class Op:
    applied: Callable[[ChainContext, Payload], bool]
    send: Callable[[ChainContext, LocalAccount, Payload], TxResult | None]
    done: Callable[[AsyncSession, Payload, TxResult | None], Awaitable[None]] | None = None
    failed: Callable[[AsyncSession, Payload, str], Awaitable[None]] | None = None


def _dept(chain: ChainContext, account: str) -> Any:
    return chain.client.department(account)


def _dept_has(chain: ChainContext, account: str, check: Callable[[Any], bool]) -> bool:
    info = _dept(chain, account)
    return info is not None and check(info)


def _fund_send(chain: ChainContext, _sender: LocalAccount, p: Payload) -> None:
    chain.engine.fund(p["address"], int(p["wei"]))


async def _issue_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    batch.status = "anchored"
    if result is not None:
        batch.tx_hash = "0x" + result.tx_hash.hex()
        batch.block_number = result.block_number
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"], Record.status == "pending")):
        row.status = "anchored"


async def _issue_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    batch = await session.get(AnchorBatch, p["root"])
    assert batch is not None
    batch.status = "failed"
    for row in await session.scalars(select(Record).where(Record.batch_root == p["root"])):
        row.status = "failed"
        row.status_reason = f"the chain refused the anchor: {reason}"


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


def _leaf_revoked(chain: ChainContext, p: Payload) -> bool:
    status = chain.client.credential_status(_b(p["leaf"]), [_b(x) for x in p["proof"]])
    return bool(status.revoked)


OPS: dict[str, Op] = {
    "fund": Op(
        applied=lambda c, p: c.engine.w3.eth.get_balance(p["address"]) >= int(p["wei"]) // 2,
        send=_fund_send,
    ),
    "add_department": Op(
        applied=lambda c, p: _dept(c, p["account"]) is not None,
        send=lambda c, a, p: c.client.add_department(a, p["account"], code_bytes(p["code"]), int(p["roles"])),
    ),
    "set_roles": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: d.roles == int(p["roles"])),
        send=lambda c, a, p: c.client.set_roles(a, p["account"], int(p["roles"])),
    ),
    "deactivate_department": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: not d.active),
        send=lambda c, a, p: c.client.deactivate_department(a, p["account"]),
    ),
    "reactivate_department": Op(
        applied=lambda c, p: _dept_has(c, p["account"], lambda d: d.active),
        send=lambda c, a, p: c.client.reactivate_department(a, p["account"]),
    ),
    "issue": Op(
        applied=lambda c, p: c.client.root_status(_b(p["root"])).anchored,
        send=lambda c, a, p: c.client.issue(a, _b(p["root"]), int(p["valid_from"]), int(p["valid_until"])),
        done=_issue_done,
        failed=_issue_failed,
    ),
    "revoke": Op(
        applied=lambda c, p: c.client.root_status(_b(p["root"])).revoked,
        send=lambda c, a, p: c.client.revoke(a, _b(p["root"])),
        done=_revoke_done,
        failed=_revoke_failed,
    ),
    "revoke_leaf": Op(
        applied=_leaf_revoked,
        send=lambda c, a, p: c.client.revoke_leaf(a, _b(p["root"]), _b(p["leaf"]), [_b(x) for x in p["proof"]]),
        done=_revoke_done,
        failed=_revoke_failed,
    ),
}
