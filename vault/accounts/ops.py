"""Outbox operations of the registry's department roster: funding an account, adding a
department, changing its roles, deactivating and reactivating it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3

from vault.accounts.departments import code_bytes
from vault.context import ChainContext
from vault.outbox import Op, Payload, TxRequest, contract_call


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
}
