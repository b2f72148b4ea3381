"""Corrections (纠错): a subject asks the issuing department to correct a record, with a reason;
the issuer accepts or rejects it.

Accepting is one database transaction: version N+1 of the same record id is issued with the
corrected fields (sealed for the new version, a new credential hash, pending until the
submitter anchors it), version N is revoked (the chain revocation is queued; disclosure moves
to version N+1 at once, as grants disclose the newest disclosable version of each record), and
every department that read the record under a grant is notified. Each step is an event in the
same transaction, so the access log holds all of them or none.

The reason, the corrected values and the decision note are sealed under the subject's key;
events and notices name only ids, versions and department codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_bits
from keys import Sealed, open_sealed, seal
from vault import keyring
from vault.accounts import agents
from vault.accounts.departments import Role
from vault.context import VaultContext
from vault.credentials import correction_notices, records, status_list
from vault.credentials.commitments import canonical_json
from vault.credentials.documents import (
    DocumentSpec,
    build_document,
    check_spec,
    credential_hash,
)
from vault.db.corrections import CorrectionRow
from vault.db.models import Department, Record, Subject
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent
from vault.ids import new_record_id

MAX_REASON = 500
MAX_NOTE = 500
STATUSES = ("requested", "accepted", "rejected")


@dataclass(frozen=True)
class Requester:
    """Who asks: the subject itself, or an agent or guardian acting for it."""

    subject_id: str
    address: str
    role: str  # subject | delegate


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


@dataclass(frozen=True)
class Decision:
    correction: CorrectionView
    new_record: records.RecordView | None
    notified: list[str]


# -- sealing -----------------------------------------------------------------------------------


def _aad(subject_id: str, correction_id: str, part: str) -> bytes:
    return keyring.correction_aad(subject_id, correction_id, part)


async def _seal(
    ctx: VaultContext, session: AsyncSession, subject_id: str, correction_id: str, part: str, value: Any
) -> Sealed:
    kek = await keyring.active_key(session, ctx.master, subject_id)
    return seal(canonical_json(value), _aad(subject_id, correction_id, part), kek)


async def _open(ctx: VaultContext, session: AsyncSession, row: CorrectionRow) -> tuple[dict[str, Any], str | None]:
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


async def _view(
    ctx: VaultContext, session: AsyncSession, row: CorrectionRow, *, previous: bool = False
) -> CorrectionView:
    request, note = await _open(ctx, session, row)
    fields: dict[str, Any] = request["fields"]
    old = await session.get(Record, (row.record_id, row.record_version))
    before = None
    if previous and old is not None:
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


# -- checks ------------------------------------------------------------------------------------


def _text(value: str, name: str, limit: int, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise VaultValueError(f"{name} must say why, in words", field=name)
    if len(text) > limit:
        raise VaultValueError(f"{name} must be at most {limit} characters", field=name)
    return text


def _merged(old_fields: dict[str, Any], changes: Any) -> dict[str, Any]:
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


def _spec(document: dict[str, Any], row: Record, fields: dict[str, Any]) -> DocumentSpec:
    return DocumentSpec(
        type=row.type,
        title=str(document.get("title", "")),
        fields=fields,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def _not_revoked(row: Record) -> None:
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
    reason = _text(reason, "reason", MAX_REASON, required=True)
    row = await records.latest(session, record_id)
    if row.subject_id != requester.subject_id:
        raise NotFoundError("record", record_id)  # as for reads: nothing learnt of others' ids
    if requester.role != "subject":
        delegation = await agents.active_for(session, row.subject_id, requester.address, now)
        if delegation is None or record_type_bits([row.type]) & ~delegation.record_types:
            raise PermissionDeniedError(f"your delegation does not cover {row.type} records of this subject")
    _not_revoked(row)
    document = await records.decrypt(ctx, session, row)
    check_spec(_spec(document, row, _merged(document.get("fields", {}), fields)))
    open_one = await session.scalar(select(CorrectionRow.id).where(CorrectionRow.open_record_id == row.id))
    if open_one is not None:
        raise ConflictError(
            f"this record already has an open correction request ({open_one}); wait for the issuer's decision"
        )
    correction_id = str(new_record_id())
    sealed = await _seal(ctx, session, row.subject_id, correction_id, "request", {"reason": reason, "fields": fields})
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
    return await _view(ctx, session, correction)


async def list_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    *,
    visible: Callable[[int], bool] | None = None,
) -> list[CorrectionView]:
    """``visible`` takes a record type's bit: an agent sees corrections of the record types its
    delegation covers, and nothing of the others is even decrypted."""
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
        views.append(await _view(ctx, session, row))
    return views


# -- the issuer decides ------------------------------------------------------------------------


async def list_for_issuer(
    ctx: VaultContext,
    session: AsyncSession,
    department: Department,
    *,
    status: str | None,
    now: int,
) -> list[CorrectionView]:
    """The requests about this department's records, decrypted: the issuer needs them to decide.
    Reading them is an access to personal data, so it is logged (one event per subject)."""
    if status is not None and status not in STATUSES:
        raise VaultValueError(f"status must be one of {', '.join(STATUSES)}", field="status")
    query = select(CorrectionRow).where(CorrectionRow.issuer_code == department.code)
    if status is not None:
        query = query.where(CorrectionRow.status == status)
    rows = list(await session.scalars(query.order_by(CorrectionRow.created_at, CorrectionRow.id)))
    views = [await _view(ctx, session, row, previous=True) for row in rows]
    by_subject: dict[str, list[str]] = {}
    for row in rows:
        by_subject.setdefault(row.subject_id, []).append(row.record_id)
    for subject_id, ids in by_subject.items():
        await ctx.events.emit(
            session,
            VaultEvent(
                "correction.read",
                "ok",
                now,
                "department",
                department.code,
                subject_id=subject_id,
                record_ids=tuple(dict.fromkeys(ids)),
            ),
        )
    return views


async def _decidable(session: AsyncSession, department: Department, correction_id: str) -> CorrectionRow:
    row = await session.get(CorrectionRow, correction_id)
    if row is None:
        raise NotFoundError("correction", correction_id)
    if row.issuer_code != department.code:
        raise PermissionDeniedError("only the department that issued the record decides on its correction")
    if row.status != "requested":
        raise ConflictError(f"this correction was already {row.status}")
    return row


async def _close(
    ctx: VaultContext,
    session: AsyncSession,
    row: CorrectionRow,
    status: str,
    official: str,
    note: str,
    now: int,
    new_version: int | None = None,
) -> None:
    # The guard on status makes two concurrent decisions end in one: the loser changes no row.
    values: dict[str, Any] = {
        "status": status,
        "open_record_id": None,
        "decided_by": official,
        "decided_at": now,
        "new_version": new_version,
    }
    if note:
        sealed = await _seal(ctx, session, row.subject_id, row.id, "note", note)
        values.update(note_key=sealed.wrapped_key, note_body=sealed.body)
    result = await session.execute(
        update(CorrectionRow)
        .where(CorrectionRow.id == row.id, CorrectionRow.status == "requested")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise ConflictError("this correction was decided meanwhile")
    await session.refresh(row)


async def reject(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    department: Department,
    official: str,
    correction_id: str,
    note: str,
    now: int,
) -> Decision:
    note = _text(note, "note", MAX_NOTE, required=True)
    row = await _decidable(session, department, correction_id)
    await _close(ctx, session, row, "rejected", official, note, now)
    record = await session.get(Record, (row.record_id, row.record_version))
    await ctx.events.emit(
        session,
        VaultEvent(
            "correction.rejected",
            "ok",
            now,
            "department",
            department.code,
            subject_id=row.subject_id,
            record_types=(record.type,) if record else (),
            record_ids=(row.record_id,),
            reason=f"correction {row.id}",
        ),
    )
    return Decision(await _view(ctx, session, row), None, [])


async def accept(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    department: Department,
    official: str,
    correction_id: str,
    note: str,
    now: int,
) -> Decision:
    note = _text(note, "note", MAX_NOTE, required=False)
    row = await _decidable(session, department, correction_id)
    if not department.active or not department.roles & Role.ISSUER:
        raise PermissionDeniedError(f"department {department.code!r} is not an active issuer")
    old = await records.latest(session, row.record_id)
    if old.version != row.record_version:
        raise ConflictError(
            f"the record is at version {old.version} now, not {row.record_version}; reject this request"
        )
    _not_revoked(old)
    if old.status != "anchored":
        raise ConflictError(
            f"version {old.version} of this record is {old.status}, not anchored yet; "
            "accept once it is anchored (seconds), so that it can be revoked on chain"
        )
    request_, _ = await _open(ctx, session, row)
    document = await records.decrypt(ctx, session, old)
    fields = _merged(document.get("fields", {}), request_["fields"])
    new_version = old.version + 1

    # Version N: revoked on chain through the outbox, and no longer disclosed from now on.
    await records.revoke(
        ctx,
        session,
        issuer=department,
        record_id=old.id,
        reason=f"corrected: superseded by version {new_version}",
        now=now,
    )
    new = await _issue_version(ctx, session, department, old, document, fields, new_version, now)
    await _close(ctx, session, row, "accepted", official, note, now, new_version)
    notified = await correction_notices.notify(ctx, session, department, row, old, new_version, now)
    await ctx.events.emit(
        session,
        VaultEvent(
            "correction.accepted",
            "ok",
            now,
            "department",
            department.code,
            subject_id=row.subject_id,
            record_types=(old.type,),
            record_ids=(old.id,),
            fields=tuple(sorted(request_["fields"])),
            reason=f"correction {row.id}: version {old.version} -> {new_version}",
        ),
    )
    return Decision(await _view(ctx, session, row), new, notified)


async def _issue_version(
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
        _spec(document, old, fields),
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
