"""DC1 presentations (a CWT in COSE_Sign1, ES256K, Base45 of zlib, as the EU DCC's HC1) through
the API, on the in-process chain: made with the ``cwt`` library on the holder's side, checked
by the counter with every check DV1 gets, and verified independently with ``pycose``.

pycose 1.1.0 knows the secp256k1 curve but has no ES256K algorithm: this module registers one
(ECDSA with SHA-256, COSE identifier -47, RFC 8812) built on pycose's own ECDSA class, which
uses python-ecdsa, not OpenSSL as ``cwt`` does. The ``base45`` package is not installed here,
so Base45 is read back with the vault's own decoder (RFC 9285; a different module from the
COSE code under test).
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from typing import Any

import cbor2
from base45 import b45decode
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from ecdsa.curves import SECP256k1 as ECDSA_SECP256K1
from pycose.algorithms import CoseAlgorithm, _Ecdsa
from pycose.keys.curves import SECP256K1
from pycose.keys.ec2 import EC2Key
from pycose.messages.cosemessage import CoseMessage
from pycose.messages.sign1message import Sign1Message

from keys import SigningKey
from tests.presentation_conformance import ALL_CHECKS, LICENCE, SHOWN, check, failed, world
from tests.support.harness import Actor, Harness, freeze
from tests.support.world import OTHER_CITIZEN_ID
from vault import clock
from vault.interop.jose_keys import private_jwk, public_jwk
from vault.presentations import base45, cose_qr, qr
from vault.presentations import codec as presentation_codec
from vault.presentations.issuer_signatures import credential_domain
from vault.presentations.model import Presentation, presentation_typed_data


@CoseAlgorithm.register_attribute()
class Es256K(_Ecdsa):
    """ES256K (RFC 8812), which pycose 1.1.0 lacks: its ECDSA with SHA-256 on secp256k1."""

    identifier = -47
    fullname = "ES256K"

    @classmethod
    def get_hash_func(cls) -> Any:
        return hashlib.sha256

    @classmethod
    def get_curve(cls) -> Any:
        return ECDSA_SECP256K1


def aad(h: Harness) -> bytes:
    return cose_qr.external_aad(credential_domain(h.vault.ctx))


def private(key: SigningKey) -> dict[str, Any]:
    exported: dict[str, Any] = private_jwk(key.account).export_private(as_dict=True)
    return exported


async def prepared_cose(h: Harness, holder: Actor, record_id: str, fields: list[str], **body: Any) -> dict[str, Any]:
    r = await h.http.post(
        "/me/presentations/cose",
        json={"record_id": record_id, "fields": fields, "public_key": public_jwk(holder.key.account), **body},
        headers=holder.headers,
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def present_cose(
    h: Harness, holder: Actor, record_id: str, fields: list[str] = SHOWN, **body: Any
) -> dict[str, Any]:
    """Prepared by the vault, signed on the holder's side with ``cwt`` from the CWT itself."""
    p = await prepared_cose(h, holder, record_id, fields, **body)
    signature = cose_qr.sign(p["unsigned"], private(holder.key), aad(h))
    r = await h.http.post(
        "/me/presentations/cose/sign",
        json={"unsigned": p["unsigned"], "signature": "0x" + signature.hex()},
        headers=holder.headers,
    )
    assert r.status_code == 200, r.text
    signed: dict[str, Any] = r.json()
    return signed


def cose_bytes(text: str) -> bytes:
    assert text.startswith("DC1:")
    return zlib.decompress(b45decode(text[4:]))  # the base45 package, not the vault's codec


