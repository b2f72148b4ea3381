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
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vault.credentials.verification import Check
from vault.db.models import PresentationNonce
from vault.presentations.model import CLOCK_SKEW, MAX_TTL, NONCE_LEN

CHALLENGE_TTL = MAX_TTL


@dataclass(frozen=True)
class Challenge:
    nonce: bytes
    expires_at: int


def _key(nonce: bytes) -> str:
    return encode_hex(nonce)


async def _purge(session: AsyncSession, now: int) -> None:
    # Past its expiry (and the clock skew allowed) a nonce guards nothing: its presentation is stale.
    await session.execute(delete(PresentationNonce).where(PresentationNonce.expires_at < now - CLOCK_SKEW))


async def challenge(session: AsyncSession, *, verifier: str, now: int) -> Challenge:
    await _purge(session, now)
    nonce = secrets.token_bytes(NONCE_LEN)
    session.add(PresentationNonce(nonce=_key(nonce), verifier=verifier, created_at=now, expires_at=now + CHALLENGE_TTL))
    await session.flush()
    return Challenge(nonce, now + CHALLENGE_TTL)


async def use(session: AsyncSession, *, nonce: bytes, verifier: str, expires_at: int, now: int, consume: bool) -> Check:
    """Whether ``nonce`` is fresh for ``verifier``; with ``consume`` it is used up (only when
    every other check passed: a tampered copy scanned first must not spend the genuine one)."""
    row = await session.get(PresentationNonce, _key(nonce))
    if row is not None and row.used_at is not None:
        return Check("not_replayed", False, "this presentation was already used; ask the holder to show a new code")
    if row is not None:
        if row.verifier is not None and row.verifier != verifier:
            return Check("not_replayed", False, "this presentation answers another counter's challenge")
        if row.expires_at <= now:
            return Check("not_replayed", False, "the challenge it answers has expired")
        if consume:
            done = await session.execute(
                update(PresentationNonce)
                .where(PresentationNonce.nonce == row.nonce, PresentationNonce.used_at.is_(None))
                .values(used_at=now)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return Check(
                    "not_replayed", False, "this presentation was already used; ask the holder to show a new code"
                )
        return Check("not_replayed", True, "answers the challenge this counter gave, first use")
    if consume:
        await _purge(session, now)
        try:
            async with session.begin_nested():
                session.add(
                    PresentationNonce(
                        nonce=_key(nonce), verifier=None, created_at=now, expires_at=expires_at, used_at=now
                    )
                )
        except IntegrityError:
            return Check("not_replayed", False, "this presentation was already used; ask the holder to show a new code")
    return Check("not_replayed", True, "first use of this presentation")


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
