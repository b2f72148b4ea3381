"""Who may erase what, on which legal basis, and what an erasure tells everyone else.

A subject erases one record or its whole file on its own request. A registrar answerable for
the subject erases on a legal basis it names (PIPL art. 47), and the scheduled retention job
erases records kept past their rule. Each erasure is carried out in one transaction: the
keys are destroyed and the ciphertexts emptied (``shredding``), grants over a whole file are
revoked, the issuers of the erased records are told, and the access log records the erasure
by ids and codes only. The hashes on chain stay: they reveal nothing.

Grants on chain are revoked by the subject's own signature (the platform never signs for a
subject). So a subject revokes its live grants first — the CLI does it in one go — and the
erasure of a whole file is refused while any is live. An erasure a registrar orders revokes
the grants in the vault at once; on chain they lapse at their expiry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vault import keyring, pages
from vault.accounts import subjects
from vault.context import VaultContext
from vault.db.erasure import ErasureNotice, ErasureRow
from vault.db.grants import GrantRow
from vault.db.models import Department, Record, Subject
from vault.erasure import shredding
from vault.errors import ConflictError, NotFoundError, VaultValueError
from vault.events import VaultEvent
from vault.ids import new_record_id

Scope = Literal["record", "file"]

# Legal bases, by code (PIPL 第四十七条 and the cases a registrar meets at the counter).
BASES: dict[str, str] = {
    "subject-request": "the subject asked for erasure (PIPL art. 47)",
    "purpose-achieved": "the purpose of processing is achieved or can no longer be achieved (PIPL art. 47(1))",
    "retention-expired": "the retention period has expired (PIPL art. 47(2))",
    "consent-withdrawn": "the subject withdrew consent (PIPL art. 47(3))",
    "unlawful-processing": "the data was processed in breach of laws or regulations (PIPL art. 47(4))",
    "court-order": "a court or other competent authority ordered the erasure",
}
REGISTRAR_BASES = ("purpose-achieved", "consent-withdrawn", "unlawful-processing", "court-order")
LIVE_GRANT = ("pending", "active")


@dataclass(frozen=True)
class Requester:
    role: Literal["subject", "registrar", "system"]  # system: the retention job
    name: str  # the subject's key address, the registrar's code, or "retention"
    basis: str


class GrantsStillLive(ConflictError):
    """A subject's whole file cannot be erased while grants over it are live on chain."""

    def __init__(self, grant_ids: list[str]) -> None:
        self.grant_ids = grant_ids
        super().__init__(
            f"revoke your {len(grant_ids)} live grant(s) first (each revocation is signed by your key): "
            + ", ".join(grant_ids)
        )


def check_basis(requester: Requester) -> None:
    allowed = {"subject": ("subject-request",), "registrar": REGISTRAR_BASES, "system": ("retention-expired",)}
    if requester.basis not in allowed[requester.role]:
        raise VaultValueError(
            f"a {requester.role} erases on one of these legal bases: {', '.join(allowed[requester.role])}",
            field="basis",
        )


async def live_grants(session: AsyncSession, subject_id: str, now: int) -> list[GrantRow]:
    rows = await session.scalars(
        select(GrantRow)
        .where(GrantRow.subject_id == subject_id, GrantRow.status.in_(LIVE_GRANT), GrantRow.expires_at > now)
        .order_by(GrantRow.created_at)
    )
    return list(rows.all())


async def erase(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    subject_id: str,
    scope: Scope,
    record_id: str | None,
    requester: Requester,
    now: int,
) -> ErasureRow:
    check_basis(requester)
    # The same lock every sealing path takes (keyring.lock_for_sealing): nothing is sealed for
    # the subject under a key this erasure destroys.
    await keyring.lock_for_sealing(session, [subject_id])
    subject = await session.get(Subject, subject_id, populate_existing=True)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    if subject.erased_at is not None:
        raise ConflictError("this subject's file is already erased")
    revoked: list[str] = []
    if scope == "record":
        if record_id is None:
            raise VaultValueError("name the record to erase", field="record_id")
        await _erasable_record(session, subject_id, record_id)
        shredded = await shredding.shred_record(session, ctx.master, subject_id, record_id, now)
    else:
        grants = await live_grants(session, subject_id, now)
        if grants and requester.role == "subject":
            raise GrantsStillLive([g.id for g in grants])
        for grant in grants:
            grant.status, grant.revoked_at = "revoked", now
            grant.status_reason = f"the subject's file was erased ({requester.basis})"
            revoked.append(grant.id)
        shredded = await shredding.shred_file(session, subject_id, now)
        subject.erased_at = now
    latest = _latest_versions(shredded.records)
    erasure = ErasureRow(
        id=new_record_id(),
        subject_id=subject_id,
        scope=scope,
        record_ids=json.dumps(sorted(latest)),
        requested_by_role=requester.role,
        requested_by=requester.name,
        basis=requester.basis,
        requested_at=now,
        revoked_grants=json.dumps(revoked),
        destroyed_keys=json.dumps(shredded.destroyed_keys),
    )
    session.add(erasure)
    await session.flush()
    for row in latest.values():
        session.add(
            ErasureNotice(
                department_code=row.issuer_code,
                erasure_id=erasure.id,
                record_id=row.id,
                credential_hash=row.credential_hash,
                basis=requester.basis,
                created_at=now,
            )
        )
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            "record.erased" if scope == "record" else "file.erased",
            "ok",
            now,
            requester.role,
            requester.name,
            subject_id=subject_id,
            record_types=tuple(sorted({row.type for row in latest.values()})),
            record_ids=tuple(sorted(latest)),
            reason=requester.basis,
        ),
    )
    return erasure


async def _erasable_record(session: AsyncSession, subject_id: str, record_id: str) -> Record:
    row = await session.scalar(select(Record).where(Record.id == record_id).order_by(Record.version.desc()))
    if row is None or row.subject_id != subject_id:
        raise NotFoundError("record", record_id)
    if row.erased_at is not None:
        raise ConflictError("this record is already erased")
    return row


def _latest_versions(rows: list[Record]) -> dict[str, Record]:
    latest: dict[str, Record] = {}
    for row in rows:
        if row.id not in latest or row.version > latest[row.id].version:
            latest[row.id] = row
    return latest


async def registrar_for(session: AsyncSession, registrar: Department, subject_id: str) -> Subject:
    """The subject, if ``registrar`` answers for it (the one that registered it)."""
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    subjects.check_answerable(registrar, subject)
    return subject


async def list_for_subject(session: AsyncSession, subject_id: str) -> list[ErasureRow]:
    rows = await session.scalars(
        select(ErasureRow).where(ErasureRow.subject_id == subject_id).order_by(ErasureRow.requested_at, ErasureRow.id)
    )
    return list(rows.all())


async def page_for_subject(
    session: AsyncSession, subject_id: str, *, after: str | None = None, limit: int = pages.DEFAULT_LIMIT
) -> pages.Page[ErasureRow]:
    """One page of the subject's erasures, newest first, for its page (``ix_erasures_subject_at``)."""
    where = [ErasureRow.subject_id == subject_id]
    order = [ErasureRow.requested_at, ErasureRow.id]
    return await pages.keyset(session, ErasureRow, where, order, "erasures", after=after, limit=limit, newest=True)
