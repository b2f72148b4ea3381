"""An outbox operation: how to tell it is done on chain, the transaction that does it, and
what follows in the database. The submitter (``vault.outbox.submitter``) carries them out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chain.contract import ContractClient
from chain.transactions import TxResult
from vault.context import ChainContext

Payload = dict[str, Any]


def contract_call(client: ContractClient, fn: str, *args: Any) -> TxRequest:
    """The transaction calling ``fn(args)`` on ``client``'s contract."""
    return TxRequest(to=client.address, data=client.encode(fn, *args), context=fn)


@dataclass(frozen=True)
class TxRequest:
    """An unsigned transaction: where it goes, what it carries."""

    to: str
    data: bytes = b""
    value: int = 0
    context: str = ""


@dataclass(frozen=True)
class Op:
    applied: Callable[[ChainContext, Payload], bool]
    # None: nothing to send (funding on a zero-gas chain); the entry is done as it is.
    build: Callable[[ChainContext, Payload], TxRequest | None]
    done: Callable[[AsyncSession, Payload, TxResult | None], Awaitable[None]] | None = None
    failed: Callable[[AsyncSession, Payload, str], Awaitable[None]] | None = None
    # Undoes ``done`` when the chain turns out to have lost the transaction (a node killed
    # before it saved its state), so that the entry can be carried out again.
    lost: Callable[[AsyncSession, Payload], Awaitable[None]] | None = None
    # Finds the transaction that made the effect, when ``applied`` says it is there but no
    # transaction of ours is on record (one sent by an earlier run, or replaced).
    locate: Callable[[ChainContext, Payload], TxResult | None] | None = None
    # Reads what ``build`` needs from the database, when the payload only names it (a grant's
    # terms are its row's): the payload ``build`` receives, held in memory only.
    load: Callable[[AsyncSession, Payload], Awaitable[Payload]] | None = None
