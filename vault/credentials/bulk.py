"""Bulk issuance: thousands of credentials in one request, all or nothing.

Every item is checked before anything is written (subject known, identifier well formed,
document spec valid); any bad item refuses the whole request, which names every problem
(up to ``MAX_PROBLEMS``, counting the rest) by item index, and subjects as the request named them.
Then each record is built and sealed exactly as ``vault.credentials.records.issue`` seals one (the same
``sealed_row``), with each subject's key-encryption key unwrapped once per request, and the
rows are inserted in one statement per chunk, in the request's transaction.

The records are left *pending* with one ``created_at``; the submitter batches them into one
Merkle root per issuer (``vault.credentials.anchoring``), so a request of up to ``MAX_ITEMS`` credentials
is anchored in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Kek, unwrap_kek
from vault import crypto_suite, keyring
from vault.accounts import subjects
from vault.context import VaultContext
from vault.credentials import licence_fields, status_list
from vault.credentials.documents import DocumentSpec, check_spec
from vault.credentials.records import check_issuer, sealed_row
from vault.db.models import AnchorBatch, Department, Record, Subject, SubjectKey
from vault.errors import InvalidItems, ItemProblem, VaultValueError
from vault.events import VaultEvent
from vault.ids import Hash32, RecordId

MAX_ITEMS = 10_000
# One audit entry names at most this many record ids (one entry per subject, split beyond it).
EVENT_IDS = 1_000
_CHUNK = 500  # ids per IN (...) query and rows per INSERT statement


@dataclass(frozen=True)
class BulkItem:
    """One credential to issue: the subject by pseudonymous id, or by kind and raw identifier."""

    spec: DocumentSpec
    subject_id: str | None = None
    kind: str | None = None
    identifier: str | None = None


@dataclass(frozen=True)
class Issued:
    id: RecordId
    subject_id: str
    credential_hash: Hash32


# Problems named in one refusal; the rest are counted. Enough to fix a file in one pass
# without a 10,000-line answer.
MAX_PROBLEMS = 100


def _subject_of(
    ctx: VaultContext,
    index: int,
    item: BulkItem,
    cache: dict[tuple[str, str], str],
    problems: list[ItemProblem],
) -> str | None:
    if item.subject_id is not None:
        return item.subject_id
    if item.kind is None or item.identifier is None:
        problems.append(ItemProblem(index, "subject", "name the subject by subject_id, or by kind and identifier"))
        return None
    key = (item.kind, item.identifier)
    if key not in cache:
        try:
            cache[key] = subjects.subject_id_for(ctx, item.kind, item.identifier)
        except VaultValueError as exc:
            problems.append(ItemProblem(index, "subject.identifier", exc.reason))
            return None
    return cache[key]


def _unknown(item: BulkItem, sid: str, known: bool) -> str:
    """Why a subject cannot receive credentials, named as the request named it: an issuer knows
    its people by ID number or credit code, not by the vault's pseudonymous id."""
    who = f"{item.kind} with identifier {item.identifier}" if item.identifier is not None else f"subject {sid}"
    return f"no {who} is registered" if not known else f"{who} has no active key (its file was erased)"


