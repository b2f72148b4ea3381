"""Outbox operations of the consent registry: subject keys, grants and their revocations.

Grants and revocations are relayed by the operator (subjects need no ether); a subject key
is bound by the registrar department that registered the subject, as the contract demands.
A revocation is never undone in the database when its transaction fails or is lost: the
vault stopped honouring the grant when it received the signed revocation (deny wins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from web3 import Web3

from chain import transactions
from chain.consent import (
    ConsentClient,
    DelegationStatus,
    DelegationTerms,
    GrantTerms,
    compact_signature,
)
from chain.transactions import TxResult
from vault.consent.delegations import terms_from_message as delegation_terms
from vault.consent.purposes import purpose_hash
from vault.consent.terms import terms_from_message, terms_of
from vault.context import ChainContext
from vault.db.grants import DelegationRow, GrantRow
from vault.errors import ChainStateError
from vault.outbox import Op, Payload, TxRequest, contract_call


def _consent(c: ChainContext) -> ConsentClient:
    if c.consent is None:
        raise ChainStateError("this vault has no consent registry deployed")
    return c.consent


def _call(c: ChainContext, fn: str, *args: Any) -> TxRequest:
    return contract_call(_consent(c), fn, *args)


# Where ``_grant_load`` puts the row's terms, in the in-memory payload ``_grant_build`` gets.
_ROW_TERMS = "row_terms"


async def _grant_load(session: AsyncSession, p: Payload) -> Payload:
    if "terms" in p:  # queued by an older vault: the payload holds the signed message itself
        return p
    # The purpose is sealed in the row; the payload holds its hash, all the contract sees.
    return {**p, _ROW_TERMS: terms_of(await _grant(session, p), purpose="")}


def _grant_build(c: ChainContext, p: Payload) -> TxRequest:
    r, vs = compact_signature(p["signature"])
    if "terms" in p:
        # An older payload: the purpose's hash (or, older still, its words) in its terms.
        terms = terms_from_message({"purpose": "", **p["terms"]})
        return _call(c, "grant", terms.contract_args(purpose_hash(p["terms"])), r, vs)
    row_terms: GrantTerms = p[_ROW_TERMS]
    return _call(c, "grant", row_terms.contract_args(purpose_hash(p)), r, vs)


async def _grant(session: AsyncSession, p: Payload) -> GrantRow:
    row = await session.get(GrantRow, p["grant_id"])
    assert row is not None
    return row


async def _grant_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    row = await _grant(session, p)
    if row.status == "pending":  # a grant revoked before it was mined stays revoked
        row.status = "active"
    row.tx_hash = encode_hex(result.tx_hash) if result is not None else None
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
    for log in client.contract.events.GrantCreated().get_logs(
        argument_filters={"grantId": decode_hex(p["grant_id"])}, from_block=0
    ):
        found = transactions.receipt_for(c.engine.w3, bytes(log["transactionHash"]), client.abi)
        if found is not None:
            return found
    return None


def _revoke_build(c: ChainContext, p: Payload) -> TxRequest:
    r, vs = compact_signature(p["signature"])
    return _call(c, "revokeGrant", decode_hex(p["subject"]), int(p["nonce"]), r, vs)


async def _revoke_done(session: AsyncSession, p: Payload, result: TxResult | None) -> None:
    (await _grant(session, p)).revoke_tx_hash = encode_hex(result.tx_hash) if result is not None else None


async def _revoke_failed(session: AsyncSession, p: Payload, reason: str) -> None:
    # Still revoked here; the chain simply does not show it (e.g. the grant itself failed).
    row = await _grant(session, p)
    row.status_reason = f"the chain refused the revocation: {reason}"


async def _revoke_lost(session: AsyncSession, p: Payload) -> None:
    (await _grant(session, p)).revoke_tx_hash = None


async def _delegate_load(session: AsyncSession, p: Payload) -> Payload:
    if "terms" in p:  # queued by an older vault: the payload holds the signed message itself
        return p
    row = await session.get(DelegationRow, p["delegation_id"])
    assert row is not None
    terms = DelegationTerms(
        subject=decode_hex(p["subject"]),
        agent=row.agent_address,
        record_types=row.record_types,
        not_before=row.not_before,
        expires_at=row.expires_at,
        nonce=row.nonce,
    )
    return {**p, _ROW_TERMS: terms}


def _delegate_build(c: ChainContext, p: Payload) -> TxRequest:
    terms: DelegationTerms = p[_ROW_TERMS] if _ROW_TERMS in p else delegation_terms(p["terms"])
    r, vs = compact_signature(p["signature"])
    return _call(c, "delegate", terms.contract_args(), r, vs)


def _agent_key(p: Payload) -> tuple[str, str, int]:
    """(subject, agent, nonce) of a ``delegate`` payload, older (``terms``) or newer."""
    named = p.get("terms", p)
    return named["subject"], named["agent"], int(named["nonce"])


def _delegation_on_chain(c: ChainContext, subject: str, agent: str) -> DelegationStatus:
    return _consent(c).delegation(decode_hex(subject), Web3.to_checksum_address(agent))


async def _delegation_row(
    session: AsyncSession, subject: str, agent: str, *, nonce: int | None
) -> DelegationRow | None:
    query = select(DelegationRow).where(
        DelegationRow.subject_id == subject,
        DelegationRow.agent_address == Web3.to_checksum_address(agent),
    )
    query = (
        query.where(DelegationRow.nonce == nonce)
        if nonce is not None
        else query.where(DelegationRow.kind == "guardian")
    )
    return await session.scalar(query.order_by(DelegationRow.id.desc()))


def _delegation_status(kind: str, to: str) -> Callable[..., Awaitable[None]]:
    """A handler moving the payload's delegation from one status to another, if it is there."""

    async def handler(session: AsyncSession, p: Payload, *_: Any) -> None:
        if kind == "agent":
            subject, agent, nonce = _agent_key(p)
            row = await _delegation_row(session, subject, agent, nonce=nonce)
        else:
            row = await _delegation_row(session, p["subject"], p["guardian"], nonce=None)
        moves = {"active": ("pending",), "failed": ("pending", "active"), "pending": ("active",)}
        if row is not None and row.status in moves[to]:
            row.status = to

    return handler


