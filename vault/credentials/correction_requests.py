"""A subject asks the issuing department to correct a record (纠错), with a reason, and sees its
requests; the checks the corrected values go through, again when the issuer accepts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_bits, record_type_names
from vault import pages
from vault.accounts import agents
from vault.context import VaultContext
from vault.credentials import records
from vault.credentials.correction_views import CorrectionView, seal_part, view_of
from vault.credentials.documents import DocumentSpec, check_spec
from vault.db.corrections import CorrectionRow
from vault.db.models import Record
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent
from vault.ids import new_record_id

MAX_REASON = 500


@dataclass(frozen=True)
class Requester:
    """Who asks: the subject itself, or an agent or guardian acting for it."""

    subject_id: str
    address: str
    role: str  # subject | delegate


# -- checks ------------------------------------------------------------------------------------


def checked_text(value: str, name: str, limit: int, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise VaultValueError(f"{name} must say why, in words", field=name)
    if len(text) > limit:
        raise VaultValueError(f"{name} must be at most {limit} characters", field=name)
    return text


def merged_fields(old_fields: dict[str, Any], changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes:
        raise VaultValueError("fields must be a non-empty object of the corrected values", field="fields")
    if any(not isinstance(k, str) or not k.strip() for k in changes):
        raise VaultValueError("field names must be non-empty text", field="fields")
    merged = {**old_fields, **changes}
    if merged == old_fields:
        raise VaultValueError(
            "the corrected values are the values the record already holds; nothing to correct", field="fields"
        )
    return merged


def spec_of(document: dict[str, Any], row: Record, fields: dict[str, Any]) -> DocumentSpec:
    return DocumentSpec(
        type=row.type,
        title=str(document.get("title", "")),
        fields=fields,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def check_not_revoked(row: Record) -> None:
    if row.status in ("revoked", "revoking"):
        raise ConflictError("this record is revoked; a revoked record cannot be corrected")


# -- the subject asks --------------------------------------------------------------------------


async def request(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    requester: Requester,
    record_id: str,
    reason: str,
    fields: dict[str, Any],
    now: int,
) -> CorrectionView:
    reason = checked_text(reason, "reason", MAX_REASON, required=True)
    row = await records.latest(session, record_id)
    if row.subject_id != requester.subject_id:
        raise NotFoundError("record", record_id)  # as for reads: nothing learnt of others' ids
    if requester.role != "subject":
        delegation = await agents.active_for(session, row.subject_id, requester.address, now)
        if delegation is None or record_type_bits([row.type]) & ~delegation.record_types:
            raise PermissionDeniedError(f"your delegation does not cover {row.type} records of this subject")
    check_not_revoked(row)
    document = await records.decrypt(ctx, session, row)
    check_spec(spec_of(document, row, merged_fields(document.get("fields", {}), fields)))
    open_one = await session.scalar(select(CorrectionRow.id).where(CorrectionRow.open_record_id == row.id))
    if open_one is not None:
        raise ConflictError(
            f"this record already has an open correction request ({open_one}); wait for the issuer's decision"
        )
    correction_id = str(new_record_id())
    sealed = await seal_part(
        ctx, session, row.subject_id, correction_id, "request", {"reason": reason, "fields": fields}
    )
    correction = CorrectionRow(
        id=correction_id,
        record_id=row.id,
        record_version=row.version,
        subject_id=row.subject_id,
        issuer_code=row.issuer_code,
        requested_by=requester.address,
        wrapped_key=sealed.wrapped_key,
        body=sealed.body,
        status="requested",
        open_record_id=row.id,
        created_at=now,
    )
    session.add(correction)
    await session.flush()  # a concurrent request for the same record fails here (unique open_record_id)
    await ctx.events.emit(
        session,
        VaultEvent(
            "correction.requested",
            "ok",
            now,
            requester.role,
            requester.subject_id if requester.role == "subject" else requester.address,
            subject_id=row.subject_id,
            record_types=(row.type,),
            record_ids=(row.id,),
            fields=tuple(sorted(fields)),
            reason=f"correction {correction_id} of version {row.version}",
        ),
    )
    return await view_of(ctx, session, correction)


async def page_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    *,
    covering: int | None = None,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
) -> pages.Page[CorrectionView]:
    """One page of the corrections asked of the subject's records, oldest first (newest first
    with ``newest``, as the pages list them), decrypted, and how many there are. With
    ``covering`` (a delegation's record-type bits), only those of records whose type it covers,
    as a delegate may see them: filtered in the query, so the total counts what the delegate
    sees and nothing else is decrypted. Only the page's rows are opened (the index
    ``ix_corrections_subject_created`` walks them in order)."""
    where = [CorrectionRow.subject_id == subject_id]
    if covering is not None:
        where.append(
            exists().where(
                Record.id == CorrectionRow.record_id,
                Record.version == CorrectionRow.record_version,
                Record.type.in_(record_type_names(covering)),
            )
        )
    found = await pages.keyset(
        session,
        CorrectionRow,
        where,
        [CorrectionRow.created_at, CorrectionRow.id],
        "corrections",
        after=after,
        limit=limit,
        newest=newest,
    )
    return pages.Page([await view_of(ctx, session, row) for row in found.items], found.total, found.next)


async def has_open(session: AsyncSession, subject_id: str, record_id: str) -> bool:
    """Whether the subject's record has a request waiting for the issuer (one at most): one
    look-up by the unique ``open_record_id``, nothing decrypted."""
    found = await session.scalar(
        select(CorrectionRow.id).where(
            CorrectionRow.open_record_id == record_id, CorrectionRow.subject_id == subject_id
        )
    )
    return found is not None


async def list_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    *,
    visible: Callable[[int], bool] | None = None,
) -> list[CorrectionView]:
    """Every correction asked of the subject's records, for pages that need them all at once;
    ``visible`` takes a record type's bit: an agent sees corrections of the record types its
    delegation covers, and nothing of the others is even decrypted. Lists answered by the API
    go a page at a time (``page_for_subject``)."""
    rows = list(
        await session.scalars(
            select(CorrectionRow)
            .where(CorrectionRow.subject_id == subject_id)
            .order_by(CorrectionRow.created_at, CorrectionRow.id)
        )
    )
    views = []
    for row in rows:
        if visible is not None:
            record = await session.get(Record, (row.record_id, row.record_version))
            if record is None or not visible(record_type_bits([record.type])):
                continue
        views.append(await view_of(ctx, session, row))
    return views
