"""Delegations: agents (经办人) an enterprise's legal representative appoints, and guardians a
registrar appoints for a minor or an elderly person. Mirrors the consent registry's rules.

An agent's appointment is signed by the subject's own key (EIP-712 ``Delegation``) and can be
withdrawn by the subject at any time; a guardian is appointed and removed by a registrar
department (the identity authority), which sends the transaction itself.
"""

from __future__ import annotations

import secrets
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import (
    ALL_RECORD_TYPES,
    UINT32_MAX,
    UINT64_MAX,
    DelegationTerms,
    delegation_revocation_typed_data,
    delegation_typed_data,
    record_type_bits,
    record_type_names,
)
from keys import Sealed, SignatureError, open_sealed, recover_typed_data, seal
from vault import keyring, outbox, pages
from vault.accounts.agents import LIVE, active_for
from vault.accounts.subjects import (
    check_address,
    check_answerable,
    refuse_platform_key,
    refuse_subject_key,
)
from vault.consent.terms import refuse_erased
from vault.consent.typed_data import (
    MAX_SAFE_NONCE,
    consent_client,
    domain,
    json_int,
    typed_data_json,
)
from vault.context import OPERATOR, VaultContext
from vault.db.grants import DelegationRow
from vault.db.models import Department, Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent


def _window(not_before: int, expires_at: int, now: int) -> None:
    if not 0 <= not_before < expires_at <= UINT32_MAX:
        raise VaultValueError("expires_at must be later than not_before (and before 2106)", field="expires_at")
    if expires_at <= now:
        raise VaultValueError("this delegation would already have expired", field="expires_at")


async def _subject(session: AsyncSession, subject_id: str) -> Subject:
    row = await session.get(Subject, subject_id)
    if row is None:
        raise NotFoundError("subject", subject_id)
    return row


def _types(names: list[str] | tuple[str, ...]) -> int:
    try:
        bits = record_type_bits(names)
    except ValueError as exc:
        raise VaultValueError(str(exc), field="record_types") from None
    if not bits:
        raise VaultValueError("a delegation needs at least one record type", field="record_types")
    return bits


def event(row: DelegationRow, action: str, now: int, *, actor_role: str, actor: str) -> VaultEvent:
    return VaultEvent(
        action=action,
        outcome="ok",
        at=now,
        actor_role=actor_role,
        actor=actor,
        subject_id=row.subject_id,
        record_types=tuple(record_type_names(row.record_types)),
        reason=f"{row.kind} {row.agent_address}",
    )


async def prepare(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    agent: str,
    record_types: list[str],
    not_before: int,
    expires_at: int,
    now: int,
) -> dict[str, Any]:
    subject = await _subject(session, subject_id)
    refuse_erased(subject)
    address = check_address(agent, "agent")
    if address == subject.auth_address:
        raise VaultValueError("a subject cannot appoint its own key as its agent", field="agent")
    await refuse_platform_key(ctx, session, address, "agent")
    await refuse_subject_key(session, address, "agent")
    _window(not_before, expires_at, now)
    terms = DelegationTerms(
        decode_hex(subject_id),
        address,
        _types(record_types),
        not_before,
        expires_at,
        1 + secrets.randbelow(MAX_SAFE_NONCE),
    )
    return typed_data_json(delegation_typed_data(domain(ctx), terms))


def terms_from_message(message: Any) -> DelegationTerms:
    if not isinstance(message, dict):
        raise VaultValueError("message must be the delegation's typed-data message object", field="message")
    try:
        subject = decode_hex(str(message["subject"]))
        agent = check_address(message["agent"], "agent")
        parsed = [json_int(message[k]) for k in ("recordTypes", "notBefore", "expiresAt", "nonce")]
    except (KeyError, ValueError):
        raise VaultValueError("message lacks a delegation field or has a malformed one", field="message") from None
    if len(subject) != 32 or not all(v is not None and v >= 0 for v in parsed):
        raise VaultValueError("message subject or numbers are malformed", field="message")
    ints = [int(v or 0) for v in parsed]
    if not 0 < ints[3] <= UINT64_MAX or not 0 < ints[0] <= ALL_RECORD_TYPES:
        raise VaultValueError("message nonce or record types are out of range", field="message")
    return DelegationTerms(subject, agent, ints[0], ints[1], ints[2], ints[3])


