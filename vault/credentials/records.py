"""Records in a subject's vault: issued by a department, sealed, anchored, read back.

Issuing writes the sealed record and leaves it *pending*; the submitter batches pending
records into one Merkle root per issuer and anchors it, so the API never waits for a block.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Kek, seal
from vault import clock, keyring, outbox, pages
from vault.accounts.departments import Role
from vault.context import VaultContext
from vault.credentials import holdings, licence_fields, status_list
from vault.credentials.commitments import canonical_json
from vault.credentials.documents import DocumentSpec, build_document, credential_hash
from vault.db.models import AnchorBatch, Department, Record, Subject
from vault.errors import ConflictError, ErasedError, NotFoundError, PermissionDeniedError
from vault.events import VaultEvent
from vault.ids import Hash32, RecordId, new_record_id
from vault.keyring import KekLookup


@dataclass(frozen=True)
class Anchor:
    root: Hash32
    proof: list[Hash32]
    tx_hash: str | None
    block_number: int | None
    # sm suite: the issuer's SM2 signature of the batch root (vault.credentials.root_signatures).
    sm2_signature: str | None = None


@dataclass(frozen=True)
class RecordView:
    id: RecordId
    version: int
    subject_id: str
    type: str
    issuer_code: str
    status: str
    status_reason: str | None
    credential_hash: Hash32
    valid_from: int
    valid_until: int
    created_at: int
    anchor: Anchor | None
    document: dict[str, Any] | None = None


def _anchor(row: Record, batch: AnchorBatch | None) -> Anchor | None:
    if row.batch_root is None or row.proof is None:
        return None
    return Anchor(
        root=Hash32(row.batch_root),
        proof=[Hash32(p) for p in json.loads(row.proof)],
        tx_hash=batch.tx_hash if batch else None,
        block_number=batch.block_number if batch else None,
        sm2_signature=batch.sm2_signature if batch else None,
    )


async def view_of(session: AsyncSession, row: Record, document: dict[str, Any] | None = None) -> RecordView:
    """A record's view, with its anchor if it has one."""
    batch = await session.get(AnchorBatch, row.batch_root) if row.batch_root else None
    return _view(row, batch, document)


def _view(row: Record, batch: AnchorBatch | None, document: dict[str, Any] | None) -> RecordView:
    """Every RecordView is built here."""
    return RecordView(
        id=RecordId(row.id),
        version=row.version,
        subject_id=row.subject_id,
        type=row.type,
        issuer_code=row.issuer_code,
        status=row.status,
        status_reason=row.status_reason,
        credential_hash=Hash32(row.credential_hash),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
        anchor=_anchor(row, batch),
        document=document,
    )


def check_issuer(issuer: Department) -> None:
    if not issuer.active or not issuer.roles & Role.ISSUER:
        raise PermissionDeniedError(f"department {issuer.code!r} is not an active issuer")


