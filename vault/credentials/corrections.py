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

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vault import pages
from vault.accounts.departments import Role
from vault.context import VaultContext
from vault.credentials import correction_notices, records
from vault.credentials.corrected_versions import issue_version
from vault.credentials.correction_requests import (
    MAX_REASON,
    Requester,
    check_not_revoked,
    checked_text,
    has_open,
    list_for_subject,
    merged_fields,
    page_for_subject,
    request,
)
from vault.credentials.correction_views import CorrectionView, open_parts, seal_part, view_of
from vault.db.corrections import CorrectionRow
from vault.db.models import Department, Record
from vault.errors import ConflictError, NotFoundError, PermissionDeniedError, VaultValueError
from vault.events import VaultEvent

# A correction as it is shown (``correction_views``), the subject's request
# (``correction_requests``) and the version an acceptance issues (``corrected_versions``) are
# modules of their own; the issuer's decision is here, and the names callers use are kept here.
__all__ = [
    "MAX_NOTE",
    "MAX_REASON",
    "STATUSES",
    "CorrectionView",
    "Decision",
    "Requester",
    "accept",
    "has_open",
    "list_for_issuer",
    "list_for_subject",
    "page_for_issuer",
    "page_for_subject",
    "reject",
    "request",
]

MAX_NOTE = 500
STATUSES = ("requested", "accepted", "rejected", "erased")  # erased: closed with its record


@dataclass(frozen=True)
class Decision:
    correction: CorrectionView
    new_record: records.RecordView | None
    notified: list[str]


# -- the issuer decides ------------------------------------------------------------------------


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise VaultValueError(f"status must be one of {', '.join(STATUSES)}", field="status")


async def list_for_issuer(
    ctx: VaultContext,
    session: AsyncSession,
    department: Department,
    *,
    status: str | None,
    now: int,
) -> list[CorrectionView]:
    """The requests about this department's records, decrypted: the issuer needs them to decide.
    Reading them is an access to personal data, so it is logged (one event per subject). Every
    one at once, for pages; the API answers a page at a time (``page_for_issuer``)."""
    _check_status(status)
    query = select(CorrectionRow).where(CorrectionRow.issuer_code == department.code)
    if status is not None:
        query = query.where(CorrectionRow.status == status)
    rows = list(await session.scalars(query.order_by(CorrectionRow.created_at, CorrectionRow.id)))
    return await _read_by_issuer(ctx, session, department, rows, now)


async def page_for_issuer(
    ctx: VaultContext,
    session: AsyncSession,
    department: Department,
    *,
    status: str | None,
    now: int,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    newest: bool = False,
    decided: bool = False,
) -> pages.Page[CorrectionView]:
    """One page of the requests about this department's records (only those in ``status``,
    if given, or only those decided, accepted or rejected, with ``decided``), oldest first
    (newest first with ``newest``, as the counter page lists them), decrypted, and how many
    there are. Only the page's rows are opened and logged as read; the indexes
    ``ix_corrections_issuer_created`` and ``ix_corrections_issuer_status`` walk them in order."""
    _check_status(status)
    where = [CorrectionRow.issuer_code == department.code]
    if status is not None:
        where.append(CorrectionRow.status == status)
    if decided:
        where.append(CorrectionRow.status != "requested")
    found = await pages.keyset(
        session,
        CorrectionRow,
        where,
        [CorrectionRow.created_at, CorrectionRow.id],
        "issuer-corrections",
        after=after,
        limit=limit,
        newest=newest,
    )
    return pages.Page(await _read_by_issuer(ctx, session, department, found.items, now), found.total, found.next)


async def _read_by_issuer(
    ctx: VaultContext, session: AsyncSession, department: Department, rows: list[CorrectionRow], now: int
) -> list[CorrectionView]:
    views = [await view_of(ctx, session, row, previous=True) for row in rows]
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
        sealed = await seal_part(ctx, session, row.subject_id, row.id, "note", note)
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
    note = checked_text(note, "note", MAX_NOTE, required=True)
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
    return Decision(await view_of(ctx, session, row), None, [])


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
    note = checked_text(note, "note", MAX_NOTE, required=False)
    row = await _decidable(session, department, correction_id)
    if not department.active or not department.roles & Role.ISSUER:
        raise PermissionDeniedError(f"department {department.code!r} is not an active issuer")
    old = await records.latest(session, row.record_id)
    if old.version != row.record_version:
        raise ConflictError(
            f"the record is at version {old.version} now, not {row.record_version}; reject this request"
        )
    check_not_revoked(old)
    if old.status != "anchored":
        raise ConflictError(
            f"version {old.version} of this record is {old.status}, not anchored yet; "
            "accept once it is anchored (seconds), so that it can be revoked on chain"
        )
    request_, _ = await open_parts(ctx, session, row)
    document = await records.decrypt(ctx, session, old)
    fields = merged_fields(document.get("fields", {}), request_["fields"])
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
    new = await issue_version(ctx, session, department, old, document, fields, new_version, now)
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
    return Decision(await view_of(ctx, session, row), new, notified)
