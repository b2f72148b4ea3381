"""A grant's terms: checked as the subject states them, parsed from the message a wallet signed,
rebuilt from the stored row exactly as signed; and who may sign them for a subject: the
subject's own key, or an agent's or guardian's within a delegation in force.

The same checks run when the vault prepares a grant and when it receives the signed grant
(``vault.consent.grants``): the signature covers the terms, not the vault's reading of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils.hexadecimal import decode_hex
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import (
    UINT32_MAX,
    UINT64_MAX,
    GrantTerms,
    record_type_bits,
    record_type_names,
)
from vault.accounts import agents
from vault.accounts.departments import Role
from vault.consent.disclosure import check_paths, paths_in
from vault.consent.typed_data import json_int
from vault.context import VaultContext
from vault.credentials import holdings
from vault.db.grants import DelegationRow, GrantRow
from vault.db.models import Department, Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError

MAX_USES = 1_000_000
MAX_PURPOSE = 500
MAX_LISTED_FIELDS = 40  # of the fields a refusal lists as existing


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


def subject_bytes(subject_id: str) -> bytes:
    return decode_hex(subject_id)


def check_terms(
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


async def find_grantee(session: AsyncSession, *, code: str | None = None, address: str | None = None) -> Department:
    if code is not None:
        row = await session.get(Department, code)
    else:
        row = await session.scalar(select(Department).where(Department.chain_address == address))
    if row is None:
        raise VaultValueError("the grantee is not a registered department", field="grantee")
    if not row.active or not row.roles & Role.DATA_USER:
        raise VaultValueError(f"department {row.code!r} is not an active data user", field="grantee")
    return row


async def check_issued(
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


def terms_of(row: GrantRow, purpose: str) -> GrantTerms:
    """The terms exactly as signed, rebuilt from the stored row and its opened purpose."""
    return GrantTerms(
        subject=subject_bytes(row.subject_id),
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


def refuse_erased(subject: Subject) -> None:
    """An erased file takes no new grant or delegation: nothing could be disclosed under it, and
    what it would seal (a purpose, a reason) could never be erased again."""
    if subject.erased_at is not None:
        raise ConflictError("this subject's file was erased: it takes no new grants or delegations")


async def authorise(session: AsyncSession, subject_id: str, signer: str, bits: int, until: int, now: int) -> str:
    """Who ``signer`` is for ``subject_id``: "subject" or "delegate". Mirrors the contract."""
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    refuse_erased(subject)
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