async def submit(
    ctx: VaultContext, session: AsyncSession, *, subject_id: str, message: Any, signature: str, now: int
) -> DelegationRow:
    terms = terms_from_message(message)
    if encode_hex(terms.subject) != subject_id:
        raise PermissionDeniedError("this delegation is for another subject")
    subject = await _subject(session, subject_id)
    refuse_erased(subject)
    _window(terms.not_before, terms.expires_at, now)
    try:
        signer = recover_typed_data(delegation_typed_data(domain(ctx), terms), signature)
    except SignatureError:
        raise VaultValueError("the signature is malformed", field="signature") from None
    if signer != subject.auth_address:
        raise PermissionDeniedError("only the subject's own key (the legal representative's) appoints agents")
    if terms.agent == subject.auth_address:
        raise VaultValueError("a subject cannot appoint its own key as its agent", field="agent")
    await refuse_platform_key(ctx, session, terms.agent, "agent")
    await refuse_subject_key(session, terms.agent, "agent")
    used = await session.scalar(
        select(DelegationRow).where(DelegationRow.subject_id == subject_id, DelegationRow.nonce == terms.nonce)
    )
    if used is not None:
        raise ConflictError("this delegation's nonce was already used; prepare a new one")
    await _end_live(session, subject_id, terms.agent, now)
    row = DelegationRow(
        subject_id=subject_id,
        agent_address=terms.agent,
        kind="agent",
        record_types=terms.record_types,
        not_before=terms.not_before,
        expires_at=terms.expires_at,
        nonce=terms.nonce,
        signature=signature,
        appointed_by=signer,
        status="pending",
        created_at=now,
    )
    session.add(row)
    await session.flush()
    # The payload names the delegation (its id, and its key on chain for ``applied``) and
    # carries the signature; the terms are the row's, read when the call is built.
    payload = {
        "delegation_id": row.id,
        "subject": encode_hex(terms.subject),
        "agent": terms.agent,
        "nonce": terms.nonce,
        "signature": signature,
    }
    outbox.enqueue(session, "delegate", OPERATOR, payload, now)
    await ctx.events.emit(session, event(row, "delegation.set", now, actor_role="subject", actor=signer))
    return row


async def _end_live(session: AsyncSession, subject_id: str, agent: str, now: int) -> None:
    # A new appointment of the same agent replaces the old one on chain; say so here too.
    for old in await session.scalars(
        select(DelegationRow).where(
            DelegationRow.subject_id == subject_id,
            DelegationRow.agent_address == agent,
            DelegationRow.status.in_(LIVE),
        )
    ):
        old.status, old.revoked_at = "replaced", now


async def get_for_subject(session: AsyncSession, subject_id: str, delegation_id: int) -> DelegationRow:
    row = await session.get(DelegationRow, delegation_id)
    if row is None or row.subject_id != subject_id:
        raise NotFoundError("delegation", str(delegation_id))
    return row


