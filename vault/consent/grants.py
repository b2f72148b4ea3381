"""Grants (授权): prepared by the vault, signed by the subject or a delegate, relayed to the
consent registry, and enforced on every read.

The vault cannot invent consent: a grant is accepted only with a signature that recovers to
the subject's current key (or an authorised delegate's), and the consent registry checks the
same signature again on chain. A grant is usable once anchored; a revocation takes effect
the moment the vault receives it (deny wins), before it is mined.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import (
    UINT32_MAX,
    UINT64_MAX,
    GrantTerms,
    grant_id,
    grant_typed_data,
    record_type_bits,
    record_type_names,
    text_hash,
)
from keys import SignatureError, recover_typed_data_digest
from vault import outbox
from vault.accounts import agents
from vault.accounts.departments import Role
from vault.consent import purposes as grant_purposes
from vault.consent.disclosure import check_paths, paths_in
from vault.consent.typed_data import (
    MAX_SAFE_NONCE,
    consent_client,
    domain,
    json_int,
    typed_data_json,
)
from vault.context import OPERATOR, VaultContext
from vault.credentials import holdings
from vault.db.grants import DelegationRow, GrantRow
from vault.db.models import Department, Subject
from vault.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    VaultValueError,
)
from vault.events import VaultEvent

MAX_USES = 1_000_000
MAX_PURPOSE = 500
MAX_LISTED_FIELDS = 40  # of the fields a refusal lists as existing
# Statuses a subject sees; "pending", "failed" and "revoked" are stored, the others follow
# from the clock and the use counter.
STATUSES = ("pending", "active", "not_yet_valid", "expired", "exhausted", "revoked", "failed")


@dataclass(frozen=True)
class GrantRequest:
    grantee: str  # department code
    record_types: tuple[str, ...]
    fields: tuple[str, ...]
    purpose_code: int
    purpose: str
    not_before: int
    expires_at: int
    max_uses: int
    # Fields no record of the types holds yet are refused unless the subject says they mean
    # records still to be issued: a grant over nothing discloses nothing.
    allow_unissued_fields: bool = False


def _subject_bytes(subject_id: str) -> bytes:
    return decode_hex(subject_id)


def _check_terms(
    types: tuple[str, ...] | int,
    fields: tuple[str, ...],
    purpose_code: int,
    purpose: str,
    not_before: int,
    expires_at: int,
    max_uses: int,
    now: int,
) -> tuple[int, tuple[str, ...]]:
    try:
        bits = types if isinstance(types, int) else record_type_bits(types)
    except ValueError as exc:
        raise VaultValueError(str(exc), field="record_types") from None
    if not 0 < bits <= 7:
        raise VaultValueError("a grant needs at least one record type", field="record_types")
    paths = check_paths(fields)
    if not 0 <= purpose_code <= 0xFFFF:
        raise VaultValueError("purpose_code must be 0-65535", field="purpose_code")
    if not purpose.strip() or len(purpose) > MAX_PURPOSE:
        raise VaultValueError(f"purpose must be 1-{MAX_PURPOSE} characters", field="purpose")
    if not 0 <= not_before < expires_at <= UINT32_MAX:
        raise VaultValueError("expires_at must be later than not_before (and before 2106)", field="expires_at")
    if expires_at <= now:
        raise VaultValueError("this grant would already have expired", field="expires_at")
    if not 0 < max_uses <= MAX_USES:
        raise VaultValueError(f"max_uses must be 1-{MAX_USES}", field="max_uses")
    return bits, paths


async def _grantee(session: AsyncSession, *, code: str | None = None, address: str | None = None) -> Department:
    if code is not None:
        row = await session.get(Department, code)
    else:
        row = await session.scalar(select(Department).where(Department.chain_address == address))
    if row is None:
        raise VaultValueError("the grantee is not a registered department", field="grantee")
    if not row.active or not row.roles & Role.DATA_USER:
        raise VaultValueError(f"department {row.code!r} is not an active data user", field="grantee")
    return row


async def prepare(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    req: GrantRequest,
    now: int,
    signer: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The grant's id and the EIP-712 typed data the subject (or a delegate) signs.

    With ``signer``, terms that key could not sign (an agent outside its delegation) are
    refused now, before anyone signs something bound to be refused."""
    bits, paths = _check_terms(
        req.record_types, req.fields, req.purpose_code, req.purpose, req.not_before, req.expires_at, req.max_uses, now
    )
    if signer is not None:
        await authorise(session, subject_id, signer, bits, req.expires_at, now)
    grantee = await _grantee(session, code=req.grantee)
    if not req.allow_unissued_fields:
        await _check_issued(ctx, session, subject_id, bits, paths)
    terms = GrantTerms(
        subject=_subject_bytes(subject_id),
        grantee=grantee.chain_address,
        record_types=bits,
        fields=paths,
        purpose_code=req.purpose_code,
        purpose=req.purpose,
        not_before=req.not_before,
        expires_at=req.expires_at,
        max_uses=req.max_uses,
        nonce=1 + secrets.randbelow(MAX_SAFE_NONCE),
    )
    return encode_hex(grant_id(terms.subject, terms.nonce)), typed_data_json(grant_typed_data(domain(ctx), terms))