async def _keks(
    ctx: VaultContext,
    session: AsyncSession,
    wanted: list[str],
) -> tuple[dict[str, Kek], dict[str, str], set[str]]:
    """Each known subject's active KEK, unwrapped once, and its key (the credentials' holder);
    and the subjects that are registered but have no active KEK."""
    known: dict[str, str] = {}
    wrapped: dict[str, tuple[int, bytes]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        await keyring.lock_for_sealing(session, chunk)
        known.update(
            (sid, address)
            for sid, address in await session.execute(
                select(Subject.id, Subject.auth_address).where(Subject.id.in_(chunk))
            )
        )
        rows = await session.execute(
            select(SubjectKey.subject_id, SubjectKey.version, SubjectKey.wrapped).where(
                SubjectKey.subject_id.in_(chunk), SubjectKey.active.is_(True)
            )
        )
        for sid, version, blob in rows:
            wrapped[sid] = (int(version), bytes(blob))
    keyless = {sid for sid in known if sid not in wrapped}
    writing = await crypto_suite.writing(session)  # a re-encryption's target, if one runs
    keks = {
        sid: keyring.for_writing(unwrap_kek(ctx.master, keyring.kek_id(sid), v, blob), writing)
        for sid, (v, blob) in wrapped.items()
    }
    return keks, known, keyless


async def issue_many(
    ctx: VaultContext,
    session: AsyncSession,
    *,
    issuer: Department,
    items: list[BulkItem],
    now: int,
    dry_run: bool = False,
) -> list[Issued]:
    """Issue every item or none; returns the records in the items' order. With ``dry_run``
    only the checks run (the same ones, refusing the same way) and nothing is written."""
    check_issuer(issuer)
    if not items:
        raise VaultValueError("give at least one item", field="items")
    if len(items) > MAX_ITEMS:
        raise VaultValueError(f"at most {MAX_ITEMS} items per request, not {len(items)}", field="items")
    # 1. Check every item, before anything is sealed or written; refuse with all problems found.
    cache: dict[tuple[str, str], str] = {}
    problems: list[ItemProblem] = []
    found: list[str | None] = []
    for index, item in enumerate(items):
        found.append(_subject_of(ctx, index, item, cache, problems))
        try:
            check_spec(item.spec)
            licence_fields.check_issuer_fields(
                item.spec.fields, issuer_name=issuer.name, authority_code=issuer.authority_code
            )
        except VaultValueError as exc:
            problems.append(ItemProblem(index, exc.field, exc.reason))
    keks, holders, keyless = await _keks(ctx, session, list(dict.fromkeys(s for s in found if s is not None)))
    for index, (item, sid) in enumerate(zip(items, found, strict=False)):
        if sid is not None and sid not in keks:
            problems.append(ItemProblem(index, "subject", _unknown(item, sid, sid in keyless)))
    if problems:
        problems.sort(key=lambda p: p.index)  # stable: an item's problems keep their order
        raise InvalidItems(problems[:MAX_PROBLEMS], total=len(problems), count=len(items))
    subject_ids = [sid for sid in found if sid is not None]
    if dry_run:
        return []
    # 2. Seal and insert.
    rows = []
    first_index = await status_list.allocate(session, len(items))
    for offset, (item, sid) in enumerate(zip(items, subject_ids, strict=False)):
        values, _document = sealed_row(
            item.spec,
            issuer=issuer,
            subject_id=sid,
            holder=holders[sid],
            kek=keks[sid],
            now=now,
            status_index=first_index + offset,
        )
        rows.append(values)
    for start in range(0, len(rows), _CHUNK):
        await session.execute(insert(Record), rows[start : start + _CHUNK])
    # 3. The access log: one entry per subject affected (split if very many), naming every id.
    by_subject: dict[str, list[dict[str, object]]] = {}
    for values in rows:
        by_subject.setdefault(str(values["subject_id"]), []).append(values)
    for sid, mine in by_subject.items():
        for start in range(0, len(mine), EVENT_IDS):
            part = mine[start : start + EVENT_IDS]
            await ctx.events.emit(
                session,
                VaultEvent(
                    "record.issued",
                    "ok",
                    now,
                    "department",
                    issuer.code,
                    subject_id=sid,
                    record_types=tuple(sorted({str(v["type"]) for v in part})),
                    record_ids=tuple(str(v["id"]) for v in part),
                ),
            )
    return [
        Issued(
            id=RecordId(str(v["id"])),
            subject_id=str(v["subject_id"]),
            credential_hash=Hash32(str(v["credential_hash"])),
        )
        for v in rows
    ]


@dataclass(frozen=True)
class AnchorStatus:
    id: str
    status: str  # a record's status, or "unknown": not a record this issuer issued
    root: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None


async def statuses(session: AsyncSession, *, issuer: Department, ids: list[str]) -> list[AnchorStatus]:
    """Where the issuer's records stand (latest version of each), in the order asked; for an
    issuer to wait until a bulk run is anchored without reading any record's contents."""
    found: dict[str, AnchorStatus] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        query = (
            select(Record.id, Record.status, Record.batch_root, AnchorBatch.tx_hash, AnchorBatch.block_number)
            .outerjoin(AnchorBatch, AnchorBatch.root == Record.batch_root)
            .where(Record.id.in_(unique[start : start + _CHUNK]), Record.issuer_code == issuer.code)
            .order_by(Record.version)
        )
        for rid, status, root, tx_hash, block in await session.execute(query):
            found[rid] = AnchorStatus(rid, status, root, tx_hash, block)  # a later version wins
    return [found.get(rid) or AnchorStatus(rid, "unknown") for rid in ids]