def sealed_row(
    spec: DocumentSpec,
    *,
    issuer: Department,
    subject_id: str,
    holder: str,
    kek: Kek,
    now: int,
    status_index: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One new record, built, hashed and sealed under ``kek``: (column values, document).
    Shared by ``issue`` and bulk issuance (``vault.credentials.bulk``), so both store the same thing."""
    record_id = new_record_id()
    document = build_document(
        spec,
        subject_id=subject_id,
        holder=holder,
        issuer_code=issuer.code,
        issuer_address=issuer.chain_address,
        record_id=record_id,
        record_version=1,
        issued_at=now,
        status_index=status_index,
    )
    sealed = seal(canonical_json(document), keyring.record_aad(subject_id, record_id, 1), kek)
    values: dict[str, Any] = {
        "id": record_id,
        "version": 1,
        "subject_id": subject_id,
        "type": spec.type,
        "issuer_code": issuer.code,
        "wrapped_key": sealed.wrapped_key,
        "body": sealed.body,
        "credential_hash": credential_hash(document),
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "status": "pending",
        "created_at": now,
        "status_index": status_index,
    }
    return values, document


async def issue(
    ctx: VaultContext, session: AsyncSession, *, issuer: Department, subject_id: str, spec: DocumentSpec, now: int
) -> RecordView:
    check_issuer(issuer)
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFoundError("subject", subject_id)
    if subject.erased_at is not None:
        raise ConflictError("this subject's file was erased: nothing more can be added to it")
    licence_fields.check_issuer_fields(spec.fields, issuer_name=issuer.name, authority_code=issuer.authority_code)
    kek = await keyring.active_key(session, ctx.master, subject_id)
    values, document = sealed_row(
        spec,
        issuer=issuer,
        subject_id=subject_id,
        holder=subject.auth_address,
        kek=kek,
        now=now,
        status_index=await status_list.allocate(session),
    )
    row = Record(**values)
    session.add(row)
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            "record.issued",
            "ok",
            now,
            "department",
            issuer.code,
            subject_id=subject_id,
            record_types=(spec.type,),
            record_ids=(row.id,),
        ),
    )
    return await view_of(session, row, document)


async def decrypt(
    ctx: VaultContext,
    session: AsyncSession,
    row: Record,
    lookup: KekLookup | None = None,
) -> dict[str, Any]:
    """``lookup``: the subject's keys, when a caller opens many of its records (read them once)."""
    if row.erased_at is not None:
        # Its keys are destroyed: say so, rather than fail as a tampered ciphertext would.
        raise ErasedError("this record", row.erased_at)
    if lookup is None:
        lookup = await keyring.lookup_for(session, ctx.master, row.subject_id)
    return holdings.open_document(row.subject_id, row, lookup)


async def page_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    *,
    after: str | None = None,
    limit: int = pages.DEFAULT_LIMIT,
    now: int | None = None,
) -> pages.Page[RecordView]:
    """One page of the subject's records (every version), oldest first, decrypted, and how many
    there are in all. Only the page's rows are read, opened and logged as read: a page costs
    the same for 10 records or 10,000 (the index ``ix_records_subject_created`` walks them in
    order, the total is a ``COUNT``)."""
    found = await pages.keyset(
        session,
        Record,
        [Record.subject_id == subject_id, Record.erased_at.is_(None)],
        [Record.created_at, Record.id, Record.version],
        "records",
        after=after,
        limit=limit,
    )
    views = await _opened(ctx, session, subject_id, found.items)
    await _read_by_subject(ctx, session, subject_id, [v.id for v in views], now)
    return pages.Page(views, found.total, found.next)


async def list_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    now: int | None = None,
) -> list[RecordView]:
    """Every record of the subject, decrypted: for pages that need them all at once (the
    fields a grant may cover); lists shown to people go a page at a time (``page_for_subject``)."""
    rows = list(
        await session.scalars(
            select(Record)
            .where(Record.subject_id == subject_id, Record.erased_at.is_(None))
            .order_by(Record.created_at, Record.id, Record.version)
        )
    )
    views = await _opened(ctx, session, subject_id, rows)
    await _read_by_subject(ctx, session, subject_id, [row.id for row in rows], now)
    return views