async def _check_issued(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    bits: int,
    paths: tuple[str, ...],
) -> None:
    """Refuses field paths that no record of the granted types holds, naming the ones that do."""
    existing: dict[str, None] = {}
    for _, document in await holdings.latest(ctx, session, subject_id, bits):
        existing.update(dict.fromkeys(paths_in(document.get("fields", {}))))
    unknown = [p for p in paths if p not in existing]
    if not unknown:
        return
    types = "/".join(record_type_names(bits))
    if existing:
        listed = sorted(existing)
        extra = len(listed) - MAX_LISTED_FIELDS
        more = f" and {extra} more" if extra > 0 else ""
        there = f"the fields that exist are {', '.join(listed[:MAX_LISTED_FIELDS])}{more}"
    else:
        there = f"the subject holds no {types} record yet"
    raise VaultValueError(
        f"no {types} record of this subject has the field{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(unknown)}: {there}. To grant fields of records not issued yet, set "
        "allow_unissued_fields (CLI: --allow-unissued-fields)",
        field="fields",
    )


def terms_from_message(message: Any) -> GrantTerms:
    """A signed grant message as a client sends it back; every field checked for type."""
    if not isinstance(message, dict):
        raise VaultValueError("message must be the grant's typed-data message object", field="message")
    try:
        subject = decode_hex(str(message["subject"]))
        ints = {
            k: json_int(message[k])
            for k in ("recordTypes", "purposeCode", "notBefore", "expiresAt", "maxUses", "nonce")
        }
        fields, purpose, grantee = message["fields"], message["purpose"], message["grantee"]
    except (KeyError, ValueError):
        raise VaultValueError("message lacks a grant field or has a malformed one", field="message") from None
    if len(subject) != 32 or not isinstance(grantee, str) or not isinstance(purpose, str):
        raise VaultValueError("message subject, grantee or purpose is malformed", field="message")
    if not all(v is not None and v >= 0 for v in ints.values()):
        raise VaultValueError("message numbers must be non-negative integers", field="message")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise VaultValueError("message fields must be a list of field paths", field="message")
    if not 0 < (ints["nonce"] or 0) <= UINT64_MAX:
        raise VaultValueError("message nonce is out of range", field="message")
    n = {k: int(v or 0) for k, v in ints.items()}
    return GrantTerms(
        subject=subject,
        grantee=grantee,
        record_types=n["recordTypes"],
        fields=tuple(fields),
        purpose_code=n["purposeCode"],
        purpose=purpose,
        not_before=n["notBefore"],
        expires_at=n["expiresAt"],
        max_uses=n["maxUses"],
        nonce=n["nonce"],
    )


