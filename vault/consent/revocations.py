"""Withdrawing consent. The subject (or any active delegate or guardian) signs a revocation;
the vault stops honouring the grant the moment it has checked the signature (deny wins) and
relays the revocation to the chain, where it lands after the grant itself."""

from __future__ import annotations

from typing import Any

from eth_utils.hexadecimal import decode_hex
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import revocation_typed_data
from keys import SignatureError, recover_typed_data
from vault import outbox
from vault.accounts import agents
from vault.consent import grants
from vault.consent.typed_data import domain, typed_data_json
from vault.context import OPERATOR, VaultContext
from vault.db.grants import GrantRow
from vault.db.models import Subject
from vault.errors import ConflictError, PermissionDeniedError, VaultValueError


def typed_data(ctx: VaultContext, row: GrantRow) -> dict[str, Any]:
    subject = decode_hex(row.subject_id)
    return typed_data_json(revocation_typed_data(domain(ctx), subject, row.nonce))


async def _revoker(session: AsyncSession, row: GrantRow, signer: str, now: int) -> str:
    subject = await session.get(Subject, row.subject_id)
    if subject is not None and signer == subject.auth_address:
        return "subject"
    # Withdrawing consent is within every live delegation, whatever its record types.
    if await agents.active_for(session, row.subject_id, signer, now) is not None:
        return "delegate"
    raise PermissionDeniedError("the revocation is not signed by this subject's key or an authorised delegate")


async def revoke(ctx: VaultContext, session: AsyncSession, *, row: GrantRow, signature: str, now: int) -> GrantRow:
    if row.status == "revoked":
        raise ConflictError("this grant is already revoked")
    try:
        signer = recover_typed_data(
            revocation_typed_data(domain(ctx), decode_hex(row.subject_id), row.nonce), signature
        )
    except SignatureError:
        raise VaultValueError("the signature is malformed", field="signature") from None
    role = await _revoker(session, row, signer, now)
    anchored_or_pending = row.status in ("pending", "active")
    row.status, row.revoked_at, row.revoked_by, row.revocation_signature = "revoked", now, signer, signature
    if anchored_or_pending:
        # A pending grant is still relayed first (outbox order), then revoked on chain too, so
        # the chain never shows as active a grant the subject withdrew.
        payload = {"grant_id": row.id, "subject": row.subject_id, "nonce": row.nonce, "signature": signature}
        outbox.enqueue(session, "revoke_grant", OPERATOR, payload, now)
    await session.flush()
    await ctx.events.emit(session, grants.event(row, "grant.revoked", "ok", now, actor_role=role, actor=signer))
    return row
