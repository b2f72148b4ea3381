from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from tests.support.harness import open_harness
from vault.db.models import PresentationNonce
from vault.presentations import nonces as presentation_nonces
from vault.presentations.nonces import FileReplayCache


def test_an_offline_counter_accepts_a_nonce_once_and_forgets_it_after_expiry(tmp_path: Path) -> None:
    cache = FileReplayCache(tmp_path / "seen.json")
    nonce = secrets.token_bytes(16)
    assert cache.use(nonce, expires_at=1_000, now=900, consume=False).passed  # a peek spends nothing
    assert cache.use(nonce, expires_at=1_000, now=900, consume=True).passed
    assert not cache.use(nonce, expires_at=1_000, now=950, consume=True).passed
    other = secrets.token_bytes(16)
    assert cache.use(other, expires_at=5_000, now=2_000, consume=True).passed  # prunes the first
    assert ("0x" + nonce.hex()) not in (tmp_path / "seen.json").read_text()
    (tmp_path / "seen.json").write_text("not json")
    assert cache.use(other, expires_at=5_000, now=2_000, consume=False).passed  # a damaged file is an empty one


async def test_used_nonces_are_kept_until_their_presentation_is_stale(tmp_path: Path) -> None:
    h = await open_harness(tmp_path)
    try:
        async with h.vault.ctx.sessions.begin() as s:
            first = await presentation_nonces.use(
                s, nonce=b"\x01" * 16, verifier="a", expires_at=1_300, now=1_000, consume=True
            )
            again = await presentation_nonces.use(
                s, nonce=b"\x01" * 16, verifier="b", expires_at=1_300, now=1_100, consume=True
            )
            assert first.passed and not again.passed
            await presentation_nonces.challenge(s, verifier="a", now=1_300 + 61)  # purges the stale one
            assert await s.scalar(select(func.count()).select_from(PresentationNonce)) == 1
    finally:
        await h.close()