def outbox_payload(row: GrantRow, terms: GrantTerms) -> dict[str, Any]:
    """What the outbox keeps to relay a grant: its id (the terms are the row's), the signature,
    and the purpose's hash: the row holds the words sealed, and the relayer needs only the hash."""
    return {
        "grant_id": row.id,
        "signature": row.signature,
        grant_purposes.PURPOSE_HASH: encode_hex(text_hash(terms.purpose)),
    }


async def submit(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    message: Any,
    signature: str,
    now: int,
) -> GrantRow:
    terms = terms_from_message(message)
    if encode_hex(terms.subject) != subject_id:
        raise PermissionDeniedError("this grant is for another subject")
    bits, paths = _check_terms(
        terms.record_types,
        terms.fields,
        terms.purpose_code,
        terms.purpose,
        terms.not_before,
        terms.expires_at,
        terms.max_uses,
        now,
    )
    if paths != terms.fields:
        raise VaultValueError("field paths must be distinct", field="fields")
    grantee = await _grantee(session, address=terms.grantee)
    try:
        signer, digest = recover_typed_data_digest(grant_typed_data(domain(ctx), terms), signature)
    except SignatureError:
        raise VaultValueError("the signature is malformed", field="signature") from None
    await authorise(session, subject_id, signer, bits, terms.expires_at, now)
    gid = encode_hex(grant_id(terms.subject, terms.nonce))
    if await session.get(GrantRow, gid) is not None:
        raise ConflictError("this grant's nonce was already used; prepare a new grant")
    row = GrantRow(
        id=gid,
        subject_id=subject_id,
        nonce=terms.nonce,
        grantee_code=grantee.code,
        grantee_address=grantee.chain_address,
        record_types=bits,
        fields=json.dumps(list(paths), ensure_ascii=False),
        purpose_code=terms.purpose_code,
        not_before=terms.not_before,
        expires_at=terms.expires_at,
        max_uses=terms.max_uses,
        uses=0,
        signer=signer,
        signature=signature,
        digest=encode_hex(digest),
        status="pending",
        created_at=now,
    )
    await grant_purposes.seal_onto(session, ctx.master, row, terms.purpose)
    session.add(row)
    outbox.enqueue(session, "grant", OPERATOR, outbox_payload(row, terms), now)
    await session.flush()
    await ctx.events.emit(session, event(row, "grant.created", "ok", now, actor_role="subject", actor=signer))
    return row


async def authorise(session: AsyncSession, subject_id: str, signer: str, bits: int, until: int, now: int) -> str:
    """Who ``signer`` is for ``subject_id``: "subject" or "delegate". Mirrors the contract."""
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    if signer == subject.auth_address:
        return "subject"
    found = await agents.active_for(session, subject_id, signer, now)
    if found is None:
        raise PermissionDeniedError("the signature is not by this subject's key or an authorised delegate")
    if bits & ~found.record_types or until > found.expires_at:
        raise PermissionDeniedError(_outside(found, bits, until))
    return "delegate"


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _outside(delegation: DelegationRow, bits: int, until: int) -> str:
    """Why a delegate may not sign these terms, with the window it may sign within."""
    window = (
        f"delegation {delegation.id} covers {', '.join(record_type_names(delegation.record_types))} "
        f"from {_utc(delegation.not_before)} until {_utc(delegation.expires_at)}"
    )
    wrong = []
    if bits & ~delegation.record_types:
        wrong.append(f"record types {', '.join(record_type_names(bits & ~delegation.record_types))} are not in it")
    if until > delegation.expires_at:
        wrong.append(f"the grant would run until {_utc(until)}, after it ends")
    return f"outside the delegation: {'; '.join(wrong)} ({window})"


def status_at(row: GrantRow, now: int) -> str:
    if row.status != "active":
        return row.status
    if now >= row.expires_at:
        return "expired"
    if row.uses >= row.max_uses:
        return "exhausted"
    if now < row.not_before:
        return "not_yet_valid"
    return "active"


