"""Reading the access log (留痕) for people: an auditor traces accesses by subject, department,
official, grant, action, outcome and time; a subject sees who accessed its data (使用知情),
each entry with an inclusion proof against the latest head anchored on chain.

Entries hold no personal data (``vault.audit_log.event_document``), so everything here may be
shown to an auditor as it is. Proofs are RFC 9162 and checkable with ``vault.audit_tree``
alone: ``verify_access_entry`` is what a subject's client runs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3.exceptions import Web3Exception

from chain.audit_anchor import AuditAnchorClient
from chain.errors import ChainError
from vault import audit_log
from vault.audit_proofs import inclusion_proof, inclusion_ranges
from vault.audit_tree import leaf_hash, perfect_subtrees, verify_inclusion
from vault.context import ChainContext
from vault.db.audit import AuditEntry, AuditHead
from vault.errors import ChainStateError, VaultValueError
from vault.subjects import check_address

Order = Literal["oldest", "newest"]
MAX_LIMIT = 1_000
EXPORT_CHUNK = 1_000
# Roles whose actor is a department code (a registrar is a department acting as one).
DEPARTMENT_ROLES = ("department", "registrar")
CSV_COLUMNS = (
    "seq", "at", "action", "outcome", "actor_role", "actor", "official", "subject_id", "grant_id",
    "purpose_code", "reason", "request_id", "leaf_hash", "entry",
)


@dataclass(frozen=True)
class Filter:
    """Which entries: every given criterion must hold; ``[since, until)`` in Unix seconds."""

    subject_id: str | None = None
    department: str | None = None
    official: str | None = None
    grant_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: int | None = None
    until: int | None = None

    def normalised(self) -> Filter:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise VaultValueError("the time range is empty: 'from' must be before 'until'", field="from")
        return Filter(
            subject_id=self.subject_id.lower() if self.subject_id else None,
            department=self.department,
            official=check_address(self.official, "official") if self.official else None,
            grant_id=self.grant_id.lower() if self.grant_id else None,
            action=self.action, outcome=self.outcome, since=self.since, until=self.until,
        )

    def where(self) -> list[ColumnElement[bool]]:
        e = AuditEntry
        clauses: list[ColumnElement[bool]] = []
        for column, value in ((e.subject_id, self.subject_id), (e.actor, self.department), (e.official, self.official),
                              (e.grant_id, self.grant_id), (e.action, self.action), (e.outcome, self.outcome)):
            if value is not None:
                clauses.append(column == value)
        if self.department is not None:
            clauses.append(e.actor_role.in_(DEPARTMENT_ROLES))
        if self.since is not None:
            clauses.append(e.at >= self.since)
        if self.until is not None:
            clauses.append(e.at < self.until)
        return clauses


@dataclass(frozen=True)
class Traced:
    """One entry as stored: its position, its leaf hash and the document hashed into it."""

    seq: int
    leaf_hash: str
    entry: dict[str, Any]


@dataclass(frozen=True)
class Page:
    entries: list[Traced]
    next: int | None  # pass as ``after_seq`` for the next page; None: nothing more


def _traced(row: AuditEntry) -> Traced:
    return Traced(seq=int(row.seq), leaf_hash="0x" + bytes(row.leaf_hash).hex(), entry=json.loads(row.entry))


def _check_page(after_seq: int | None, limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise VaultValueError(f"limit must be 1-{MAX_LIMIT}", field="limit")
    if after_seq is not None and after_seq < 0:
        raise VaultValueError("after_seq must be a position (>= 0)", field="after_seq")


def _paged(clauses: list[ColumnElement[bool]], after_seq: int | None, order: Order) -> list[ColumnElement[bool]]:
    if after_seq is None:
        return clauses
    return [*clauses, AuditEntry.seq > after_seq if order == "oldest" else AuditEntry.seq < after_seq]


def _ordered(order: Order) -> Any:
    return AuditEntry.seq.asc() if order == "oldest" else AuditEntry.seq.desc()


async def _rows(session: AsyncSession, clauses: list[ColumnElement[bool]], order: Order, limit: int) -> tuple[list[AuditEntry], int | None]:
    """Up to ``limit`` rows and the cursor to the next page (one extra row tells if there is one)."""
    query = select(AuditEntry).where(and_(True, *clauses)).order_by(_ordered(order)).limit(limit + 1)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1].seq) if more else None)


async def trace(
    session: AsyncSession, f: Filter, *, after_seq: int | None = None, limit: int = 100, order: Order = "oldest",
) -> Page:
    """One page of the entries matching ``f``, in log order or newest first."""
    _check_page(after_seq, limit)
    rows, next_seq = await _rows(session, _paged(f.normalised().where(), after_seq, order), order, limit)
    return Page([_traced(r) for r in rows], next_seq)


async def stream(
    sessions: async_sessionmaker[AsyncSession], f: Filter, *, order: Order = "oldest", limit: int | None = None,
    chunk: int = EXPORT_CHUNK,
) -> AsyncIterator[Traced]:
    """Every matching entry, ``chunk`` rows per short read, so that neither memory nor a
    database transaction grows with the log. The log as it was when the export began: entries
    sequenced meanwhile are left out, so the export is one prefix of the tree."""
    base = f.normalised().where()
    async with sessions() as session:
        size = await audit_log.tree_size(session)
    base.append(AuditEntry.seq < size)
    after: int | None = None
    left = limit
    while left is None or left > 0:
        take = chunk if left is None else min(chunk, left)
        async with sessions() as session:
            rows, after = await _rows(session, _paged(base, after, order), order, take)
            traced = [_traced(r) for r in rows]
        for t in traced:
            yield t
        if left is not None:
            left -= len(traced)
        if after is None:
            return


def jsonl_line(t: Traced) -> str:
    return json.dumps({"seq": t.seq, "leaf_hash": t.leaf_hash, "entry": t.entry}, ensure_ascii=False, separators=(",", ":")) + "\n"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_line(t: Traced) -> str:
    e = t.entry
    values = [t.seq, e.get("at"), e.get("action"), e.get("outcome"), e.get("actor_role"), e.get("actor"), e.get("official"),
              e.get("subject_id"), e.get("grant_id"), e.get("purpose_code"), e.get("reason"), e.get("request_id"), t.leaf_hash]
    # The last column is the entry itself, exactly as hashed: the other columns are a view of it.
    return _csv_line([*(_cell(v) for v in values), audit_log.canonical(e).decode()])


def _csv_line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def export(
    sessions: async_sessionmaker[AsyncSession], f: Filter, fmt: str, *, order: Order = "oldest", limit: int | None = None,
) -> AsyncIterator[str]:
    """The export as text pieces, ready to stream: JSON Lines or CSV (RFC 4180, header first).

    The arguments are checked here, before the first byte: once streaming has begun, an error
    can no longer be answered with a status code."""
    if fmt not in ("jsonl", "csv"):
        raise VaultValueError("format must be jsonl or csv", field="format")
    if limit is not None and limit < 1:
        raise VaultValueError("limit must be at least 1", field="limit")
    checked = f.normalised()
    line = csv_line if fmt == "csv" else jsonl_line

    async def pieces() -> AsyncIterator[str]:
        if fmt == "csv":
            yield csv_header()
        async for t in stream(sessions, checked, order=order, limit=limit):
            yield line(t)

    return pieces()


# -- tree heads and proofs ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeadView:
    tree_size: int
    root: str
    signed_at: int
    signature: str
    status: str
    tx_hash: str | None
    block_number: int | None
    on_chain: bool  # the chain holds this very (size, root)


@dataclass(frozen=True)
class ChainHead:
    tree_size: int
    root: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Heads:
    log_key: str
    anchor_contract: str | None
    tree_size: int
    heads: list[HeadView]
    anchored: list[ChainHead]  # as the chain tells it, over the same range of sizes
    next: int | None  # pass as ``before_size`` for older heads


async def chain_heads(chain: ChainContext) -> tuple[AuditAnchorClient | None, list[ChainHead]]:
    client = chain.audit
    if client is None:
        return None, []
    try:
        found = await chain.call(client.heads)
    except (ChainError, Web3Exception, OSError) as exc:
        raise ChainStateError(f"the chain's anchored heads could not be read: {exc}") from exc
    return client, [ChainHead(h.tree_size, "0x" + h.root.hex(), h.block_number, "0x" + h.tx_hash.hex()) for h in found]


async def heads(
    chain: ChainContext, session: AsyncSession, *, log_key: str, before_size: int | None = None, limit: int = 100,
) -> Heads:
    """Signed heads, newest first, next to what the chain holds for the same sizes."""
    _check_page(None, limit)
    query = select(AuditHead).order_by(AuditHead.tree_size.desc()).limit(limit + 1)
    if before_size is not None:
        query = query.where(AuditHead.tree_size < before_size)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    size = await audit_log.tree_size(session)
    client, on_chain = await chain_heads(chain)
    held = {(h.tree_size, h.root) for h in on_chain}
    views = [
        HeadView(int(r.tree_size), "0x" + bytes(r.root).hex(), int(r.signed_at), r.signature, r.status, r.tx_hash,
                 r.block_number, (int(r.tree_size), "0x" + bytes(r.root).hex()) in held)
        for r in rows
    ]
    # The chain's heads over the same sizes, so that one the database lacks shows up too.
    low = int(rows[-1].tree_size) if more else 0
    anchored = [h for h in on_chain if h.tree_size >= low and (before_size is None or h.tree_size < before_size)]
    return Heads(log_key, client.address if client else None, size, views, anchored,
                 int(rows[-1].tree_size) if more else None)


async def _checked_size(session: AsyncSession, size: int, name: str) -> int:
    current = await audit_log.tree_size(session)
    if not 0 <= size <= current:
        raise VaultValueError(f"{name} must be 0-{current}, the number of entries in the log", field=name)
    return size


def _hex(values: Sequence[bytes]) -> list[str]:
    return ["0x" + v.hex() for v in values]


async def signed_head(session: AsyncSession, size: int) -> AuditHead | None:
    return await session.get(AuditHead, size)


async def inclusion(session: AsyncSession, seq: int, size: int) -> dict[str, Any]:
    """Entry ``seq``'s audit path in the tree of the first ``size`` entries, with that root."""
    await _checked_size(session, size, "size")
    if not 0 <= seq < size:
        raise VaultValueError(f"seq must be 0-{size - 1} for a tree of {size} entries", field="seq")
    row = await session.get(AuditEntry, seq)
    assert row is not None  # seq < size <= tree size: sequenced entries are contiguous
    path = await audit_log.inclusion(session, seq, size)
    root = await audit_log.root_of(session, size)
    head = await signed_head(session, size)
    return {
        "seq": seq, "tree_size": size, "leaf_hash": "0x" + bytes(row.leaf_hash).hex(), "root": "0x" + root.hex(),
        "proof": _hex(path), "entry": json.loads(row.entry), "head": _head_dict(head),
    }