def pycose_verify(text: str, key: SigningKey, aad: bytes) -> dict[Any, Any]:
    """The CWT claims, once pycose verified the COSE_Sign1 with ``key``'s public half."""
    message = CoseMessage.decode(cose_bytes(text))
    assert isinstance(message, Sign1Message)
    numbers = private_jwk(key.account).get_op_key("verify").public_numbers()
    message.key = EC2Key(crv=SECP256K1, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    message.external_aad = aad  # type: ignore[misc]  # pycose's setter, unseen by mypy
    assert message.verify_signature() is True
    assert message.payload is not None
    claims: dict[Any, Any] = cbor2.loads(message.payload)
    return claims


def reencoded(text: str, **changes: Any) -> str:
    """``text`` with its COSE parts replaced (signature kept): what a forger can make."""
    p = cose_qr.decode(text)
    return dataclasses.replace(p, **changes).text()


async def test_a_dc1_presentation_verifies_at_the_counter_and_with_pycose(harness: Harness) -> None:
    h = harness
    w = await world(h)
    signed = await present_cose(h, w.citizen, w.licence["id"])
    text = signed["text"]
    assert text.startswith("DC1:") and signed["chars"] == len(text)
    verdict = await check(h, w.counter, text)
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == ALL_CHECKS
    assert verdict["disclosed"] == {"姓名": "张三", "准驾车型": "C1"}
    assert verdict["credential"]["credential_hash"] == w.licence["credential_hash"]
    # pycose, with the holder's key and the deployment's external AAD, agrees; the claims say
    # who and when in CWT terms.
    claims = pycose_verify(text, w.citizen.key, aad(h))
    assert claims[1] == "http://vault.test/issuers/gongan" and claims[2] == w.citizen.key.address
    assert claims[4] == signed["expires_at"] and claims[4] - claims[6] == 300 and len(claims[7]) == 16
    cnf = claims[8][1]
    assert cnf[-2] == cose_qr.decode(text).holder_x
    shown = {f[1]: f[2] for f in claims[cose_qr.PRESENTATION_CLAIM][5]}
    assert shown == {"姓名": "张三", "准驾车型": "C1"} and LICENCE["证号"] not in repr(claims)
    # Without the deployment's AAD (another chain or registry) the signature does not hold.
    message = CoseMessage.decode(cose_bytes(text))
    assert isinstance(message, Sign1Message)
    numbers = private_jwk(w.citizen.key.account).get_op_key("verify").public_numbers()
    message.key = EC2Key(crv=SECP256K1, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert message.verify_signature() is False


async def test_dv1_and_dc1_of_the_same_two_fields(harness: Harness, capsys: Any) -> None:
    """The numbers README quotes: one presentation (2 fields, same nonce and times) in both forms."""
    h = harness
    w = await world(h)
    dc1 = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    cose = cose_qr.decode(dc1)
    plain = Presentation(**{f.name: getattr(cose, f.name) for f in dataclasses.fields(Presentation)})
    typed = presentation_typed_data(credential_domain(h.vault.ctx), plain)
    dv1 = presentation_codec.encode(plain.signed(bytes.fromhex(w.citizen.key.sign_typed_data(typed)[2:])))
    sizes = {name: (len(t), qr.version_for(t)) for name, t in (("DV1", dv1), ("DC1", dc1))}
    with capsys.disabled():
        print(f"\nsame presentation, 2 fields: {sizes} (characters, QR version at level M)")
    assert len(dv1) < len(dc1) <= presentation_codec.MAX_TEXT_CHARS


async def test_a_phone_signing_the_sig_structure_raw_makes_the_same_presentation(harness: Harness) -> None:
    """A phone without a COSE library signs the Sig_structure the vault returns (SHA-256,
    ECDSA on secp256k1, r then s): here OpenSSL through ``cryptography``, not ``cwt``."""
    h = harness
    w = await world(h)
    p = await prepared_cose(h, w.citizen, w.licence["id"], ["准驾车型"])
    der = (
        private_jwk(w.citizen.key.account)
        .get_op_key("sign")
        .sign(bytes.fromhex(p["to_be_signed"][2:]), ec.ECDSA(hashes.SHA256()))
    )
    r, s = decode_dss_signature(der)
    signature = "0x" + (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()
    resp = await h.http.post(
        "/me/presentations/cose/sign",
        json={"unsigned": p["unsigned"], "signature": signature},
        headers=w.citizen.headers,
    )
    assert resp.status_code == 200, resp.text
    assert (await check(h, w.counter, resp.json()["text"]))["valid"] is True


async def test_a_flipped_byte_in_the_payload_breaks_the_signature(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    p = cose_qr.decode(text)
    salt = p.fields[0].salt
    at = p.payload.index(salt)
    flipped = p.payload[:at] + bytes([salt[0] ^ 1]) + p.payload[at + 1 :]
    assert failed(await check(h, w.counter, reencoded(text, payload=flipped))) == [
        "holder_signature",
        "disclosed_fields",
    ]
    # A field's value changed (DV1: disclosed_fields only; here the holder signed it too).
    claims = cbor2.loads(p.payload)
    for field in claims[cose_qr.PRESENTATION_CLAIM][5]:
        field[2] = "A1" if field[1] == "准驾车型" else field[2]
    forged = cbor2.dumps(claims, canonical=True)
    assert failed(await check(h, w.counter, reencoded(text, payload=forged))) == [
        "holder_signature",
        "disclosed_fields",
    ]
    # The nonce changed: only the signature tells.
    nonce = p.payload.index(p.nonce)
    other = p.payload[:nonce] + bytes(16) + p.payload[nonce + 16 :]
    assert failed(await check(h, w.counter, reencoded(text, payload=other))) == ["holder_signature"]
    # The genuine one was not spent by the forgeries scanned first.
    assert (await check(h, w.counter, text))["valid"] is True


async def test_a_wrong_key_is_refused(harness: Harness) -> None:
    h = harness
    w = await world(h)
    stranger = SigningKey.generate()
    # The vault will not put someone else's key in the holder's CWT...
    r = await h.http.post(
        "/me/presentations/cose",
        json={"record_id": w.licence["id"], "fields": SHOWN, "public_key": public_jwk(stranger.account)},
        headers=w.citizen.headers,
    )
    assert r.status_code == 422 and "not your key" in r.json()["detail"]
    # ...nor take a signature by another key than the one the CWT names.
    p = await prepared_cose(h, w.citizen, w.licence["id"], SHOWN)
    bad = cose_qr.sign(p["unsigned"], private(stranger), aad(h))
    r = await h.http.post(
        "/me/presentations/cose/sign",
        json={"unsigned": p["unsigned"], "signature": "0x" + bad.hex()},
        headers=w.citizen.headers,
    )
    assert r.status_code == 422 and "not by your key" in r.json()["detail"]
    # Made outside the vault: the stranger's key in cnf, signed by it. The COSE signature holds,
    # but the key is not the one the consent registry lists for the subject.
    unsigned = cose_qr.decode(p["unsigned"])
    numbers = private_jwk(stranger.account).get_op_key("verify").public_numbers()
    forged = cose_qr.unsigned(
        unsigned,
        issuer_id=unsigned.issuer_id,
        holder_key=numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big"),
    )
    signature = cose_qr.sign(forged.text(), private(stranger), aad(h))
    assert failed(await check(h, w.counter, forged.with_signature(signature).text())) == ["holder_signature"]
    # Never signed.
    assert failed(await check(h, w.counter, p["unsigned"])) == ["holder_signature"]


async def test_expired_and_replayed_fail_as_dv1_does(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    assert (await check(h, w.counter, text))["valid"] is True
    assert failed(await check(h, w.counter, text)) == ["not_replayed"]
    other = await h.department("minzheng", roles=["verifier"])
    assert failed(await check(h, other, text)) == ["not_replayed"]
    # A counter's challenge is the CWT's cti, bound to that counter.
    r = await h.http.post("/presentations/challenges", headers=w.counter.headers)
    nonce = r.json()["nonce"]
    challenged = (await present_cose(h, w.citizen, w.licence["id"], nonce=nonce))["text"]
    assert cose_qr.decode(challenged).nonce.hex() == nonce[2:]
    assert failed(await check(h, other, challenged)) == ["not_replayed"]
    assert (await check(h, w.counter, challenged))["valid"] is True
    stale = (await present_cose(h, w.citizen, w.licence["id"], ttl=60))["text"]
    freeze(h.app, clock.now() + 61)
    assert failed(await check(h, w.counter, stale)) == ["fresh"]


async def test_a_revoked_credential_in_dc1_is_invalid(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    r = await h.http.post(f"/records/{w.licence['id']}/revoke", json={"reason": "吊销"}, headers=w.issuer.headers)
    assert r.status_code == 200, r.text
    assert failed(await check(h, w.counter, text)) == ["not_revoked"]


async def test_a_dc1_qr_code_verifies_from_its_picture(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    r = await h.http.post(
        "/presentations/verify/image", content=qr.png(text), headers={**w.counter.headers, "Content-Type": "image/png"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["disclosed"] == {"姓名": "张三", "准驾车型": "C1"}


async def test_the_holders_qr_endpoint_draws_a_dc1_presentation(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    r = await h.http.post("/me/presentations/qr", json={"text": text}, headers=w.citizen.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert qr.decode_image(r.content) == text
    other = await h.subject(w.issuer, identifier=OTHER_CITIZEN_ID)
    r = await h.http.post("/me/presentations/qr", json={"text": text}, headers=other.headers)
    assert r.status_code == 422 and "another subject" in r.json()["detail"]


async def test_garbage_dc1_is_a_reasoned_refusal_never_a_500(harness: Harness) -> None:
    h = harness
    w = await world(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    raw = cose_bytes(text)
    bomb = "DC1:" + base45.encode(zlib.compress(bytes(10_000_000), 9))
    junk = [
        "DC1:",
        "DC1:%%%%",
        "DC1:" + text[4:-3],  # cut short
        "DC1:" + "A" * 5000,
        "DC1:" + base45.encode(b"not zlib"),
        "DC1:" + base45.encode(zlib.compress(b"\xff\xff")),
        "DC1:" + base45.encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(1, 0)))),
        "DC1:" + base45.encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(98, [])))),
        "DC1:" + base45.encode(zlib.compress(raw + b"\x00")),
        "DC1:" + base45.encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""])))),
        "DC1:" + base45.encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x26", {}, b"", b""])))),
        reencoded(text, payload=cbor2.dumps({1: "x"})),
        reencoded(text, payload=cbor2.dumps([1, 2, 3])),
        bomb,
    ]
    for bad in junk:
        assert failed(await check(h, w.counter, bad)) == ["format"], bad[:60]
    for bad in junk[:3]:
        r = await h.http.post(
            "/me/presentations/cose/sign",
            json={"unsigned": bad, "signature": "0x" + "11" * 64},
            headers=w.citizen.headers,
        )
        assert r.status_code == 422, r.text
    r = await h.http.post(
        "/me/presentations/cose/sign", json={"unsigned": text, "signature": "0x1234"}, headers=w.citizen.headers
    )
    assert r.status_code == 422 and "128 hex digits" in r.json()["detail"]
    r = await h.http.post(
        "/me/presentations/cose",
        json={
            "record_id": w.licence["id"],
            "fields": [],
            "public_key": {"kty": "EC", "crv": "P-256", "x": "", "y": ""},
        },
        headers=w.citizen.headers,
    )
    assert r.status_code == 422, r.text


async def test_offline_a_dc1_presentation_is_checked_against_a_snapshot(harness: Harness, tmp_path: Any) -> None:
    from tests.presentation_conformance import offline, snapshot
    from vault.interop import urls
    from vault.presentations.nonces import FileReplayCache

    h = harness
    w = await world(h)
    snap = await snapshot(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    seen = FileReplayCache(tmp_path / "seen.json")
    ours: dict[str, Any] = {"issuer_id": lambda code: urls.issuer_id("http://vault.test", code)}
    verdict = await offline(snap, text, replay=seen, **ours)
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == [*ALL_CHECKS, "snapshot"]
    assert failed(await offline(snap, text, replay=seen, **ours)) == ["not_replayed"]


async def holder_made(h: Harness, holder: Actor, record_id: str, iss: str) -> str:
    """A DC1 the holder re-made outside the vault with ``iss`` of its choosing, signed by its key."""
    p = cose_qr.decode((await prepared_cose(h, holder, record_id, SHOWN))["unsigned"])
    remade = cose_qr.unsigned(p, issuer_id=iss, holder_key=p.holder_x + p.holder_y)
    return remade.with_signature(cose_qr.sign(remade.text(), private(holder.key), aad(h))).text()


async def test_a_dc1_whose_iss_points_elsewhere_is_refused(harness: Harness) -> None:
    """The holder signs ``iss``: one naming another site (where a COSE reader resolving it would
    go) is refused; the vault's identifier of the issuer, or its bare code, is accepted."""
    h = harness
    w = await world(h)
    evil = await holder_made(h, w.citizen, w.licence["id"], "https://evil.example/phish/gongan")
    verdict = await check(h, w.counter, evil)
    assert failed(verdict) == ["format"] and "evil.example" in verdict["checks"][0]["reason"]
    for iss in ("http://vault.test/issuers/gongan", "gongan"):
        assert (await check(h, w.counter, await holder_made(h, w.citizen, w.licence["id"], iss)))["valid"] is True


async def test_offline_a_dc1_iss_must_be_derived_from_the_vaults_url_or_the_bare_code(harness: Harness) -> None:
    from tests.presentation_conformance import offline, snapshot
    from vault.interop import urls

    h = harness
    w = await world(h)
    snap = await snapshot(h)
    text = (await present_cose(h, w.citizen, w.licence["id"]))["text"]
    evil = await holder_made(h, w.citizen, w.licence["id"], "https://evil.example/phish/gongan")
    bare = await holder_made(h, w.citizen, w.licence["id"], "gongan")
    ours: dict[str, Any] = {"issuer_id": lambda code: urls.issuer_id("http://vault.test", code)}
    assert failed(await offline(snap, evil, **ours)) == ["format"]
    # Without the vault's public URL the counter derives nothing: only the bare code passes.
    assert failed(await offline(snap, evil)) == ["format"]
    verdict = await offline(snap, text)
    assert failed(verdict) == ["format"] and "public URL" in verdict["checks"][0]["reason"]
    assert (await offline(snap, bare))["valid"] is True
    assert (await offline(snap, text, **ours))["valid"] is True
