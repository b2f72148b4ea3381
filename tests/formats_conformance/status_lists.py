"""The IETF Token Status List and the W3C Bitstring Status List, served and signed by the
registry's admin: checked with joserfc (not the jwcrypto that signs them), decoded by hand from
the specifications' bit orders, and compared bit for bit with the signed status snapshot."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

import pytest
from joserfc import jwk, jws
from joserfc.errors import BadSignatureError

from tests.support.harness import Harness
from vault.presentations import status_snapshot


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def verified(h: Harness, path: str, media_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of the list at ``path``, its signature checked with the published key."""
    r = await h.http.get(path)  # public: no token
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media_type
    assert r.headers["cache-control"] == "max-age=60"
    keys = jwk.KeySet.import_key_set((await h.http.get("/status/jwks.json")).json())
    signed = jws.deserialize_compact(r.text, keys, algorithms=["ES256K"])
    return signed.headers(), json.loads(signed.payload)


def ietf_revoked(lst: str, size: int) -> list[int]:
    raw = zlib.decompress(unb64(lst))  # index i: bit i % 8 from the least significant
    return [i for i in range(size) if raw[i // 8] >> (i % 8) & 1]


def w3c_revoked(encoded: str, size: int) -> list[int]:
    assert encoded.startswith("u")
    raw = gzip.decompress(unb64(encoded[1:]))  # index i: bit i % 8 from the most significant
    assert len(raw) >= 16 * 1024
    return [i for i in range(size) if raw[i // 8] >> (7 - i % 8) & 1]


async def snapshot_revoked(h: Harness) -> tuple[int, list[int]]:
    snap = status_snapshot.decode((await h.http.get("/status/snapshot")).text)
    return snap.size, [i for i in range(snap.size) if snap.revoked(i)]


async def lists(h: Harness) -> tuple[list[int], list[int]]:
    """The revoked indexes each list holds (over the snapshot's size), after checking both."""
    size, _ = await snapshot_revoked(h)
    operator = h.vault.ctx.chain.client.admin()
    header, token = await verified(h, "/status/token-list", "application/statuslist+jwt")
    assert header == {"typ": "statuslist+jwt", "alg": "ES256K", "kid": operator}
    assert token["sub"] == "http://vault.test/status/token-list" and token["status_list"]["bits"] == 1
    assert token["iat"] < token["exp"] and token["ttl"] == 60
    header, vc = await verified(h, "/status/bitstring-list", "application/vc+jwt")
    assert header == {"typ": "vc+jwt", "cty": "vc", "alg": "ES256K", "kid": operator}
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vc["id"] == "http://vault.test/status/bitstring-list"
    assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = vc["credentialSubject"]
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    return ietf_revoked(token["status_list"]["lst"], size), w3c_revoked(subject["encodedList"], size)


async def test_a_revocation_is_in_both_lists_and_the_snapshot_at_once(harness: Harness) -> None:
    h = harness
    gongan = await h.department("gongan")
    await h.subject(gongan)
    issued = [await h.issue(gongan, title=f"证书{i}") for i in range(5)]
    await h.settle()
    assert await lists(h) == ([], [])
    indexes = {r["id"]: r["document"]["status_index"] for r in issued}

    for record in (issued[1], issued[3]):
        r = await h.http.post(f"/records/{record['id']}/revoke", json={"reason": "核销"}, headers=gongan.headers)
        assert r.status_code == 200, r.text
    # Not settled: the chain has not confirmed, and the lists already deny.
    wanted = sorted(indexes[r["id"]] for r in (issued[1], issued[3]))
    size, in_snapshot = await snapshot_revoked(h)
    assert in_snapshot == wanted and size >= len(issued)
    assert await lists(h) == (wanted, wanted)
    await h.settle()
    assert await lists(h) == (wanted, wanted)


async def test_the_status_key_is_the_registrys_admin(harness: Harness) -> None:
    h = harness
    (key,) = (await h.http.get("/status/jwks.json")).json()["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}  # no private part
    assert key["kid"] == h.vault.ctx.chain.client.admin() == h.vault.ctx.chain.operator.address


@pytest.mark.parametrize("path", ["/status/token-list", "/status/bitstring-list"])
async def test_a_tampered_list_does_not_verify(harness: Harness, path: str) -> None:
    h = harness
    gongan = await h.department("gongan")
    await h.subject(gongan)
    await h.issue(gongan)
    await h.settle()
    text = (await h.http.get(path)).text
    head, body, signature = text.split(".")
    payload = json.loads(unb64(body))
    if "status_list" in payload:
        payload["status_list"]["lst"] = base64.urlsafe_b64encode(zlib.compress(b"\0")).rstrip(b"=").decode()
    else:
        payload["validUntil"] = "2999-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    keys = jwk.KeySet.import_key_set((await h.http.get("/status/jwks.json")).json())
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    for bad in (f"{head}.{forged}.{signature}", f"{head}.{body}.{flipped}"):
        with pytest.raises(BadSignatureError):
            jws.deserialize_compact(bad, keys, algorithms=["ES256K"])
    jws.deserialize_compact(text, keys, algorithms=["ES256K"])  # the untouched one does
