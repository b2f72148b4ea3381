"""Issuers' JWKS and SD-JWT VC issuer metadata at their well-known URLs, checked against the
registry on chain with code other than the vault's (eth_keys derives the addresses)."""

from __future__ import annotations

import base64

from eth_keys import keys as eth_keys

from tests.support.harness import Harness


def address_of(jwk: dict[str, str]) -> str:
    raw = b"".join(base64.urlsafe_b64decode(jwk[c] + "=" * (-len(jwk[c]) % 4)) for c in ("x", "y"))
    return eth_keys.PublicKey(raw).to_checksum_address()


async def chain_address(h: Harness, code: str) -> str:
    (dept,) = [d for d in (await h.http.get("/departments")).json() if d["code"] == code]
    address: str = dept["chain_address"]
    return address


async def test_an_issuers_keys_are_the_address_the_registry_lists(harness: Harness) -> None:
    h = harness
    await h.department("gongan", name="市公安局")
    await h.settle()
    r = await h.http.get("/.well-known/jwt-vc-issuer/issuers/gongan")  # public: no token
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "max-age=60"
    meta = r.json()
    assert meta["issuer"] == "http://vault.test/issuers/gongan"
    assert meta["display"] == [{"lang": "zh-CN", "name": "市公安局"}]
    (key,) = meta["jwks"]["keys"]
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}  # no private part
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "secp256k1", "ES256K")
    address = await chain_address(h, "gongan")
    assert address_of(key) == key["kid"] == address
    chain = h.vault.ctx.chain.client
    info = chain.department(address)
    assert info is not None and info.active and info.code.rstrip(b"\0") == b"gongan"
    assert meta["chain"]["registry"] == chain.address and meta["chain"]["chain_id"] == h.vault.ctx.chain.chain_id()

    jwks = (await h.http.get("/issuers/gongan/jwks.json")).json()
    assert jwks == {"keys": [key]}


async def test_a_department_that_is_not_an_active_issuer_has_no_keys(harness: Harness) -> None:
    h = harness
    await h.department("gongan")
    await h.department("renshe", roles=["verifier", "data_user"])
    await h.settle()
    assert (await h.http.get("/issuers/renshe/jwks.json")).json() == {"keys": []}
    assert len((await h.http.get("/issuers/gongan/jwks.json")).json()["keys"]) == 1

    r = await h.http.post("/departments/gongan/deactivate", headers=h.admin.headers)
    assert r.status_code == 200, r.text
    # Before the chain confirms, the vault's deactivation already withdraws the key.
    assert (await h.http.get("/issuers/gongan/jwks.json")).json() == {"keys": []}
    await h.settle()
    assert (await h.http.get("/.well-known/jwt-vc-issuer/issuers/gongan")).json()["jwks"] == {"keys": []}


async def test_an_unknown_issuer_is_404(harness: Harness) -> None:
    r = await harness.http.get("/issuers/nobody/jwks.json")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
