"""What a subject sees of a grant: its status at a moment, and the consent receipt it can keep
and anyone can check against the chain.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import grant_typed_data, record_type_names
from vault.consent import purposes as grant_purposes
from vault.consent.read_facts import GrantFacts
from vault.consent.terms import terms_of
from vault.consent.typed_data import consent_client, domain, typed_data_json
from vault.context import VaultContext
from vault.db.grants import GrantRow
from vault.db.models import Department, Subject
from vault.errors import ErasedError

# Statuses a subject sees; "pending", "failed" and "revoked" are stored, the others follow
# from the clock and the use counter.
STATUSES = ("pending", "active", "not_yet_valid", "expired", "exhausted", "revoked", "failed")


def status_at(row: GrantRow | GrantFacts, now: int) -> str:
    if row.status != "active":
        return row.status
    if now >= row.expires_at:
        return "expired"
    if row.uses >= row.max_uses:
        return "exhausted"
    if now < row.not_before:
        return "not_yet_valid"
    return "active"


async def receipt(ctx: VaultContext, session: AsyncSession, row: GrantRow, now: int) -> dict[str, Any]:
    """A consent receipt the subject can keep, and anyone can check against the chain."""
    grantee = await session.get(Department, row.grantee_code)
    client = consent_client(ctx)
    purpose = await grant_purposes.purpose_of(ctx.master, session, row)
    if purpose is None:
        # The signed terms cannot be shown again without the words the subject erased.
        subject = await session.get(Subject, row.subject_id)
        raise ErasedError("this grant's purpose", subject.erased_at if subject and subject.erased_at else now)
    return {
        "grant_id": row.id,
        "subject_id": row.subject_id,
        "signer": row.signer,
        "grantee": {
            "code": row.grantee_code,
            "name": grantee.name if grantee else "",
            "kind": grantee.kind if grantee else "",
            "address": row.grantee_address,
        },
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
