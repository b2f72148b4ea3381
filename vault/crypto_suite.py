"""The vault's crypto suite (``keys.Suite``): chosen once, at initialisation, and kept.

Recorded in the ``settings`` table (key ``crypto_suite``) when a vault first opens. A vault
from before suites existed and already holding data is intl (everything it holds is format 1).
Until a vault holds a subject or a record nothing has been sealed, so it takes the configured
suite again (what it holds so far, keystore entries and access-log MACs, is read in either).
A vault started later with another ``DATAVAULT_CRYPTO`` than it recorded refuses to start:
mixing suites silently would leave a 国密 vault with new records under AES, or the reverse.
Moving a vault from one suite to the other is re-encryption (``keys.reseal`` per record,
``keys.rewrap``/new KEKs per subject), after which the recorded suite changes with
:func:`record`; both suites are always readable, so that can run while the vault serves.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keys import Suite
from vault.config import ConfigError
from vault.db.models import Record, Setting, Subject

KEY = "crypto_suite"


class CryptoSuiteMismatch(ConfigError):
    def __init__(self, recorded: Suite, configured: Suite) -> None:
        super().__init__(
            f"DATAVAULT_CRYPTO={configured} but this vault was initialised with the {recorded} suite; "
            f"start it with DATAVAULT_CRYPTO={recorded}, or re-encrypt it to {configured} "
            "(both suites stay readable while that runs) before changing the setting"
        )
        self.recorded = recorded
        self.configured = configured


async def recorded(session: AsyncSession) -> Suite | None:
    row = await session.get(Setting, KEY)
    return None if row is None else Suite(row.value)


async def settle(session: AsyncSession, configured: Suite) -> Suite:
    """The vault's suite: the recorded one, recorded now if the vault is new; raises
    :class:`CryptoSuiteMismatch` if ``configured`` is not it."""
    suite = await recorded(session)
    # One row each, not a count: a vault of millions opens as fast as an empty one.
    holds = (await session.scalar(select(Subject.id).limit(1))) is not None or (
        await session.scalar(select(Record.id).limit(1))
    ) is not None
    if suite is None or (suite is not configured and not holds):
        # Data from before suites were recorded was all written as intl (format 1).
        suite = Suite.INTL if suite is None and holds else configured
        await record(session, suite)
    if suite is not configured:
        raise CryptoSuiteMismatch(suite, configured)
    return suite


async def record(session: AsyncSession, suite: Suite) -> None:
    """Set the recorded suite (at initialisation, or when a re-encryption has finished)."""
    row = await session.get(Setting, KEY)
    if row is None:
        session.add(Setting(key=KEY, value=str(suite)))
    else:
        row.value = str(suite)
