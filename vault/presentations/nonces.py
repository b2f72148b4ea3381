"""Nonces of presentations: verifiers' challenges, and each nonce accepted once.

A counter may hand the holder a challenge (a fresh nonce it will expect), or accept a nonce
the holder's phone drew. Either way a nonce is accepted once until its presentation expires;
afterwards the presentation is stale anyway, so the row can go.

Online, the vault's database keeps them (shared by every API worker: the primary key makes a
second use fail even when two counters scan the same code at the same instant). Offline, a
counter keeps its own small file (``FileReplayCache``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from eth_utils.hexadecimal import encode_hex
from sqlalchemy import Insert, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from vault.credentials.checks import Check
from vault.db.models import PresentationNonce
from vault.presentations.model import CLOCK_SKEW, MAX_TTL, NONCE_LEN

CHALLENGE_TTL = MAX_TTL
# A verdict purges stale nonces at most this often (seconds of the vault's clock, per
# process): a DELETE with every verdict was a fifth of its statements, and a stale row only
# takes room, it accepts nothing.
PURGE_EVERY = 60


@dataclass(frozen=True)
class Challenge:
    nonce: bytes
    expires_at: int


def _key(nonce: bytes) -> str:
    return encode_hex(nonce)


_last_purge: list[int] = []  # when this process last purged, by the clock it was given


async def _purge(session: AsyncSession, now: int) -> None:
    # Past its expiry (and the clock skew allowed) a nonce guards nothing: its presentation is stale.
    await session.execute(delete(PresentationNonce).where(PresentationNonce.expires_at < now - CLOCK_SKEW))
    _last_purge[:] = [now]


async def _purge_now_and_then(session: AsyncSession, now: int) -> None:
    if not _last_purge or not 0 <= now - _last_purge[0] < PURGE_EVERY:
        await _purge(session, now)


async def _insert_once(session: AsyncSession, row: dict[str, object]) -> bool:
    """Inserts ``row`` unless its nonce is there already; whether it did. One statement, and
    no savepoint: a duplicate is not an error that aborts the transaction."""
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt: Insert = insert(PresentationNonce).values(**row).on_conflict_do_nothing(index_elements=["nonce"])
    done = await session.execute(stmt)
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def challenge(session: AsyncSession, *, verifier: str, now: int) -> Challenge:
    await _purge(session, now)
    nonce = secrets.token_bytes(NONCE_LEN)
    session.add(PresentationNonce(nonce=_key(nonce), verifier=verifier, created_at=now, expires_at=now + CHALLENGE_TTL))
    await session.flush()
    return Challenge(nonce, now + CHALLENGE_TTL)


async def use(session: AsyncSession, *, nonce: bytes, verifier: str, expires_at: int, now: int, consume: bool) -> Check:
    """Whether ``nonce`` is fresh for ``verifier``; with ``consume`` it is used up (only when
    every other check passed: a tampered copy scanned first must not spend the genuine one)."""
    used = Check("not_replayed", False, "this presentation was already used; ask the holder to show a new code")
    if consume:
        # The common case (the holder's phone drew the nonce) in one statement: the primary
        # key lets only one of two counters scanning the same code at once insert it.
        await _purge_now_and_then(session, now)
        row: dict[str, object] = {
            "nonce": _key(nonce),
            "verifier": None,
            "created_at": now,
            "expires_at": expires_at,
            "used_at": now,
        }
        if await _insert_once(session, row):
            return Check("not_replayed", True, "first use of this presentation")
    found = await session.get(PresentationNonce, _key(nonce), populate_existing=True)
    if found is None:
        # Not there to peek at: fresh. (Consuming, it was there a moment ago and is stale now.)
        return used if consume else Check("not_replayed", True, "first use of this presentation")
    if found.used_at is not None:
        return used
    if found.verifier is not None and found.verifier != verifier:
        return Check("not_replayed", False, "this presentation answers another counter's challenge")
    if found.expires_at <= now:
        return Check("not_replayed", False, "the challenge it answers has expired")
    if consume:
        done = await session.execute(
            update(PresentationNonce)
            .where(PresentationNonce.nonce == found.nonce, PresentationNonce.used_at.is_(None))
            .values(used_at=now)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return used
    return Check("not_replayed", True, "answers the challenge this counter gave, first use")


class FileReplayCache:
    """An offline counter's memory of the nonces it accepted, in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self, now: int) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, int) and v >= now - CLOCK_SKEW}

    def use(self, nonce: bytes, expires_at: int, now: int, consume: bool) -> Check:
        seen = self._load(now)
        if _key(nonce) in seen:
            return Check("not_replayed", False, "this counter already accepted this presentation; ask for a new code")
        if consume:
            seen[_key(nonce)] = expires_at
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(seen))
            os.replace(tmp, self.path)  # whole or not at all
        return Check("not_replayed", True, "first use of this presentation at this counter")