def event(
    row: GrantRow,
    action: str,
    outcome: str,
    now: int,
    *,
    actor_role: str,
    actor: str,
    official: str | None = None,
    record_ids: tuple[str, ...] = (),
    reason: str | None = None,
) -> VaultEvent:
    return VaultEvent(
        action=action,
        outcome="ok" if outcome == "ok" else "refused",
        at=now,
        actor_role=actor_role,
        actor=actor,
        official=official,
        subject_id=row.subject_id,
        grant_id=row.id,
        record_types=tuple(record_type_names(row.record_types)),
        fields=tuple(json.loads(row.fields)),
        record_ids=record_ids,
        purpose_code=row.purpose_code,
        reason=reason,
    )


async def get_for_subject(session: AsyncSession, subject_id: str, gid: str) -> GrantRow:
    row = await session.get(GrantRow, gid.lower())
    if row is None or row.subject_id != subject_id:
        raise NotFoundError("grant", gid)
    return row


async def list_for_subject(session: AsyncSession, subject_id: str) -> list[GrantRow]:
    rows = await session.scalars(
        select(GrantRow).where(GrantRow.subject_id == subject_id).order_by(GrantRow.created_at, GrantRow.id)
    )
    return list(rows)


async def list_for_department(session: AsyncSession, code: str) -> list[GrantRow]:
    rows = await session.scalars(
        select(GrantRow).where(GrantRow.grantee_code == code).order_by(GrantRow.created_at, GrantRow.id)
    )
    return list(rows)


async def count_use(session: AsyncSession, gid: str, now: int) -> bool:
    """Takes one use, atomically: of N concurrent readers of a grant with M uses left, M win."""
    result = await session.execute(
        update(GrantRow)
        .where(
            GrantRow.id == gid,
            GrantRow.status == "active",
            GrantRow.uses < GrantRow.max_uses,
            GrantRow.not_before <= now,
            GrantRow.expires_at > now,
        )
        .values(uses=GrantRow.uses + 1)
    )
    return getattr(result, "rowcount", 0) == 1


def terms_of(row: GrantRow, purpose: str) -> GrantTerms:
    """The terms exactly as signed, rebuilt from the stored row and its opened purpose."""
    return GrantTerms(
        subject=_subject_bytes(row.subject_id),
        grantee=row.grantee_address,
        record_types=row.record_types,
        fields=tuple(json.loads(row.fields)),
        purpose_code=row.purpose_code,
        purpose=purpose,
        not_before=row.not_before,
        expires_at=row.expires_at,
        max_uses=row.max_uses,
        nonce=row.nonce,
    )


async def receipt(ctx: VaultContext, session: AsyncSession, row: GrantRow, now: int) -> dict[str, Any]:
    """A consent receipt the subject can keep, and anyone can check against the chain."""
    grantee = await session.get(Department, row.grantee_code)
    client = consent_client(ctx)
    purpose = await grant_purposes.purpose_of(ctx.master, session, row)
    return {
        "grant_id": row.id,
        "subject_id": row.subject_id,
        "signer": row.signer,
        "grantee": {"code": row.grantee_code, "name": grantee.name if grantee else "", "address": row.grantee_address},
        "record_types": record_type_names(row.record_types),
        "fields": json.loads(row.fields),
        "purpose": {"code": row.purpose_code, "text": purpose},
        "not_before": row.not_before,
        "expires_at": row.expires_at,
        "max_uses": row.max_uses,
        "status": status_at(row, now),
        "chain": {
            "chain_id": ctx.chain.chain_id(),  # known since the vault opened: no call to the node
            "consent_registry": client.address,
            "tx_hash": row.tx_hash,
            "block_number": row.block_number,
            "revoke_tx_hash": row.revoke_tx_hash,
        },
        "signature": row.signature,
        "typed_data": typed_data_json(grant_typed_data(domain(ctx), terms_of(row, purpose))),
    }
