"""A re-encryption's progress: starting one, and the report an admin reads.

One row per run (``vault.db.reencryption``). The counts shown are read from the database when
asked (how many subjects there are, how many lie at or before the cursor), so they agree with
the data even for subjects added while the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Suite
from vault import crypto_suite
from vault.db.models import Subject
from vault.db.reencryption import ReencryptionRow
from vault.errors import ConflictError

MOVING = "moving"  # subjects in id order, after the cursor: new KEK, every value resealed
SWEEPING = "sweeping"  # every subject again: values written mid-way, old KEK versions destroyed
DONE = "done"


@dataclass(frozen=True)
class Progress:
    source: Suite
    target: Suite
    phase: str
    subjects_done: int  # of the current phase
    subjects_total: int
    subjects_moved: int  # subjects given a KEK of the target suite
    sealed_moved: int  # sealed values re-encrypted into the target suite (every column)
    records_moved: int  # of which record bodies
    keys_destroyed: int  # old KEK versions destroyed once nothing they wrapped was left
    started_at: int
    moved_at: int | None
    finished_at: int | None
    last_error: str | None
    last_error_at: int | None


@dataclass(frozen=True)
class Report:
    suite: Suite  # recorded: what the vault is in (the source until a run finishes)
    writing: Suite  # what new ciphertexts and audit MACs are written in
    migration: Progress | None  # the run under way, else the last one


async def start(session: AsyncSession, target: Suite, now: int) -> ReencryptionRow:
    """Begin moving the vault to ``target``: from this transaction's commit every new ciphertext
    is sealed in it (``crypto_suite.writing``); the job does the rest."""
    moving = await crypto_suite.under_way(session)
    if moving is not None:
        raise ConflictError(
            f"a re-encryption from {moving.source} to {moving.target} is under way; let it finish first"
        )
    source = await crypto_suite.recorded(session) or Suite.INTL
    if source is target:
        raise ConflictError(f"this vault is in the {target} suite already")
    row = ReencryptionRow(
        source=str(source),
        target=str(target),
        phase=MOVING,
        cursor=None,
        subjects_moved=0,
        sealed_moved=0,
        records_moved=0,
        keys_destroyed=0,
        started_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def latest(session: AsyncSession) -> ReencryptionRow | None:
    return await session.scalar(select(ReencryptionRow).order_by(ReencryptionRow.id.desc()).limit(1))


async def report(session: AsyncSession) -> Report:
    row = await latest(session)
    recorded = await crypto_suite.recorded(session) or Suite.INTL
    writing = await crypto_suite.writing(session) or recorded
    return Report(suite=recorded, writing=writing, migration=None if row is None else await _progress(session, row))


async def _progress(session: AsyncSession, row: ReencryptionRow) -> Progress:
    total = int(await session.scalar(select(func.count()).select_from(Subject)) or 0)
    if row.phase == DONE:
        done = total
    elif row.cursor is None:
        done = 0
    else:
        done = int(await session.scalar(select(func.count()).select_from(Subject).where(Subject.id <= row.cursor)) or 0)
    return Progress(
        source=Suite(row.source),
        target=Suite(row.target),
        phase=row.phase,
        subjects_done=done,
        subjects_total=total,
        subjects_moved=row.subjects_moved,
        sealed_moved=row.sealed_moved,
        records_moved=row.records_moved,
        keys_destroyed=row.keys_destroyed,
        started_at=row.started_at,
        moved_at=row.moved_at,
        finished_at=row.finished_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
    )
