"""SD-JWT VC: exported from the vault, checked by the IETF reference implementation (sd_jwt)
and by an independent JOSE library (joserfc) with the issuer's JWKS from its well-known URL,
presented with a key binding and verified at the counter."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from joserfc import jws as rfc_jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier

from keys import SigningKey
from tests.support.harness import Actor, Harness
from vault import clock
from vault.interop import jose_keys, sd_jwt_holder

FIELDS = {"姓名": "张三", "准驾车型": "C1", "档案编号": "110100123456"}


class ES256KVerifier(SDJWTVerifier):  # type: ignore[misc]
    """The reference verifier checks key binding JWTs as ES256 only; the holder's key is secp256k1."""

    def _verify_key_binding_jwt(
        self, expected_aud: Any = None, expected_nonce: Any = None, sign_alg: Any = None
    ) -> None:
        super()._verify_key_binding_jwt(expected_aud, expected_nonce, "ES256K")


@dataclass
class Setup:
    h: Harness
    dept: Actor
    citizen: Actor
    record_id: str

    @property
    def holder_key(self) -> jwk.JWK:
        return jose_keys.private_jwk(self.citizen.key.account)

    async def export(self, **body: Any) -> str:
        body = body or {"holder_jwk": jose_keys.public_jwk(self.citizen.key.account)}
        r = await self.h.http.post(f"/me/records/{self.record_id}/sd-jwt", json=body, headers=self.citizen.headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/dc+sd-jwt")
        return r.text

    async def nonce(self) -> str:
        r = await self.h.http.post("/presentations/challenges", headers=self.dept.headers)
        assert r.status_code == 200, r.text
        nonce: str = r.json()["nonce"]
        return nonce

    async def check(self, text: str) -> dict[str, Any]:
        r = await self.h.http.post("/presentations/verify", json={"text": text}, headers=self.dept.headers)
        assert r.status_code == 200, r.text
        verdict: dict[str, Any] = r.json()
        return verdict


async def setup(h: Harness) -> Setup:
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    record = await h.issue(dept, fields=FIELDS)
    await h.settle()
    return Setup(h, dept, citizen, record["id"])


def _unb64(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _leaves(value: Any) -> list[Any]:
    """Every key and scalar of a JSON value (not substrings: "C1" may occur inside a digest)."""
    if isinstance(value, dict):
        return [*value, *(x for v in value.values() for x in _leaves(v))]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def checks(verdict: dict[str, Any]) -> dict[str, bool]:
    return {c["name"]: c["passed"] for c in verdict["checks"]}


async def test_an_export_verifies_with_the_reference_implementation_and_joserfc(harness: Harness) -> None:
    s = await setup(harness)
    text = await s.export()
    assert text.endswith("~")
    meta = (await harness.http.get("/.well-known/jwt-vc-issuer/issuers/gongan")).json()

    def issuer_key(iss: str, header: dict[str, Any]) -> jwk.JWK:
        assert iss == meta["issuer"]
        (key,) = [k for k in meta["jwks"]["keys"] if k["kid"] == header["kid"]]
        return jwk.JWK(**key)

    claims = SDJWTVerifier(text, issuer_key).get_verified_payload()
    assert {k: claims[k] for k in FIELDS} == FIELDS
    assert claims["title"] == "机动车驾驶证" and claims["record_type"] == "licence"
    assert claims["iss"] == "http://vault.test/issuers/gongan"
    assert claims["vct"] == "urn:datavault:vct:licence"
    assert claims["nbf"] < claims["exp"] and isinstance(claims["iat"], int)
    assert claims["status"]["status_list"]["uri"] == "http://vault.test/status/token-list"
    assert isinstance(claims["status"]["status_list"]["idx"], int)
    assert jose_keys.address_of_jwk(claims["cnf"]["jwk"]) == s.citizen.key.address
    chain = harness.vault.ctx.chain
    assert claims["anchor"]["chain_id"] == chain.chain_id() and claims["anchor"]["registry"] == chain.client.address

    # Independently: joserfc, with the JWK Set the issuer's identifier serves.
    jwks = (await harness.http.get("/issuers/gongan/jwks.json")).json()
    issuer_jwt = text.split("~")[0]
    found = rfc_jws.deserialize_compact(issuer_jwt, KeySet.import_key_set(jwks), algorithms=["ES256K"])
    assert found.protected == {"alg": "ES256K", "typ": "dc+sd-jwt", "kid": jwks["keys"][0]["kid"]}
    head, _, sig = issuer_jwt.split(".")
    with pytest.raises(BadSignatureError):
        forged = base64.urlsafe_b64encode(json.dumps({**json.loads(found.payload), "exp": 2**40}).encode())
        rfc_jws.deserialize_compact(
            f"{head}.{forged.decode().rstrip('=')}.{sig}", KeySet.import_key_set(jwks), algorithms=["ES256K"]
        )


async def test_every_claim_is_disclosable_and_a_presentation_shows_only_those_chosen(harness: Harness) -> None:
    s = await setup(harness)
    text = await s.export()
    payload = _unb64(text.split("~")[0].split(".")[1])
    # (The record type is in vct too, in the clear: that is what vct is for.)
    shown_in_clear = set(_leaves(payload))
    for name, value in {**FIELDS, "title": "机动车驾驶证"}.items():
        assert name not in payload and value not in shown_in_clear
    assert "record_type" not in payload
    # Every claim of credential_claims, the GB/T 36903 items with the holder's name among them.
    names = set(sd_jwt_holder.claim_names(text))
    assert {*FIELDS, "title", "record_type", "名称", "持证主体名称", "颁发机构名称"} <= names
    assert not names & set(payload)

    nonce = await s.nonce()
    shown = sd_jwt_holder.present(
        text, ["准驾车型"], holder_key=s.holder_key, nonce=nonce, aud="gongan", now=clock.now()
    )
    jwks = (await harness.http.get("/issuers/gongan/jwks.json")).json()
    ref = ES256KVerifier(shown, lambda _i, _h: jwk.JWK(**jwks["keys"][0]), expected_aud="gongan", expected_nonce=nonce)
    claims = ref.get_verified_payload()
    assert claims["准驾车型"] == "C1" and not {"姓名", "档案编号", "title"} & set(claims)

    verdict = await s.check(shown)
    assert verdict["valid"], verdict
    assert verdict["disclosed"] == {"准驾车型": "C1"}
    assert set(checks(verdict)) == {
        "issuer_signature",
        "disclosed_fields",
        "batch_inclusion",
        "issuer_active",
        "not_revoked",
        "validity",
        "holder_binding",
        "fresh",
        "not_replayed",
    }
    assert verdict["issuer_name"] == "市公安局"
    again = await s.check(shown)
    assert checks(again)["not_replayed"] is False


async def test_a_changed_disclosure_fails(harness: Harness) -> None:
    s = await setup(harness)
    text = await s.export()
    nonce = await s.nonce()
    shown = sd_jwt_holder.present(
        text, ["准驾车型"], holder_key=s.holder_key, nonce=nonce, aud="gongan", now=clock.now()
    )
    jwt, disclosure, kb = shown.split("~")
    salt, name, _ = _unb64(disclosure)
    changed = base64.urlsafe_b64encode(json.dumps([salt, name, "A1"]).encode()).decode().rstrip("=")
    tampered = f"{jwt}~{changed}~{kb}"
    jwks = (await harness.http.get("/issuers/gongan/jwks.json")).json()
    with pytest.raises(ValueError, match="digest"):
        ES256KVerifier(tampered, lambda _i, _h: jwk.JWK(**jwks["keys"][0]), expected_aud="gongan", expected_nonce=nonce)
    verdict = await s.check(tampered)
    assert not verdict["valid"]
    assert checks(verdict)["disclosed_fields"] is False and checks(verdict)["holder_binding"] is False
    # The holder's own key cannot launder it: the reference holder drops a disclosure the
    # issuer did not sign, and the counter sees nothing of it.
    rebound = sd_jwt_holder.present(
        f"{jwt}~{changed}~", ["准驾车型"], holder_key=s.holder_key, nonce=await s.nonce(), aud="gongan", now=clock.now()
    )
    verdict = await s.check(rebound)
    assert rebound.count("~") == 1 and verdict["disclosed"] == {}


async def test_a_stale_or_misdirected_key_binding_fails(harness: Harness) -> None:
    s = await setup(harness)
    text = await s.export()
    now = clock.now()

    async def verdict_of(nonce: str, aud: str, at: int, key: jwk.JWK | None = None) -> dict[str, bool]:
        shown = sd_jwt_holder.present(text, ["姓名"], holder_key=key or s.holder_key, nonce=nonce, aud=aud, now=at)
        return checks(await s.check(shown))

    assert (await verdict_of(await s.nonce(), "gongan", now - 3600))["fresh"] is False
    assert (await verdict_of(await s.nonce(), "renshe", now))["holder_binding"] is False
    assert (await verdict_of("not-a-challenge", "gongan", now))["holder_binding"] is False
    other = jose_keys.private_jwk(SigningKey.generate().account)
    assert (await verdict_of(await s.nonce(), "gongan", now, other))["holder_binding"] is False
    # Another counter's challenge: spent nowhere, refused here.
    renshe = await harness.department("renshe", name="人社局")
    r = await harness.http.post("/presentations/challenges", headers=renshe.headers)
    assert (await verdict_of(r.json()["nonce"], "gongan", now))["not_replayed"] is False
    # The identifier URL of the counter is a valid audience too; and no key binding at all fails.
    assert all((await verdict_of(await s.nonce(), "http://vault.test/issuers/gongan", now)).values())
    assert checks(await s.check(text))["holder_binding"] is False


async def test_a_key_other_than_the_holders_is_refused_at_export(harness: Harness) -> None:
    s = await setup(harness)
    url = f"/me/records/{s.record_id}/sd-jwt"
    stranger = jose_keys.public_jwk(SigningKey.generate().account)
    for body in (
        {"holder_jwk": stranger},
        {},
        {"holder_public_key": "0x1234"},
        {"holder_jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
        {"holder_jwk": {"kty": "EC", "crv": "secp256k1", "x": 5, "y": []}},
    ):
        r = await harness.http.post(url, json=body, headers=s.citizen.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # The 0x-hex public key works as the JWK does.
    raw = s.citizen.key.account._key_obj.public_key.to_bytes()
    by_hex = await s.export(holder_public_key="0x" + raw.hex())
    assert sd_jwt_holder.claim_names(by_hex) == sd_jwt_holder.claim_names(await s.export())


async def test_a_revoked_credential_shows_not_revoked_false(harness: Harness) -> None:
    s = await setup(harness)
    text = await s.export()
    r = await harness.http.post(f"/records/{s.record_id}/revoke", json={"reason": "吊销"}, headers=s.dept.headers)
    assert r.status_code == 200, r.text
    nonce = await s.nonce()
    shown = sd_jwt_holder.present(text, ["姓名"], holder_key=s.holder_key, nonce=nonce, aud="gongan", now=clock.now())
    assert checks(await s.check(shown))["not_revoked"] is False
    await harness.settle()
    nonce = await s.nonce()
    shown = sd_jwt_holder.present(text, ["姓名"], holder_key=s.holder_key, nonce=nonce, aud="gongan", now=clock.now())
    verdict = await s.check(shown)
    assert checks(verdict)["not_revoked"] is False and not verdict["valid"]
    r = await harness.http.post(f"/me/records/{s.record_id}/sd-jwt", json={}, headers=s.citizen.headers)
    assert r.status_code in (409, 422)


@pytest.mark.parametrize(
    "text",
    [
        "abc~def~",
        "a.b.c~~",
        "eyJhbGciOiJFUzI1NksifQ.e30.c2ln~!!!~",
        "eyJhbGciOiJFUzI1NksifQ.W10.c2ln~",
        "eyJhbGciOiJFUzI1NksifQ.e30.c2ln~WyJhIl0~",
        "eyJhbGciOiJFUzI1NksifQ.e30.c2ln~~x.y.z",
        "eyJhbGciOiJFUzI1NksifQ." + "W" * 40000 + ".c2ln~",
    ],
)
async def test_garbage_with_a_tilde_gets_a_verdict_never_a_500(harness: Harness, text: str) -> None:
    s = await setup(harness)
    r = await harness.http.post("/presentations/verify", json={"text": text}, headers=s.dept.headers)
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is False and r.json()["failed"]


async def test_a_replaced_holder_key_no_longer_binds_nor_exports(harness: Harness) -> None:
    s = await setup(harness)
    old_key = s.holder_key
    text = await s.export()
    sid = (await harness.http.get("/me", headers=s.citizen.headers)).json()["id"]
    new = SigningKey.generate()
    r = await harness.http.post(f"/subjects/{sid}/key", json={"address": new.address}, headers=s.dept.headers)
    assert r.status_code == 200, r.text
    await harness.settle()  # the chain confirms: the registry lists the new key
    # A credential bound to the old key, shown with the old key: refused, in DV1's words.
    shown = sd_jwt_holder.present(
        text, ["姓名"], holder_key=old_key, nonce=await s.nonce(), aud="gongan", now=clock.now()
    )
    verdict = await s.check(shown)
    assert not verdict["valid"] and checks(verdict)["holder_binding"] is False
    (binding,) = [c for c in verdict["checks"] if c["name"] == "holder_binding"]
    assert binding["reason"].startswith("signed by someone other than the credential's holder")
    # The old key exports nothing more; the new one does, and what it shows is accepted.
    url = f"/me/records/{s.record_id}/sd-jwt"
    r = await harness.http.post(url, json={"holder_jwk": public_jwk_of(old_key)}, headers=s.citizen.headers)
    assert r.status_code == 401 or (r.status_code == 422 and "current key" in r.json()["detail"]), r.text
    citizen = await harness.login(Actor(new))
    r = await harness.http.post(url, json={"holder_jwk": public_jwk_of(old_key)}, headers=citizen.headers)
    assert r.status_code == 422 and "current key" in r.json()["detail"], r.text
    s.citizen = citizen
    renewed = await s.export()
    shown = sd_jwt_holder.present(
        renewed, ["姓名"], holder_key=s.holder_key, nonce=await s.nonce(), aud="gongan", now=clock.now()
    )
    verdict = await s.check(shown)
    assert verdict["valid"], verdict


def public_jwk_of(key: jwk.JWK) -> dict[str, Any]:
    exported: dict[str, Any] = key.export_public(as_dict=True)
    return exported


@pytest.mark.parametrize("idx", [10**30, -(10**30), 2**63])
async def test_a_huge_status_index_gets_a_verdict_never_a_500(harness: Harness, idx: int) -> None:
    s = await setup(harness)
    text = await s.export()
    jwt, *disclosures = text.split("~")
    head, body, sig = jwt.split(".")
    payload = _unb64(body)
    payload["status"]["status_list"]["idx"] = idx  # the issuer did not sign this: its signature fails
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    altered = "~".join([f"{head}.{forged}.{sig}", *disclosures])
    shown = sd_jwt_holder.present(
        altered, ["姓名"], holder_key=s.holder_key, nonce=await s.nonce(), aud="gongan", now=clock.now()
    )
    for candidate in (altered, shown):
        r = await harness.http.post("/presentations/verify", json={"text": candidate}, headers=s.dept.headers)
        assert r.status_code == 200, r.text
        assert r.json()["valid"] is False and checks(r.json())["issuer_signature"] is False


async def test_a_deactivated_issuers_credential_is_not_exported(harness: Harness) -> None:
    s = await setup(harness)
    await s.export()
    r = await harness.http.post("/departments/gongan/deactivate", headers=harness.admin.headers)
    assert r.status_code == 200, r.text
    r = await harness.http.post(
        f"/me/records/{s.record_id}/sd-jwt",
        json={"holder_jwk": jose_keys.public_jwk(s.citizen.key.account)},
        headers=s.citizen.headers,
    )
    assert r.status_code == 409 and "deactivated" in r.json()["detail"], r.text
    assert (await harness.http.get(f"/me/records/{s.record_id}/vc", headers=s.citizen.headers)).status_code == 409


async def test_a_field_named_as_sd_jwt_syntax_is_refused(harness: Harness) -> None:
    dept = await harness.department("gongan", name="市公安局")
    citizen = await harness.subject(dept)
    record = await harness.issue(dept, fields={"姓名": "张三", "...": "x"})
    await harness.settle()
    r = await harness.http.post(
        f"/me/records/{record['id']}/sd-jwt",
        json={"holder_jwk": jose_keys.public_jwk(citizen.key.account)},
        headers=citizen.headers,
    )
    assert r.status_code == 409 and "'...'" in r.json()["detail"], r.text


async def test_a_holder_jwk_must_be_canonical_base64url_and_only_its_point_is_bound(harness: Harness) -> None:
    s = await setup(harness)
    url = f"/me/records/{s.record_id}/sd-jwt"
    good = jose_keys.public_jwk(s.citizen.key.account)
    last = good["x"][-1]
    stray_bits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = stray_bits[stray_bits.index(last) ^ 1]  # 32 bytes: the last character's low 2 bits are unused
    for bad in (
        {**good, "x": good["x"] + "="},
        {**good, "y": good["y"] + "="},
        {**good, "x": good["x"][:-1] + other},
        {**good, "x": good["x"].replace("_", "/").replace("-", "+")},
        {**good, "x": " " + good["x"]},
    ):
        if bad == good:
            continue
        r = await harness.http.post(url, json={"holder_jwk": bad}, headers=s.citizen.headers)
        assert r.status_code == 422, (bad, r.text)
    text = await s.export(holder_jwk={**good, "kid": "someone", "use": "enc", "ext": True, "key_ops": ["verify"]})
    cnf = _unb64(text.split("~")[0].split(".")[1])["cnf"]
    assert cnf == {"jwk": {"kty": "EC", "crv": "secp256k1", "x": good["x"], "y": good["y"]}}
