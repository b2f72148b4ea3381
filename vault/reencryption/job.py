"""The background job that moves a running vault into another crypto suite.

It runs in every API process beside the submitter (``api.app``); one at a time does the work:
each step locks the run's row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, where another worker
holding it means this one has nothing to do; SQLite has one writer anyway). A step is one
subject in one transaction, and the cursor (the last subject id done) commits with it, so a
kill at any point resumes with the next subject and never does one twice over.

Phases: *moving* walks the subjects in id order (``subjects.move``); *sweeping* walks them
again, ``grace`` seconds after the last one moved, so that writes begun before a subject moved
have committed: what they sealed is rewrapped, and old KEK versions, which then wrap nothing,
are destroyed (keys kept past their use are only a liability; the wait is what makes
destroying them safe). Then the keystore's entries are rewrapped and the recorded suite
becomes the target. New ciphertexts are in the target from the start (``crypto_suite.writing``,
read where data keys are sealed); this process's audit MACs, keystore and ``ctx.suite`` follow
at once, other workers' within ``interval`` (:meth:`Reencryption.follow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import KeysError, KeystoreEntryExists, Sm2Key, Suite
from vault import clock, crypto_suite
from vault.context import AUDIT_LOG_SM2_KEY, VaultContext
from vault.db.models import Subject
from vault.db.reencryption import ReencryptionRow
from vault.errors import VaultError
from vault.reencryption import progress, subjects
from vault.reencryption.progress import DONE, MOVING, SWEEPING, Progress, Report

log = logging.getLogger(__name__)

SUBJECT, PHASE = "subject", "phase"


class _Macs(Protocol):
    suite: Suite


class HeadSigner(Protocol):
    """What of the access log's sequencer follows the suite: its entry MACs, its SM2 key."""

    @property
    def key(self) -> _Macs: ...

    sm2_key: Sm2Key | None


class Reencryption:
    def __init__(
        self, ctx: VaultContext, sequencer: HeadSigner | None, *, grace: int = 60, interval: float = 5.0
    ) -> None:
        self.ctx = ctx
        self.sequencer = sequencer
        self.grace = grace
        self.interval = interval
        self._subject: str | None = None  # the one being moved, for the error report

    async def start(self, target: Suite, now: int) -> Progress:
        """Begin a run to ``target`` (``ConflictError`` if one is under way or there is nothing to do)."""
        async with self.ctx.sessions.begin() as session:
            await progress.start(session, target, now)
        self.apply(target, settled=False)
        report = await self.report()
        assert report.migration is not None
        return report.migration

    async def report(self) -> Report:
        async with self.ctx.sessions() as session:
            return await progress.report(session)

    async def follow(self) -> None:
        """Write in whatever suite the database says now (another worker may have started or
        finished a run)."""
        async with self.ctx.sessions() as session:
            writing = await crypto_suite.writing(session)
            suite = writing or await crypto_suite.recorded(session) or self.ctx.suite
        self.apply(suite, settled=writing is None)

    def apply(self, suite: Suite, *, settled: bool) -> None:
        """This process writes new ciphertexts, keystore entries and audit MACs in ``suite``. Tree
        heads keep their SM2 signatures until a run away from sm has finished."""
        self.ctx.suite = suite
        self.ctx.keystore.suite = suite
        if self.sequencer is None:
            return
        self.sequencer.key.suite = suite
        if suite is Suite.SM and self.sequencer.sm2_key is None:
            keystore = self.ctx.keystore
            with contextlib.suppress(KeystoreEntryExists):  # another worker made it first
                if not keystore.exists(AUDIT_LOG_SM2_KEY):
                    keystore.create_sm2(AUDIT_LOG_SM2_KEY)
            self.sequencer.sm2_key = keystore.load_sm2(AUDIT_LOG_SM2_KEY)
        elif suite is Suite.INTL and settled:
            self.sequencer.sm2_key = None

    async def run_once(self, now: int, *, limit: int | None = None, stop: asyncio.Event | None = None) -> int:
        """Steps until there is nothing to do now (or ``limit`` subjects, or ``stop``); returns
        how many subjects were done. A failed step is reported on the run and raised."""
        done = 0
        while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
            try:
                stepped = await self._step(now)
            except Exception as exc:
                await self._failed(exc, now)
                raise
            if stepped is None:
                break
            done += stepped == SUBJECT
        return done

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.follow()
                await self.run_once(clock.now(), stop=stop)
            except (VaultError, KeysError, OSError) as exc:
                log.warning("re-encryption step failed: %s", exc)
            except Exception:  # never let one bad step kill the job: it is reported on the run
                log.exception("re-encryption step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def _step(self, now: int) -> str | None:
        finished: Suite | None = None
        async with self.ctx.sessions.begin() as session:
            row = await session.scalar(
                select(ReencryptionRow)
                .where(ReencryptionRow.finished_at.is_(None))
                .with_for_update(skip_locked=True)
                .limit(1)
            )
            if row is None:
                return None  # nothing under way, or another worker has it
            if row.phase == SWEEPING and now < (row.moved_at or 0) + self.grace:
                return None
            target = Suite(row.target)
            subject_id = await _after(session, row.cursor)
            if subject_id is None:
                if row.phase == MOVING:
                    row.phase, row.cursor, row.moved_at = SWEEPING, None, now
                else:
                    await self._finish(session, row, now)
                    finished = target
            else:
                self._subject = subject_id
                moved = await subjects.move(
                    session, self.ctx.master, subject_id, target, now, destroy_old=row.phase == SWEEPING
                )
                row.cursor = subject_id
                row.subjects_moved += moved.rotated
                row.sealed_moved += moved.sealed
                row.records_moved += moved.records
                row.keys_destroyed += moved.destroyed
        self._subject = None
        if finished is not None:
            self.apply(finished, settled=True)
            log.info("re-encryption to %s finished", finished)
        return PHASE if subject_id is None else SUBJECT

    async def _finish(self, session: AsyncSession, row: ReencryptionRow, now: int) -> None:
        # Files, not rows: rewrapping is idempotent, so a commit lost after it is just done again.
        keystore = self.ctx.keystore
        keystore.suite = Suite(row.target)
        for name in keystore.names():
            keystore.rewrap(name)
        await crypto_suite.record(session, Suite(row.target))
        row.phase, row.finished_at = DONE, now

    async def _failed(self, exc: Exception, now: int) -> None:
        where = f"subject {self._subject}: " if self._subject else ""
        # A vault error's words are ours; anything else is named by its kind only (a crypto
        # failure never says more than that it failed).
        what = str(exc) if isinstance(exc, VaultError | KeysError) else type(exc).__name__
        self._subject = None
        log.warning("re-encryption: %s%s", where, what)
        with contextlib.suppress(Exception):
            async with self.ctx.sessions.begin() as session:
                row = await crypto_suite.under_way(session)
                if row is not None:
                    row.last_error, row.last_error_at = f"{where}{what}"[:1000], now


async def _after(session: AsyncSession, cursor: str | None) -> str | None:
    """The next subject in id order after ``cursor`` (the first if None)."""
    query = select(Subject.id).order_by(Subject.id).limit(1)
    if cursor is not None:
        query = query.where(Subject.id > cursor)
    return await session.scalar(query)
