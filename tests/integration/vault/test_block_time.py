"""The vault on a chain that seals a block every 2 seconds, as a consortium chain does (issue
12): every write waits for its block, and the flows still complete. A department and a
subject registered, a credential anchored, a grant signed, activated on chain, read, revoked.
Zero gas, as on such chains, reached only through its URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.hexadecimal import decode_hex

from chain.engines.anvil import AnvilEngine
from tests.delegation_conformance import grant_as, subject_id
from tests.grant_conformance import LICENCE_FIELDS, read
from tests.support.harness import open_harness

pytestmark = pytest.mark.integration


async def test_every_flow_completes_with_two_second_blocks(tmp_path: Path) -> None:
    with AnvilEngine(tmp_path / "chain", zero_gas=True, block_time=2) as node:
        assert node.rpc_url is not None
        key = "0x" + bytes(node.dev_account().key).hex()
        h = await open_harness(tmp_path / "vault", chain="rpc", rpc_url=node.rpc_url, signer_key=key)
        try:
            registrar = await h.department("gongan")
            reader = await h.department("renshe", roles=["data_user"])
            citizen = await h.subject(registrar)
            record = await h.issue(registrar, fields=LICENCE_FIELDS)
            await h.settle()
            mine = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
            assert mine.json()["status"] == "anchored", mine.text

            sid = await subject_id(h, citizen)
            granted = await grant_as(h, citizen, sid, citizen.key)
            assert granted.status_code == 201, granted.text
            await h.settle()
            grant = (await h.http.get(f"/me/grants/{granted.json()['id']}", headers=citizen.headers)).json()
            assert grant["status"] == "active", grant
            assert (await read(h, reader, grant["id"])).status_code == 200

            prepared = await h.http.post(f"/me/grants/{grant['id']}/revoke/prepare", headers=citizen.headers)
            signature = citizen.key.sign_typed_data(prepared.json()["typed_data"])
            revoked = await h.http.post(
                f"/me/grants/{grant['id']}/revoke", json={"signature": signature}, headers=citizen.headers
            )
            assert revoked.status_code == 200, revoked.text
            await h.settle()
            assert (await read(h, reader, grant["id"])).status_code == 403
            consent = h.vault.ctx.chain.consent
            assert consent is not None
            assert consent.grant_status(decode_hex(grant["id"])).revoked
        finally:
            await h.close()
