"""A holder's credential exported as a W3C VC 2.0 secured with JOSE (vc+jwt): verified with
joserfc (not the jwcrypto that signs it) against the issuer's published JWKS, its status bit
read from the Bitstring Status List, its chain anchor checked on the registry."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from eth_utils.hexadecimal import decode_hex
from joserfc import jwk, jws
from joserfc.errors import BadSignatureError

from keys import SigningKey
from tests.support.harness import Actor, Harness
from tests.support.world import OTHER_CITIZEN_ID

ALGS = ["ES256K"]


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def issuer_keys(h: Harness, code: str) -> jwk.KeySet:
    return jwk.KeySet.import_key_set((await h.http.get(f"/issuers/{code}/jwks.json")).json())


async def exported(h: Harness, holder: Actor, record_id: str) -> str:
    r = await h.http.get(f"/me/records/{record_id}/vc", headers=holder.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vc+jwt"
    return r.text


async def bitstring_bit(h: Harness, index: int) -> int:
    r = await h.http.get("/status/bitstring-list")
    keys = jwk.KeySet.import_key_set((await h.http.get("/status/jwks.json")).json())
    encoded = json.loads(jws.deserialize_compact(r.text, keys, algorithms=ALGS).payload)["credentialSubject"]
    raw = gzip.decompress(unb64(encoded["encodedList"][1:]))
    return raw[index // 8] >> (7 - index % 8) & 1


async def setup(h: Harness) -> tuple[Actor, Actor, dict[str, Any]]:
    gongan = await h.department("gongan", name="市公安局")
    holder = await h.subject(gongan)
    record = await h.issue(gongan)
    await h.settle()
    return gongan, holder, record


async def test_an_exported_vc_verifies_with_the_issuers_published_key(harness: Harness) -> None:
    h = harness
    _gongan, holder, record = await setup(h)
    token = await exported(h, holder, record["id"])
    signed = jws.deserialize_compact(token, await issuer_keys(h, "gongan"), algorithms=ALGS)
    (dept,) = [d for d in (await h.http.get("/departments")).json() if d["code"] == "gongan"]
    assert signed.headers() == {"typ": "vc+jwt", "cty": "vc", "alg": "ES256K", "kid": dept["chain_address"]}

    vc = json.loads(signed.payload)
    mine = (await h.http.get(f"/me/records/{record['id']}", headers=holder.headers)).json()
    chain_id = h.vault.ctx.chain.chain_id()
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vc["type"] == ["VerifiableCredential", "LicenceCredential"]
    assert vc["issuer"] == "http://vault.test/issuers/gongan"
    assert vc["validFrom"].endswith("Z") and vc["validUntil"] > vc["validFrom"]
    subject = vc["credentialSubject"]
    assert subject["id"] == f"did:pkh:eip155:{chain_id}:{holder.key.address}"
    assert {k: subject[k] for k in ("title", "record_type", "姓名", "准驾车型")} == {
        "title": "机动车驾驶证",
        "record_type": "licence",
        "姓名": "张三",
        "准驾车型": "C1",
    }
    # The GB/T 36903 metadata, named as the SD-JWT VC names it.
    assert (subject["颁发机构名称"], subject["持证主体名称"], subject["编号"]) == ("市公安局", "张三", record["id"])
    index = mine["document"]["status_index"]
    assert vc["credentialStatus"] == {
        "id": f"http://vault.test/status/bitstring-list#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": "http://vault.test/status/bitstring-list",
    }
    # The anchor the evidence names is the registry's, and its issuer is the key that signed.
    (evidence,) = vc["evidence"]
    client = h.vault.ctx.chain.client
    assert (evidence["chainId"], evidence["registry"]) == (chain_id, client.address)
    assert evidence["credentialHash"] == mine["credential_hash"]
    status = client.credential_status(
        decode_hex(evidence["credentialHash"]), [decode_hex(p) for p in evidence["merkleProof"]]
    )
    assert status.issuer is not None and status.issuer.lower() == dept["chain_address"].lower()
    assert status.revoked_at == 0
    assert await bitstring_bit(h, index) == 0


async def test_a_tampered_vc_does_not_verify(harness: Harness) -> None:
    h = harness
    _gongan, holder, record = await setup(h)
    token = await exported(h, holder, record["id"])
    keys = await issuer_keys(h, "gongan")
    head, body, signature = token.split(".")
    vc = json.loads(unb64(body))
    vc["credentialSubject"]["准驾车型"] = "A1"
    forged = b64(json.dumps(vc, ensure_ascii=False).encode())
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for bad in (f"{head}.{forged}.{signature}", f"{head}.{body}.{flipped}"):
        with pytest.raises(BadSignatureError):
            jws.deserialize_compact(bad, keys, algorithms=ALGS)
    # Another department's key does not verify it either (offered whatever the kid says).
    await h.department("minzheng")
    (other,) = (await h.http.get("/issuers/minzheng/jwks.json")).json()["keys"]
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(token, jwk.ECKey.import_key(other), algorithms=ALGS)


async def test_a_revoked_vcs_bit_is_set_at_once_and_it_is_no_longer_exported(harness: Harness) -> None:
    h = harness
    gongan, holder, record = await setup(h)
    vc = json.loads(unb64((await exported(h, holder, record["id"])).split(".")[1]))
    index = int(vc["credentialStatus"]["statusListIndex"])
    r = await h.http.post(f"/records/{record['id']}/revoke", json={"reason": "核销"}, headers=gongan.headers)
    assert r.status_code == 200, r.text
    assert await bitstring_bit(h, index) == 1  # before the chain confirms
    r = await h.http.get(f"/me/records/{record['id']}/vc", headers=holder.headers)
    assert r.status_code == 409 and "revoked" in r.json()["detail"]


async def test_only_the_holder_exports_and_only_once_anchored(harness: Harness) -> None:
    h = harness
    gongan, holder, record = await setup(h)
    pending = await h.issue(gongan, title="未上链")
    r = await h.http.get(f"/me/records/{pending['id']}/vc", headers=holder.headers)
    assert r.status_code == 409 and "anchored" in r.json()["detail"]
    assert (await h.http.get(f"/me/records/{record['id']}/vc")).status_code == 401
    other = await h.subject(gongan, identifier=OTHER_CITIZEN_ID, name="李四")
    assert (await h.http.get(f"/me/records/{record['id']}/vc", headers=other.headers)).status_code == 404
    assert (await h.http.get("/me/records/nope/vc", headers=holder.headers)).status_code == 404


async def test_a_field_never_takes_the_subjects_id_or_a_json_ld_word(harness: Harness) -> None:
    """A field named ``id`` (a stray column of a bulk import) would replace the holder's DID,
    ``type`` the subject's JSON-LD type: such a credential is refused, naming the field (issuance
    already refuses names starting with ``@``)."""
    h = harness
    gongan, holder, _record = await setup(h)
    clashing = {name: await h.issue(gongan, fields={"姓名": "张三", name: "did:evil"}) for name in ("id", "type")}
    await h.settle()
    for name, record in clashing.items():
        r = await h.http.get(f"/me/records/{record['id']}/vc", headers=holder.headers)
        assert r.status_code == 409 and repr(name) in r.json()["detail"], (name, r.text)


async def test_after_a_key_replacement_the_vc_names_the_holders_new_key(harness: Harness) -> None:
    h = harness
    gongan, holder, record = await setup(h)
    chain_id = h.vault.ctx.chain.chain_id()
    vc = json.loads(unb64((await exported(h, holder, record["id"])).split(".")[1]))
    assert vc["credentialSubject"]["id"] == f"did:pkh:eip155:{chain_id}:{holder.key.address}"
    new_key = SigningKey.generate()
    sid = (await h.http.get("/me", headers=holder.headers)).json()["id"]
    r = await h.http.post(f"/subjects/{sid}/key", json={"address": new_key.address}, headers=gongan.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    renewed = await h.login(Actor(new_key))
    vc = json.loads(unb64((await exported(h, renewed, record["id"])).split(".")[1]))
    assert vc["credentialSubject"]["id"] == f"did:pkh:eip155:{chain_id}:{new_key.address}"