async def page_for_subject(
    session: AsyncSession,
    subject_id: str,
    *,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[DelegationRow]:
    """One page of the delegations the subject made or a registrar made for it (every one,
    ended ones too), oldest first (newest first with ``newest``), and how many there are."""
    return await pages.keyset(
        session,
        DelegationRow,
        [DelegationRow.subject_id == subject_id],
        [DelegationRow.id],
        "delegations",
        after=after,
        limit=limit,
        newest=newest,
    )


async def list_for_subject(session: AsyncSession, subject_id: str) -> list[DelegationRow]:
    return list(
        await session.scalars(
            select(DelegationRow).where(DelegationRow.subject_id == subject_id).order_by(DelegationRow.id)
        )
    )


def revocation_typed_data(ctx: VaultContext, row: DelegationRow) -> dict[str, Any]:
    if row.kind != "agent":
        raise VaultValueError("a guardian is removed by a registrar, not by signature", field="delegation")
    subject = decode_hex(row.subject_id)
    return typed_data_json(delegation_revocation_typed_data(domain(ctx), subject, row.agent_address, row.nonce))


async def revoke(
    ctx: VaultContext, session: AsyncSession, *, row: DelegationRow, signature: str, now: int
) -> DelegationRow:
    if row.status not in LIVE:
        raise ConflictError(f"this delegation is already {row.status}")
    typed = revocation_typed_data(ctx, row)
    try:
        signer = recover_typed_data(typed, signature)
    except SignatureError:
        raise VaultValueError("the signature is malformed", field="signature") from None
    subject = await _subject(session, row.subject_id)
    if signer != subject.auth_address:
        raise PermissionDeniedError("only the subject's own key withdraws an agent")
    row.status, row.revoked_at = "revoked", now
    payload = {"subject": row.subject_id, "agent": row.agent_address, "nonce": row.nonce, "signature": signature}
    outbox.enqueue(session, "revoke_delegation", OPERATOR, payload, now)
    await session.flush()
    await ctx.events.emit(session, event(row, "delegation.revoked", now, actor_role="subject", actor=signer))
    return row


MAX_REASON = 500


async def guardian_reason(ctx: VaultContext, session: AsyncSession, row: DelegationRow) -> str | None:
    """Why the registrar appointed this guardian (for the subject and its registrar)."""
    if row.reason_key is None or row.reason is None:
        return None
    lookup = await keyring.lookup_for(session, ctx.master, row.subject_id)
    aad = keyring.guardian_reason_aad(row.subject_id, row.agent_address, row.created_at)
    return open_sealed(Sealed(row.reason_key, row.reason), aad, lookup).decode()


async def appoint_guardian(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    registrar: Department,
    subject_id: str,
    guardian: str,
    not_before: int,
    expires_at: int,
    reason: str,
    now: int,
) -> DelegationRow:
    """A guardian acts for the subject over everything: only the subject's own registrar
    appoints one, says why (sealed: it is personal), and the subject's access log shows it."""
    subject = await _subject(session, subject_id)
    check_answerable(registrar, subject)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise VaultValueError(f"a guardian's appointment needs its reason (1-{MAX_REASON} characters)", field="reason")
    address = check_address(guardian, "guardian")
    if address == subject.auth_address:
        raise VaultValueError("a subject cannot be its own guardian", field="guardian")
    await refuse_platform_key(ctx, session, address, "guardian")
    await refuse_subject_key(session, address, "guardian")
    _window(not_before, expires_at, now)
    await _end_live(session, subject_id, address, now)
    kek = await keyring.active_key(session, ctx.master, subject_id)
    sealed = seal(reason.encode(), keyring.guardian_reason_aad(subject_id, address, now), kek)
    row = DelegationRow(
        subject_id=subject_id,
        agent_address=address,
        kind="guardian",
        record_types=ALL_RECORD_TYPES,
        not_before=not_before,
        expires_at=expires_at,
        nonce=0,
        signature=None,
        appointed_by=registrar.code,
        status="pending",
        created_at=now,
        reason_key=sealed.wrapped_key,
        reason=sealed.body,
    )
    session.add(row)
    payload = {"subject": subject_id, "guardian": address, "not_before": not_before, "expires_at": expires_at}
    outbox.enqueue(session, "set_guardian", registrar.chain_key_name, payload, now)
    await session.flush()
    await ctx.events.emit(session, event(row, "delegation.set", now, actor_role="registrar", actor=registrar.code))
    return row


async def remove_guardian(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    registrar: Department,
    subject_id: str,
    guardian: str,
    now: int,
) -> DelegationRow:
    check_answerable(registrar, await _subject(session, subject_id))
    address = check_address(guardian, "guardian")
    row = await session.scalar(
        select(DelegationRow).where(
            DelegationRow.subject_id == subject_id,
            DelegationRow.agent_address == address,
            DelegationRow.kind == "guardian",
            DelegationRow.status.in_(LIVE),
        )
    )
    if row is None:
        raise NotFoundError("guardian", address)
    row.status, row.revoked_at = "revoked", now
    outbox.enqueue(
        session, "remove_guardian", registrar.chain_key_name, {"subject": subject_id, "guardian": address}, now
    )
    await session.flush()
    await ctx.events.emit(session, event(row, "delegation.revoked", now, actor_role="registrar", actor=registrar.code))
    return row


async def check(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    agent: str,
    bits: int,
    now: int,
) -> dict[str, Any]:
    """Whether ``agent`` may act for ``subject_id`` over ``bits`` now, by the vault and the chain."""
    address = check_address(agent, "agent")
    row = await active_for(session, subject_id, address, now)
    client = consent_client(ctx)
    on_chain = await ctx.chain.call(client.can_act_for, decode_hex(subject_id), address, bits)
    if row is None:
        return {"valid": False, "reason": "no live delegation to this agent", "on_chain": on_chain}
    facts = {
        "kind": row.kind,
        "record_types": record_type_names(row.record_types),
        "not_before": row.not_before,
        "expires_at": row.expires_at,
        "on_chain": on_chain,
    }
    if bits & ~row.record_types:
        return {"valid": False, "reason": "the delegation does not cover these record types", **facts}
    if not on_chain:
        return {"valid": False, "reason": "the delegation is not anchored on chain yet", **facts}
    return {"valid": True, "reason": "the agent may act for the subject", **facts}
