"""Revoking one credential of a batch, end to end on the in-process chain: the vault sends
``revokeCredential`` with the credential's hash alone, under the issuing department; the chain's
status and the online verdict say revoked, the batch root and its other credentials stay valid."""

from __future__ import annotations

from eth_utils.hexadecimal import decode_hex

from tests.support.harness import Harness
from tests.vault_conformance import failed_checks, verify


async def test_one_credential_of_a_batch_is_revoked_by_its_hash(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    first = await h.issue(dept)
    second = await h.issue(dept, title="第二份")
    await h.settle()
    r = await h.http.post(f"/records/{first['id']}/revoke", json={"reason": "lost"}, headers=dept.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoking"
    await h.settle()
    doc = (await h.http.get(f"/me/records/{first['id']}", headers=citizen.headers)).json()
    other = (await h.http.get(f"/me/records/{second['id']}", headers=citizen.headers)).json()
    assert doc["status"] == "revoked" and doc["anchor"]["root"] == other["anchor"]["root"]
    assert doc["anchor"]["proof"], "the two credentials share a batch"
    verdict = await verify(h, {"document": doc["document"], "proof": doc["anchor"]["proof"]})
    assert failed_checks(verdict) == {"not_revoked"}

    client = h.vault.ctx.chain.client
    root = client.root_status(decode_hex(doc["anchor"]["root"]))
    assert root.issuer is not None and not root.revoked  # the batch itself is not revoked
    leaf = decode_hex(verdict["credential_hash"])
    revoked_at = client.credential_revoked_at(root.issuer, leaf)
    assert revoked_at > 0
    proof = [decode_hex(p) for p in doc["anchor"]["proof"]]
    assert client.credential_status(leaf, proof).revoked_at == revoked_at
    # The transaction named the hash alone: one CredentialHashRevoked, from the issuer.
    (log,) = client.contract.events.CredentialHashRevoked().get_logs(
        argument_filters={"credentialHash": leaf}, from_block=0
    )
    assert log["args"]["issuer"] == root.issuer
    tx = h.vault.ctx.chain.engine.w3.eth.get_transaction(log["transactionHash"])
    assert bytes(tx["input"]) == client.encode("revokeCredential", leaf)
    assert (await verify(h, {"document": other["document"], "proof": other["anchor"]["proof"]}))["valid"]