def _delegated(c: ChainContext, p: Payload) -> bool:
    subject, agent, nonce = _agent_key(p)
    d = _delegation_on_chain(c, subject, agent)
    return d.exists and d.nonce == nonce


def _delegation_revoked(c: ChainContext, p: Payload) -> bool:
    d = _delegation_on_chain(c, p["subject"], p["agent"])
    return d.revoked_at != 0 or d.nonce != int(p["nonce"])  # withdrawn, or replaced since


def _guardian_set(c: ChainContext, p: Payload) -> bool:
    d = _delegation_on_chain(c, p["subject"], p["guardian"])
    return d.guardian and d.revoked_at == 0 and d.expires_at == int(p["expires_at"])


def _guardian_removed(c: ChainContext, p: Payload) -> bool:
    d = _delegation_on_chain(c, p["subject"], p["guardian"])
    return not d.guardian or d.revoked_at != 0


def _bound_to(c: ChainContext, p: Payload) -> bool:
    return _consent(c).subject_key(decode_hex(p["subject"])).key == Web3.to_checksum_address(p["key"])


OPS: dict[str, Op] = {
    "bind_subject": Op(
        applied=lambda c, p: _consent(c).subject_key(decode_hex(p["subject"])).key is not None,
        build=lambda c, p: _call(c, "bindSubject", decode_hex(p["subject"]), Web3.to_checksum_address(p["key"])),
    ),
    "rotate_subject_key": Op(
        applied=_bound_to,
        build=lambda c, p: _call(c, "rotateSubjectKey", decode_hex(p["subject"]), Web3.to_checksum_address(p["key"])),
    ),
    "grant": Op(
        applied=lambda c, p: _consent(c).grant_status(decode_hex(p["grant_id"])).exists,
        build=_grant_build,
        done=_grant_done,
        failed=_grant_failed,
        lost=_grant_lost,
        locate=_grant_locate,
        load=_grant_load,
    ),
    "delegate": Op(
        applied=_delegated,
        build=_delegate_build,
        load=_delegate_load,
        done=_delegation_status("agent", "active"),
        failed=_delegation_status("agent", "failed"),
        lost=_delegation_status("agent", "pending"),
    ),
    "revoke_delegation": Op(
        applied=_delegation_revoked,
        build=lambda c, p: _call(
            c,
            "revokeDelegation",
            decode_hex(p["subject"]),
            Web3.to_checksum_address(p["agent"]),
            int(p["nonce"]),
            *compact_signature(p["signature"]),
        ),
    ),
    "set_guardian": Op(
        applied=_guardian_set,
        build=lambda c, p: _call(
            c,
            "setGuardian",
            decode_hex(p["subject"]),
            Web3.to_checksum_address(p["guardian"]),
            int(p["not_before"]),
            int(p["expires_at"]),
        ),
        done=_delegation_status("guardian", "active"),
        failed=_delegation_status("guardian", "failed"),
        lost=_delegation_status("guardian", "pending"),
    ),
    "remove_guardian": Op(
        applied=_guardian_removed,
        build=lambda c, p: _call(
            c, "removeGuardian", decode_hex(p["subject"]), Web3.to_checksum_address(p["guardian"])
        ),
    ),
    "revoke_grant": Op(
        applied=lambda c, p: _consent(c).grant_status(decode_hex(p["grant_id"])).revoked,
        build=_revoke_build,
        done=_revoke_done,
        failed=_revoke_failed,
        lost=_revoke_lost,
    ),
}
