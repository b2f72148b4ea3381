"""A correction as the subject and the issuer see it: its request (the reason and the corrected
values) and the issuer's note are sealed under the subject's key, and opened only to be shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keys import Sealed, open_sealed, seal
from vault import keyring
from vault.context import VaultContext
from vault.credentials import records
from vault.credentials.commitments import canonical_json
from vault.db.corrections import CorrectionRow
from vault.db.models import Record


@dataclass(frozen=True)
class CorrectionView:
    id: str
    record_id: str
    record_version: int
    subject_id: str
    issuer_code: str
    record_type: str
    requested_by: str
    reason: str
    fields: dict[str, Any]
    status: str
    decided_by: str | None
    decided_at: int | None
    note: str | None
    new_version: int | None
    created_at: int
    # For the issuer: the values the requested fields have in the version under correction.
    previous: dict[str, Any] | None = None


def _aad(subject_id: str, correction_id: str, part: str) -> bytes:
    return keyring.correction_aad(subject_id, correction_id, part)


async def seal_part(
    ctx: VaultContext, session: AsyncSession, subject_id: str, correction_id: str, part: str, value: Any
) -> Sealed:
    kek = await keyring.active_key(session, ctx.master, subject_id)
    return seal(canonical_json(value), _aad(subject_id, correction_id, part), kek)


async def open_parts(ctx: VaultContext, session: AsyncSession, row: CorrectionRow) -> tuple[dict[str, Any], str | None]:
    if not row.wrapped_key:
        # Erased with its record (vault.erasure): nothing of what was asked is left.
        return {"reason": "", "fields": {}}, None
    lookup = await keyring.lookup_for(session, ctx.master, row.subject_id)
    request: dict[str, Any] = json.loads(
        open_sealed(Sealed(row.wrapped_key, row.body), _aad(row.subject_id, row.id, "request"), lookup)
    )
    note = None
    if row.note_key is not None and row.note_body is not None:
        note = str(
            json.loads(open_sealed(Sealed(row.note_key, row.note_body), _aad(row.subject_id, row.id, "note"), lookup))
        )
    return request, note


async def view_of(
    ctx: VaultContext, session: AsyncSession, row: CorrectionRow, *, previous: bool = False
) -> CorrectionView:
    request, note = await open_parts(ctx, session, row)
    fields: dict[str, Any] = request["fields"]
    old = await session.get(Record, (row.record_id, row.record_version))
    before = None
    if previous and old is not None and old.erased_at is None:
        document = await records.decrypt(ctx, session, old)
        old_fields = document.get("fields", {})
        before = {k: old_fields.get(k) for k in fields}
    return CorrectionView(
        id=row.id,
        record_id=row.record_id,
        record_version=row.record_version,
        subject_id=row.subject_id,
        issuer_code=row.issuer_code,
        record_type=old.type if old is not None else "",
        requested_by=row.requested_by,
        reason=str(request["reason"]),
        fields=fields,
        status=row.status,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        note=note,
        new_version=row.new_version,
        created_at=row.created_at,
        previous=before,
    )
