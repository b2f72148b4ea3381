"""A subject's view of the access log (使用知情): who accessed its data, each entry with an
inclusion proof against the latest head anchored on chain. Proofs are RFC 9162 and checkable
with ``vault.audit.tree`` alone: ``verify_access_entry`` is what a subject's client runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.hexadecimal import decode_hex, encode_hex
from sqlalchemy import ColumnElement, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chain.consent import record_type_bits
from vault.audit import log as audit_log
from vault.audit.heads import hex_list
from vault.audit.proofs import inclusion_proof, inclusion_ranges
from vault.audit.trace import DEPARTMENT_ROLES, Order, check_page, page_rows, paged
from vault.audit.tree import leaf_hash, perfect_subtrees, verify_inclusion
from vault.db.audit import AuditEntry, AuditHead


@dataclass(frozen=True)
class AnchoredHead:
    tree_size: int
    root: str
    signed_at: int
    signature: str
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True)
class EntryProof:
    """An inclusion proof of one entry against an anchored head."""

    tree_size: int
    root: str
    path: list[str]
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True)
class Access:
    seq: int
    at: int
    action: str
    outcome: str
    actor_role: str
    actor: str
    department: str | None
    official: str | None
    purpose_code: int | None
    grant_id: str | None
    record_types: list[str]
    fields: list[str]
    reason: str | None
    leaf_hash: str
    entry: dict[str, Any]
    proof: EntryProof | None
    pending: bool  # newer than the latest anchored head: its proof comes with the next one


@dataclass(frozen=True)
class AccessLog:
    subject_id: str
    head: AnchoredHead | None
    entries: list[Access] = field(default_factory=list)
    next: int | None = None


def about_subject(subject_id: str) -> list[ColumnElement[bool]]:
    """Entries about the subject made by anyone but the subject reading its own file."""
    e = AuditEntry
    return [e.subject_id == subject_id.lower(), not_(and_(e.action == "record.read", e.actor_role == "subject"))]


# What counts as a department using a person's data: reading it under a grant, reading a
# record, verifying a credential the person showed. Issuing, correcting or registering do not.
USES = ("grant.used", "record.read", "credential.verified")


async def accesses_since(session: AsyncSession, subject_id: str, since: int) -> int:
    """How many times departments used the subject's data since ``since``: the number a person's
    home page puts up front (本月被访问 N 次), counted by the database, whatever the log holds."""
    e = AuditEntry
    query = (
        select(func.count())
        .select_from(e)
        .where(
            *about_subject(subject_id),
            e.at >= since,
            e.action.in_(USES),
            e.actor_role.in_(DEPARTMENT_ROLES),
            e.outcome == "ok",
        )
    )
    return int(await session.scalar(query) or 0)


async def latest_anchored(session: AsyncSession) -> AuditHead | None:
    query = select(AuditHead).where(AuditHead.status == "anchored").order_by(AuditHead.tree_size.desc()).limit(1)
    head: AuditHead | None = await session.scalar(query)
    return head


# An agent's page is filtered after reading: at most this many rows are looked at per page
# (the cursor then points past them), so a page costs the same whatever the log holds.
SCOPED_SCAN = 5_000


def _within(row: AuditEntry, record_types: int) -> bool:
    names = json.loads(row.entry).get("record_types") or []
    try:
        bits = record_type_bits(names)
    except ValueError:
        return False
    return bits != 0 and not bits & ~record_types


async def _scoped_rows(
    session: AsyncSession,
    subject_id: str,
    record_types: int,
    after_seq: int | None,
    order: Order,
    limit: int,
) -> tuple[list[AuditEntry], int | None]:
    kept: list[AuditEntry] = []
    cursor, scanned = after_seq, 0
    while True:
        rows, more = await page_rows(session, paged(about_subject(subject_id), cursor, order), order, max(limit, 500))
        for row in rows:
            scanned += 1
            cursor = int(row.seq)
            if _within(row, record_types):
                kept.append(row)
            if len(kept) == limit or scanned >= SCOPED_SCAN:
                last = row is rows[-1]
                return kept, (None if last and more is None else cursor)
        if more is None:
            return kept, None


async def access_log(
    session: AsyncSession,
    subject_id: str,
    *,
    after_seq: int | None = None,
    limit: int = 100,
    order: Order = "newest",
    record_types: int | None = None,
) -> AccessLog:
    """Who accessed the subject's data, and proofs that each entry is in the anchored log.

    With ``record_types`` (an agent's delegation), only entries about those record types.
    """
    check_page(after_seq, limit)
    head = await latest_anchored(session)  # first: every entry older than it is in its tree
    if record_types is None:
        rows, next_seq = await page_rows(session, paged(about_subject(subject_id), after_seq, order), order, limit)
    else:
        rows, next_seq = await _scoped_rows(session, subject_id, record_types, after_seq, order, limit)
    paths: dict[int, list[bytes]] = {}
    if head is not None:
        size = int(head.tree_size)
        proved = [int(r.seq) for r in rows if r.seq < size]
        wanted = [node for seq in proved for r in inclusion_ranges(seq, size) for node in perfect_subtrees(*r)]
        store = await audit_log.fetch_nodes(session, wanted)  # one batched read for the page
        paths = {seq: inclusion_proof(store, seq, size) for seq in proved}
    anchored = (
        None
        if head is None
        else AnchoredHead(
            int(head.tree_size),
            encode_hex(bytes(head.root)),
            int(head.signed_at),
            head.signature,
            head.tx_hash,
            head.block_number,
        )
    )
    entries = []
    for r in rows:
        doc = json.loads(r.entry)
        path = paths.get(int(r.seq))
        proof = (
            None
            if path is None or anchored is None
            else EntryProof(
                anchored.tree_size,
                anchored.root,
                hex_list(path),
                anchored.tx_hash,
                anchored.block_number,
            )
        )
        entries.append(
            Access(
                seq=int(r.seq),
                at=int(r.at),
                action=r.action,
                outcome=r.outcome,
                actor_role=r.actor_role,
                actor=r.actor,
                department=r.actor if r.actor_role in DEPARTMENT_ROLES else None,
                official=r.official,
                purpose_code=doc.get("purpose_code"),
                grant_id=r.grant_id,
                record_types=list(doc.get("record_types") or []),
                fields=list(doc.get("fields") or []),
                reason=doc.get("reason"),
                leaf_hash=encode_hex(bytes(r.leaf_hash)),
                entry=doc,
                proof=proof,
                pending=proof is None,
            )
        )
    return AccessLog(subject_id.lower(), anchored, entries, next_seq)


def _bytes32(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        try:
            return decode_hex(value)
        except ValueError:
            return None
    return None


def verify_access_entry(entry_json: str, seq: int, proof: Sequence[str | bytes], size: int, root: str | bytes) -> bool:
    """Is this entry at position ``seq`` of the tree (``size``, ``root``)? Recomputes the leaf
    hash from the entry itself (any JSON spelling of it) and checks the RFC 9162 audit path.

    Never raises: anything malformed is simply not verified.
    """
    try:
        document = json.loads(entry_json)
    except (TypeError, ValueError):
        return False
    if not isinstance(document, dict) or document.get("seq") != seq or isinstance(seq, bool):
        return False
    try:
        leaf = leaf_hash(audit_log.canonical(document))
    except (TypeError, ValueError):
        return False
    if not isinstance(proof, (list, tuple)):
        return False
    path = [_bytes32(p) for p in proof]
    top = _bytes32(root)
    if top is None or any(p is None for p in path):
        return False
    return verify_inclusion(seq, size, leaf, [p for p in path if p is not None], top)
