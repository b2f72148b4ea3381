"""The one place where every access decision is announced: grants, uses, refusals, revocations.

Services ``emit`` a ``VaultEvent`` inside the database transaction that carries out the
action, so a sink that writes (the audit log) commits or rolls back with it, and a sink that
raises refuses the action (fail closed). A refusal is announced with ``emit_refusal`` in a
transaction of its own, because the request's transaction is about to roll back.

Events name people only by pseudonymous subject id, department code and official address;
never a name, an ID number or a field value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Outcome = Literal["ok", "refused"]


@dataclass(frozen=True)
class VaultEvent:
    action: str  # "grant.created", "grant.used", "grant.revoked", "delegation.set", ...
    outcome: Outcome
    at: int
    actor_role: str  # admin | department | subject | delegate | registrar | system
    actor: str  # department code, subject id or address
    official: str | None = None  # the individual's login address (a department's official)
    subject_id: str | None = None
    grant_id: str | None = None
    record_types: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    record_ids: tuple[str, ...] = ()
    purpose_code: int | None = None
    reason: str | None = None


Sink = Callable[[AsyncSession, VaultEvent], Awaitable[None]]


class Events:
    def __init__(self) -> None:
        self._sinks: list[Sink] = []

    def subscribe(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def emit(self, session: AsyncSession, event: VaultEvent) -> None:
        """Inside the action's transaction: a sink's failure fails the action."""
        for sink in self._sinks:
            await sink(session, event)

    async def emit_refusal(self, sessions: async_sessionmaker[AsyncSession], event: VaultEvent) -> None:
        """In a transaction of its own, so the refusal is kept although the request fails."""
        if not self._sinks:
            return
        async with sessions.begin() as session:
            await self.emit(session, event)
