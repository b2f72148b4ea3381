"""What the outbox's tests share: the transactions the code under test signs, a citizen with a
licence on chain, grants queued for it, and the grants' outbox entries and statuses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from chain import transactions
from tests.delegation_conformance import grant_as, subject_id
from tests.grant_conformance import LICENCE_FIELDS
from tests.support.harness import Actor, Harness
from vault.db.models import OutboxEntry


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every transaction the code under test signs (the real signing still happens)."""
    signed: list[str] = []
    real = transactions.sign

    def sign(*args: Any, **kwargs: Any) -> transactions.SignedTx:
        tx = real(*args, **kwargs)
        signed.append("0x" + tx.tx_hash.hex())
        return tx

    monkeypatch.setattr(transactions, "sign", sign)
    return signed


async def citizen_with_licence(h: Harness, *, reader: bool = True) -> tuple[Actor, str]:
    """A citizen (and its subject id) holding a licence anchored on chain; ``reader``: with the
    data-user department renshe registered, to grant to."""
    registrar = await h.department("gongan")
    if reader:
        await h.department("renshe", roles=["data_user"])
    citizen = await h.subject(registrar)
    await h.issue(registrar, fields=LICENCE_FIELDS)
    await h.settle()
    return citizen, await subject_id(h, citizen)


async def queue_grants(h: Harness, citizen: Actor, sid: str, n: int) -> list[str]:
    """``n`` grants to renshe, signed by the citizen and queued, none sent yet."""
    ids = []
    for _ in range(n):
        r = await grant_as(h, citizen, sid, citizen.key)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def grant_entries(h: Harness) -> list[OutboxEntry]:
    async with h.vault.ctx.sessions() as s:
        return list(await s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "grant").order_by(OutboxEntry.id)))


async def grant_statuses(h: Harness, citizen: Actor, ids: list[str]) -> list[str]:
    return [(await h.http.get(f"/me/grants/{g}", headers=citizen.headers)).json()["status"] for g in ids]


def operator_nonce(h: Harness) -> int:
    chain = h.vault.ctx.chain
    return int(chain.engine.w3.eth.get_transaction_count(chain.operator.address))
