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
from contextvars import ContextVar
from dataclasses import dataclass, replace
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
    request_id: str | None = None


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, set once per request by the API, so that every event names the request
    and the individual official without each service having to be told."""

    request_id: str
    official: str | None = None  # the caller's login address, if authenticated


request_context: ContextVar[RequestContext | None] = ContextVar("datavault_request", default=None)


def _stamped(event: VaultEvent) -> VaultEvent:
    context = request_context.get()
    if context is None:
        return event
    return replace(
        event, request_id=event.request_id or context.request_id, official=event.official or context.official
    )


Sink = Callable[[AsyncSession, VaultEvent], Awaitable[None]]


class Events:
    def __init__(self) -> None:
        self._sinks: list[Sink] = []

    def subscribe(self, sink: Sink) -> None:
        self._sinks.append(sink)

    async def emit(self, session: AsyncSession, event: VaultEvent) -> None:
        """Inside the action's transaction: a sink's failure fails the action."""
        stamped = _stamped(event)
        for sink in self._sinks:
            await sink(session, stamped)

    async def emit_refusal(self, sessions: async_sessionmaker[AsyncSession], event: VaultEvent) -> None:
        """In a transaction of its own, so the refusal is kept although the request fails.

        The caller must hold no write lock (roll its own transaction back first): on SQLite
        this transaction would otherwise wait for the caller's, which waits for it."""
        if not self._sinks:
            return
        async with sessions.begin() as session:
            await self.emit(session, event)
