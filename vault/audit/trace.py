"""Reading the access log (留痕) for auditors: trace accesses by subject, department,
official, grant, action, outcome and time, paginated, and export them as JSON lines or CSV.

Entries hold no personal data (``vault.audit.log.event_document``), so everything here may be
shown to an auditor as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vault.accounts.subjects import check_address
from vault.audit import log as audit_log
from vault.db.audit import AuditEntry
from vault.errors import VaultValueError

Order = Literal["oldest", "newest"]
MAX_LIMIT = 1_000
EXPORT_CHUNK = 1_000
# Roles whose actor is a department code (a registrar is a department acting as one).
DEPARTMENT_ROLES = ("department", "registrar")
CSV_COLUMNS = (
    "seq",
    "at",
    "action",
    "outcome",
    "actor_role",
    "actor",
    "official",
    "subject_id",
    "grant_id",
    "purpose_code",
    "reason",
    "request_id",
    "leaf_hash",
    "entry",
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
            action=self.action,
            outcome=self.outcome,
            since=self.since,
            until=self.until,
        )

    def where(self) -> list[ColumnElement[bool]]:
        e = AuditEntry
        clauses: list[ColumnElement[bool]] = []
        for column, value in (
            (e.subject_id, self.subject_id),
            (e.actor, self.department),
            (e.official, self.official),
            (e.grant_id, self.grant_id),
            (e.action, self.action),
            (e.outcome, self.outcome),
        ):
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
    return Traced(seq=int(row.seq), leaf_hash=encode_hex(bytes(row.leaf_hash)), entry=json.loads(row.entry))


def check_page(after_seq: int | None, limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise VaultValueError(f"limit must be 1-{MAX_LIMIT}", field="limit")
    if after_seq is not None and after_seq < 0:
        raise VaultValueError("after_seq must be a position (>= 0)", field="after_seq")


def paged(clauses: list[ColumnElement[bool]], after_seq: int | None, order: Order) -> list[ColumnElement[bool]]:
    if after_seq is None:
        return clauses
    return [*clauses, AuditEntry.seq > after_seq if order == "oldest" else AuditEntry.seq < after_seq]


def _ordered(order: Order) -> Any:
    return AuditEntry.seq.asc() if order == "oldest" else AuditEntry.seq.desc()


async def page_rows(
    session: AsyncSession, clauses: list[ColumnElement[bool]], order: Order, limit: int
) -> tuple[list[AuditEntry], int | None]:
    """Up to ``limit`` rows and the cursor to the next page (one extra row tells if there is one)."""
    query = select(AuditEntry).where(and_(True, *clauses)).order_by(_ordered(order)).limit(limit + 1)
    rows = list(await session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (int(rows[-1].seq) if more else None)


async def trace(
    session: AsyncSession,
    f: Filter,
    *,
    after_seq: int | None = None,
    limit: int = 100,
    order: Order = "oldest",
) -> Page:
    """One page of the entries matching ``f``, in log order or newest first."""
    check_page(after_seq, limit)
    rows, next_seq = await page_rows(session, paged(f.normalised().where(), after_seq, order), order, limit)
    return Page([_traced(r) for r in rows], next_seq)


async def stream(
    sessions: async_sessionmaker[AsyncSession],
    f: Filter,
    *,
    order: Order = "oldest",
    limit: int | None = None,
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
            rows, after = await page_rows(session, paged(base, after, order), order, take)
            traced = [_traced(r) for r in rows]
        for t in traced:
            yield t
        if left is not None:
            left -= len(traced)
        if after is None:
            return


def jsonl_line(t: Traced) -> str:
    return (
        json.dumps(
            {"seq": t.seq, "leaf_hash": t.leaf_hash, "entry": t.entry}, ensure_ascii=False, separators=(",", ":")
        )
        + "\n"
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_line(t: Traced) -> str:
    e = t.entry
    values = [
        t.seq,
        e.get("at"),
        e.get("action"),
        e.get("outcome"),
        e.get("actor_role"),
        e.get("actor"),
        e.get("official"),
        e.get("subject_id"),
        e.get("grant_id"),
        e.get("purpose_code"),
        e.get("reason"),
        e.get("request_id"),
        t.leaf_hash,
    ]
    # The last column is the entry itself, exactly as hashed: the other columns are a view of it.
    return _csv_line([*(_cell(v) for v in values), audit_log.canonical(e).decode()])


def _csv_line(values: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def export(
    sessions: async_sessionmaker[AsyncSession],
    f: Filter,
    fmt: str,
    *,
    order: Order = "oldest",
    limit: int | None = None,
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
