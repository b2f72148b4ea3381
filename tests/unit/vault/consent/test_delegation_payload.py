"""A delegation's terms are stored once (issue 10, item 4): the queued ``delegate`` entry names
the delegation and carries the subject's signature; the submitter builds the call from the
row. Entries queued by an older vault, with the signed message in the payload, still go out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keys import SigningKey
from tests.delegation_conformance import enterprise
from tests.support.harness import Actor, Harness, open_harness
from vault import clock
from vault.db.grants import DelegationRow
from vault.db.models import OutboxEntry

DAY = 86_400


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def appoint_unsettled(h: Harness, firm: Actor, agent: SigningKey) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"agent": agent.address, "record_types": ["licence"], "expires_at": clock.now() + 10 * DAY}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)).json()["typed_data"]
    r = await h.http.post(
        "/me/delegations",
        json={"message": typed["message"], "signature": firm.key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert r.status_code == 201, r.text
    return r.json(), typed["message"]


async def queued(h: Harness) -> OutboxEntry:
    async with h.vault.ctx.sessions() as s:
        entry = await s.scalar(select(OutboxEntry).where(OutboxEntry.kind == "delegate"))
        assert entry is not None
        return entry


async def status_of(h: Harness, delegation_id: int) -> str:
    async with h.vault.ctx.sessions() as s:
        row = await s.get(DelegationRow, delegation_id)
        assert row is not None
        return row.status


async def test_the_queued_delegation_names_its_row_and_holds_no_terms(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    delegation, message = await appoint_unsettled(h, firm, SigningKey.generate())
    payload = json.loads((await queued(h)).payload)
    assert payload["delegation_id"] == delegation["id"]
    assert payload["agent"] == message["agent"] and payload["nonce"] == int(message["nonce"])
    assert "terms" not in payload
    assert not {"recordTypes", "record_types", "notBefore", "expiresAt", "expires_at"} & payload.keys()
    await h.settle()
    assert await status_of(h, delegation["id"]) == "active"
    on_chain = h.vault.ctx.chain.consent
    assert on_chain is not None
    d = on_chain.delegation(bytes.fromhex(message["subject"][2:]), message["agent"])
    assert d.exists and d.nonce == int(message["nonce"]) and d.expires_at == int(message["expiresAt"])


async def test_a_delegation_queued_with_its_terms_by_an_older_vault_is_still_anchored(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    delegation, message = await appoint_unsettled(h, firm, SigningKey.generate())
    async with h.vault.ctx.sessions.begin() as s:
        entry = await s.scalar(select(OutboxEntry).where(OutboxEntry.kind == "delegate"))
        assert entry is not None
        signature = json.loads(entry.payload)["signature"]
        entry.payload = json.dumps({"terms": message, "signature": signature}, sort_keys=True)
    await h.settle()
    assert await status_of(h, delegation["id"]) == "active"
