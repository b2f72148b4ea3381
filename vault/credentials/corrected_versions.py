"""The corrected version: version N+1 of a record, issued when its issuer accepts a correction,
built, sealed and hashed as ``records.issue`` builds a first version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keys import seal
from vault import keyring
from vault.context import VaultContext
from vault.credentials import records, status_list
from vault.credentials.commitments import canonical_json
from vault.credentials.correction_requests import spec_of
from vault.credentials.documents import build_document, credential_hash
from vault.db.models import Department, Record, Subject
from vault.events import VaultEvent


async def issue_version(
    ctx: VaultContext,
    session: AsyncSession,
    issuer: Department,
    old: Record,
    document: dict[str, Any],
    fields: dict[str, Any],
    version: int,
    now: int,
) -> records.RecordView:
    """Version ``version`` of ``old``'s record, as ``records.issue`` builds a first version."""
    subject = await session.get(Subject, old.subject_id)
    assert subject is not None  # a record's subject is never deleted
    status_index = await status_list.allocate(session)
    new_document = build_document(
        spec_of(document, old, fields),
        subject_id=old.subject_id,
        holder=subject.auth_address,
        issuer_code=issuer.code,
        issuer_address=issuer.chain_address,
        record_id=old.id,
        record_version=version,
        issued_at=now,
        status_index=status_index,
    )
    kek = await keyring.active_key(session, ctx.master, old.subject_id)
    sealed = seal(canonical_json(new_document), keyring.record_aad(old.subject_id, old.id, version), kek)
    row = Record(
        id=old.id,
        version=version,
        subject_id=old.subject_id,
        type=old.type,
        issuer_code=issuer.code,
        wrapped_key=sealed.wrapped_key,
        body=sealed.body,
        credential_hash=credential_hash(new_document),
        valid_from=old.valid_from,
        valid_until=old.valid_until,
        status="pending",
        status_reason=f"corrects version {old.version}",
        created_at=now,
        status_index=status_index,
    )
    session.add(row)
    await session.flush()  # a concurrent acceptance fails here: (id, version) is the key
    await ctx.events.emit(
        session,
        VaultEvent(
            "record.issued",
            "ok",
            now,
            "department",
            issuer.code,
            subject_id=old.subject_id,
            record_types=(old.type,),
            record_ids=(old.id,),
            reason=f"version {version} corrects version {old.version}",
        ),
    )
    return await records.view_of(session, row, new_document)
