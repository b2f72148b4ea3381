"""Whether the vault's two dependencies answer: the chain node and the database.

Each probe is bounded in time, so a health check never hangs on a stuck dependency, and its
reason names no host or port: health answers are public.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from chain.errors import ChainError
from vault.context import VaultContext

log = logging.getLogger(__name__)
# Seconds a probe may take before its dependency counts as down.
PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    reason: str | None = None
    block: int | None = None  # the chain's latest block, when the chain answered

    @property
    def status(self) -> str:
        return "ok" if self.ok else "down"


@dataclass(frozen=True)
class Health:
    chain: Probe
    database: Probe

    @property
    def ready(self) -> bool:
        return self.chain.ok and self.database.ok

    def down(self) -> list[str]:
        return [name for name, probe in (("chain", self.chain), ("database", self.database)) if not probe.ok]


async def chain(ctx: VaultContext, timeout: float = PROBE_TIMEOUT) -> Probe:
    engine = ctx.chain.engine
    try:
        block = await asyncio.wait_for(ctx.chain.call(lambda: int(engine.w3.eth.block_number)), timeout)
    except TimeoutError:
        return Probe(False, f"the chain node did not answer within {timeout:g}s")
    except ChainError as exc:
        return Probe(False, str(exc))
    return Probe(True, block=block)


async def database(ctx: VaultContext, timeout: float = PROBE_TIMEOUT) -> Probe:
    async def ping() -> None:
        async with ctx.sessions() as session:
            await session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout)
    except TimeoutError:
        return Probe(False, f"the database did not answer within {timeout:g}s")
    except (SQLAlchemyError, OSError) as exc:
        # The driver's message names the server's address; the log has it, the answer not.
        log.warning("database probe failed: %s", exc)
        return Probe(False, "the database could not be reached")
    return Probe(True)


async def probe(ctx: VaultContext, timeout: float = PROBE_TIMEOUT) -> Health:
    """Both probes, side by side."""
    found_chain, found_db = await asyncio.gather(chain(ctx, timeout), database(ctx, timeout))
    return Health(found_chain, found_db)