async def titles_for_subject(
    ctx: VaultContext, session: AsyncSession, subject_id: str, record_ids: Collection[str], now: int | None = None
) -> dict[str, str]:
    """The titles of these records of the subject (the newest version's; the id when it has
    none), for a page that names the records its items are about: only these are read, opened
    and logged as read, however many records the subject holds."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return {}
    newest: dict[str, Record] = {}
    found = await session.scalars(
        select(Record)
        .where(Record.subject_id == subject_id, Record.id.in_(wanted), Record.erased_at.is_(None))
        .order_by(Record.version)
    )
    for row in found:
        newest[row.id] = row
    views = await _opened(ctx, session, subject_id, list(newest.values()))
    await _read_by_subject(ctx, session, subject_id, [v.id for v in views], now)
    return {v.id: str((v.document or {}).get("title", v.id)) for v in views}


async def _opened(ctx: VaultContext, session: AsyncSession, subject_id: str, rows: list[Record]) -> list[RecordView]:
    """The rows' views, decrypted with the subject's keys read once and their batches in one query."""
    if not rows:
        return []
    lookup = await keyring.lookup_for(session, ctx.master, subject_id)
    roots = {row.batch_root for row in rows if row.batch_root}
    batches = (
        {b.root: b for b in await session.scalars(select(AnchorBatch).where(AnchorBatch.root.in_(roots)))}
        if roots
        else {}
    )
    return [
        _view(row, batches.get(row.batch_root) if row.batch_root else None, await decrypt(ctx, session, row, lookup))
        for row in rows
    ]


async def _read_by_subject(
    ctx: VaultContext, session: AsyncSession, subject_id: str, ids: list[str], now: int | None
) -> None:
    # The subject reading its own file is an access too; "who accessed my data" filters it out.
    await ctx.events.emit(
        session,
        VaultEvent(
            "record.read",
            "ok",
            clock.now() if now is None else now,
            "subject",
            subject_id,
            subject_id=subject_id,
            record_ids=tuple(ids),
        ),
    )


async def latest(session: AsyncSession, record_id: str) -> Record:
    row = await session.scalar(select(Record).where(Record.id == record_id).order_by(Record.version.desc()))
    if row is None:
        raise NotFoundError("record", record_id)
    return row


async def read_for_subject(
    ctx: VaultContext,
    session: AsyncSession,
    subject_id: str,
    record_id: str,
    now: int | None = None,
) -> RecordView:
    row = await latest(session, record_id)
    if row.subject_id != subject_id:
        # Same answer as a missing record: a subject learns nothing about others' ids.
        raise NotFoundError("record", record_id)
    if row.erased_at is not None:
        raise ErasedError("this record", row.erased_at)
    view = await view_of(session, row, await decrypt(ctx, session, row))
    await _read_by_subject(ctx, session, subject_id, [row.id], now)
    return view


async def by_hash(session: AsyncSession, credential_hash_: str) -> Record | None:
    return await session.scalar(select(Record).where(Record.credential_hash == credential_hash_.lower()))


class Standing(NamedTuple):
    status: str | None  # None: not issued here
    erased_at: int | None  # None: not erased (or not here)


async def standing_by_hash(session: AsyncSession, credential_hash_: str) -> Standing:
    """The status of the record with this credential hash and when it was erased, in one
    look-up; its sealed body is not loaded."""
    row = (
        await session.execute(
            select(Record.status, Record.erased_at).where(Record.credential_hash == credential_hash_.lower())
        )
    ).first()
    return Standing(None, None) if row is None else Standing(row.status, row.erased_at)


async def revoke(
    ctx: VaultContext, session: AsyncSession, *, issuer: Department, record_id: str, reason: str, now: int
) -> RecordView:
    row = await latest(session, record_id)
    if row.issuer_code != issuer.code:
        raise PermissionDeniedError("only the issuing department may revoke this record")
    if row.status in ("revoked", "revoking"):
        raise ConflictError("this record is already revoked")
    if row.status != "anchored" or row.batch_root is None or row.proof is None:
        raise ConflictError("this record is not anchored yet; revoke it once it is anchored")
    batch = await session.get(AnchorBatch, row.batch_root)
    assert batch is not None
    if batch.size == 1:
        outbox.enqueue(
            session,
            "revoke",
            issuer.chain_key_name,
            {"root": row.batch_root, "record": row.id, "version": row.version},
            now,
        )
    else:
        outbox.enqueue(
            session,
            "revoke_leaf",
            issuer.chain_key_name,
            {
                "root": row.batch_root,
                "leaf": row.credential_hash,
                "proof": json.loads(row.proof),
                "record": row.id,
                "version": row.version,
            },
            now,
        )
    row.status = "revoking"
    row.status_reason = reason[:500] if reason else None
    await session.flush()
    await ctx.events.emit(
        session,
        VaultEvent(
            "record.revoked",
            "ok",
            now,
            "department",
            issuer.code,
            subject_id=row.subject_id,
            record_types=(row.type,),
            record_ids=(row.id,),
            reason=row.status_reason,
        ),
    )
    return await view_of(session, row)
