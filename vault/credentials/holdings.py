"""What a subject holds of some record types: the newest version of each record a grant
could disclose, decrypted.

Reads under a grant and the check of a grant's field paths at prepare both start here, so
"a field that exists" means the same to both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_names
from vault import keyring
from vault.context import VaultContext
from vault.credentials import records
from vault.db.models import Record

# Records a grant can disclose: what the vault holds and the issuer has not withdrawn.
DISCLOSABLE = ("pending", "anchored")


async def latest(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    bits: int,
    lookup: keyring.KekLookup | None = None,
) -> list[tuple[Record, dict[str, Any]]]:
    """(row, decrypted document) of each disclosable record of the types in ``bits``;
    ``lookup``: the subject's keys, when the caller has read them already."""
    rows = await session.scalars(
        select(Record)
        .where(
            Record.subject_id == subject_id,
            Record.type.in_(record_type_names(bits)),
            Record.status.in_(DISCLOSABLE),
        )
        .order_by(Record.created_at, Record.id, Record.version)
    )
    newest: dict[str, Record] = {}
    for row in rows:  # ordered by version: the newest version of each record wins
        newest[row.id] = row
    if not newest:
        return []
    if lookup is None:
        lookup = await keyring.lookup_for(session, ctx.master, subject_id)
    return [(row, await records.decrypt(ctx, session, row, lookup)) for row in newest.values()]
