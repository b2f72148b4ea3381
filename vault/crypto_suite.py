"""The vault's crypto suite (``keys.Suite``): chosen once, at initialisation, and kept.

Recorded in the ``settings`` table (key ``crypto_suite``) when a vault first opens. A vault
from before suites existed and already holding data is intl (everything it holds is format 1).
Until a vault holds a subject or a record nothing has been sealed, so it takes the configured
suite again (what it holds so far, keystore entries and access-log MACs, is read in either).
A vault started later with another ``DATAVAULT_CRYPTO`` than it recorded refuses to start:
mixing suites silently would leave a 国密 vault with new records under AES, or the reverse.
Moving a vault from one suite to the other is re-encryption (``vault.reencryption``: new KEKs
per subject, ``keys.reseal`` per sealed value), after which the recorded suite changes with
:func:`record`; both suites are always readable, so that runs while the vault serves. While it
runs, new ciphertexts are written in its target suite (:func:`writing`) and the vault starts
with either suite configured; once it has finished, only with the target.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Suite
from vault.config import ConfigError
from vault.db.models import Record, Setting, Subject
from vault.db.reencryption import ReencryptionRow

KEY = "crypto_suite"


class CryptoSuiteMismatch(ConfigError):
    def __init__(self, recorded: Suite, configured: Suite, *, moved_from: Suite | None = None) -> None:
        if moved_from is not None:
            super().__init__(
                f"DATAVAULT_CRYPTO={configured} but this vault was re-encrypted from {moved_from} to {recorded}; "
                f"start it with DATAVAULT_CRYPTO={recorded}"
            )
        else:
            super().__init__(
                f"DATAVAULT_CRYPTO={configured} but this vault was initialised with the {recorded} suite; "
                f"start it with DATAVAULT_CRYPTO={recorded}, or re-encrypt it to {configured} while it runs "
                f"(datavault crypto migrate --to {configured}; both suites stay readable meanwhile) and "
                "change the setting once that has finished"
            )
        self.recorded = recorded
        self.configured = configured


async def recorded(session: AsyncSession) -> Suite | None:
    row = await session.get(Setting, KEY)
    return None if row is None else Suite(row.value)


async def under_way(session: AsyncSession) -> ReencryptionRow | None:
    """The re-encryption that has started and not finished, if any (at most one)."""
    return await session.scalar(select(ReencryptionRow).where(ReencryptionRow.finished_at.is_(None)).limit(1))


async def writing(session: AsyncSession) -> Suite | None:
    """The suite a re-encryption under way writes new ciphertexts in (its target), else None:
    read where a data key is sealed, so every worker writes in it from the start's commit."""
    target = await session.scalar(select(ReencryptionRow.target).where(ReencryptionRow.finished_at.is_(None)).limit(1))
    return None if target is None else Suite(target)


async def settle(session: AsyncSession, configured: Suite | None) -> Suite:
    """The suite the vault writes in: the recorded one, recorded now if the vault is new, or a
    re-encryption's target while one runs (either suite may be configured then); raises
    :class:`CryptoSuiteMismatch` if ``configured`` is not one of these. ``configured`` None
    (DATAVAULT_CRYPTO unset): whatever the vault recorded, intl for a new one, so that the same
    command starts a vault again after it was moved to the other suite."""
    moving = await under_way(session)
    if moving is not None:
        return Suite(moving.target)
    suite = await recorded(session)
    # One row each, not a count: a vault of millions opens as fast as an empty one.
    holds = (await session.scalar(select(Subject.id).limit(1))) is not None or (
        await session.scalar(select(Record.id).limit(1))
    ) is not None
    if configured is None:
        if suite is not None and holds:
            return suite
        configured = Suite.INTL  # a vault that has sealed nothing yet starts as intl
    if suite is None or (suite is not configured and not holds):
        # Data from before suites were recorded was all written as intl (format 1).
        suite = Suite.INTL if suite is None and holds else configured
        await record(session, suite)
    if suite is not configured:
        last = await session.scalar(select(ReencryptionRow).order_by(ReencryptionRow.id.desc()).limit(1))
        moved_from = Suite(last.source) if last is not None and Suite(last.target) is suite else None
        raise CryptoSuiteMismatch(suite, configured, moved_from=moved_from)
    return suite


async def record(session: AsyncSession, suite: Suite) -> None:
    """Set the recorded suite (at initialisation, or when a re-encryption has finished)."""
    row = await session.get(Setting, KEY)
    if row is None:
        session.add(Setting(key=KEY, value=str(suite)))
    else:
        row.value = str(suite)