async def consistency(session: AsyncSession, first: int, second: int) -> dict[str, Any]:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""
    await _checked_size(session, second, "second")
    if not 0 <= first <= second:
        raise VaultValueError(f"first must be 0-{second} (at most second)", field="first")
    proof = await audit_log.consistency(session, first, second)
    roots = [await audit_log.root_of(session, n) for n in (first, second)]
    return {
        "first": first, "second": second, "first_root": "0x" + roots[0].hex(), "second_root": "0x" + roots[1].hex(),
        "proof": _hex(proof), "first_head": _head_dict(await signed_head(session, first)),
        "second_head": _head_dict(await signed_head(session, second)),
    }


def _head_dict(head: AuditHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return {
        "tree_size": int(head.tree_size), "root": "0x" + bytes(head.root).hex(), "signed_at": int(head.signed_at),
        "signature": head.signature, "status": head.status, "tx_hash": head.tx_hash, "block_number": head.block_number,
    }


# -- the subject's view: who accessed my data --------------------------------------------------


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


async def latest_anchored(session: AsyncSession) -> AuditHead | None:
    query = select(AuditHead).where(AuditHead.status == "anchored").order_by(AuditHead.tree_size.desc()).limit(1)
    head: AuditHead | None = await session.scalar(query)
    return head


async def access_log(
    session: AsyncSession, subject_id: str, *, after_seq: int | None = None, limit: int = 100, order: Order = "newest",
) -> AccessLog:
    """Who accessed the subject's data, and proofs that each entry is in the anchored log."""
    _check_page(after_seq, limit)
    head = await latest_anchored(session)  # first: every entry older than it is in its tree
    rows, next_seq = await _rows(session, _paged(about_subject(subject_id), after_seq, order), order, limit)
    paths: dict[int, list[bytes]] = {}
    if head is not None:
        size = int(head.tree_size)
        proved = [int(r.seq) for r in rows if r.seq < size]
        wanted = [node for seq in proved for r in inclusion_ranges(seq, size) for node in perfect_subtrees(*r)]
        store = await audit_log.fetch_nodes(session, wanted)  # one batched read for the page
        paths = {seq: inclusion_proof(store, seq, size) for seq in proved}
    anchored = None if head is None else AnchoredHead(
        int(head.tree_size), "0x" + bytes(head.root).hex(), int(head.signed_at), head.signature, head.tx_hash, head.block_number,
    )
    entries = []
    for r in rows:
        doc = json.loads(r.entry)
        path = paths.get(int(r.seq))
        proof = None if path is None or anchored is None else EntryProof(
            anchored.tree_size, anchored.root, _hex(path), anchored.tx_hash, anchored.block_number,
        )
        entries.append(Access(
            seq=int(r.seq), at=int(r.at), action=r.action, outcome=r.outcome, actor_role=r.actor_role, actor=r.actor,
            department=r.actor if r.actor_role in DEPARTMENT_ROLES else None, official=r.official,
            purpose_code=doc.get("purpose_code"), grant_id=r.grant_id, record_types=list(doc.get("record_types") or []),
            fields=list(doc.get("fields") or []), reason=doc.get("reason"), leaf_hash="0x" + bytes(r.leaf_hash).hex(),
            entry=doc, proof=proof, pending=proof is None,
        ))
    return AccessLog(subject_id.lower(), anchored, entries, next_seq)


def _bytes32(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
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
