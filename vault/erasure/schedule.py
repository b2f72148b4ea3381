"""The scheduled retention job: every so often, shred what the retention rules say is due.

It runs in each API process beside the submitter. Two processes finding the same record due
is harmless: the second erasure of a record is a conflict, which ``retention.run`` skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from vault import clock
from vault.context import VaultContext
from vault.erasure import retention, storage
from vault.errors import VaultError

log = logging.getLogger(__name__)


async def run_once(ctx: VaultContext, now: int) -> list[str]:
    erased = await retention.run(ctx, now)
    if erased:
        log.info("retention: erased %d record(s) past their type's rule", len(erased))
        await storage.after_erasure(ctx)
    return erased


async def run_forever(
    ctx: VaultContext, interval: float, stop: asyncio.Event, time: Callable[[], int] = clock.now
) -> None:
    """Every ``interval`` seconds until ``stop``; a failed round is logged and tried again."""
    while not stop.is_set():
        try:
            await run_once(ctx, time())
        except (VaultError, OSError) as exc:
            # The database may be down for a moment: the next round tries again.
            log.warning("retention round failed: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
