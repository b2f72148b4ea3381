"""SM2 signatures of batch roots (#14): in an sm vault each issuer's SM2 public key is published
(API view, JWKS) and every batch root it anchors, single or bulk, carries its SM2 signature of
``root_signatures.root_text``, which gmssl (an SM2 independent of the vault's) verifies; online
verification fails ``sm2_signature`` when it is forged or missing. An intl vault has none of it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from gmssl import sm2 as gmssl_sm2
from sqlalchemy import select

from keys import Suite
from tests.presentation_conformance import ALL_CHECKS, check, present
from tests.support.harness import CITIZEN_ID, YEAR, Harness, open_harness
from vault import clock
from vault.accounts import issuer_sm2
from vault.db.models import AnchorBatch, Department

ONLINE_CHECKS = ["anchored", "issuer_registered", "not_revoked", "anchor_validity"]
OTHER_ID = "110105194912310038"


@pytest.fixture
async def sm_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    monkeypatch.setenv("DATAVAULT_CRYPTO", "sm")
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


@pytest.fixture
async def intl_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    monkeypatch.setenv("DATAVAULT_CRYPTO", "intl")
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


def text_of(h: Harness, code: str, root: str) -> bytes:
    """The signed text, spelled out here rather than taken from the module under test."""
    chain = h.vault.ctx.chain
    registry = to_checksum_address(chain.client.address)
    return (
        f"datavault credential batch root\nchain: {chain.chain_id()}\nregistry: {registry}\n"
        f"issuer: {code}\nroot: {root.lower()}"
    ).encode()


def gmssl_verifies(public_hex: str, signature: str, data: bytes) -> bool:
    ok: bool = gmssl_sm2.CryptSM2(private_key="", public_key=public_hex.removeprefix("04")).verify_with_sm3(
        signature, data
    )
    return ok


def hex_of_jwk(jwk: dict[str, Any]) -> str:
    def raw(v: str) -> bytes:
        return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))

    return "04" + (raw(jwk["x"]) + raw(jwk["y"])).hex()


async def batches(h: Harness) -> list[AnchorBatch]:
    async with h.vault.ctx.sessions() as session:
        return list(await session.scalars(select(AnchorBatch).order_by(AnchorBatch.created_at)))


async def bulk_issue(h: Harness, dept: Any, identifiers: list[str]) -> list[dict[str, Any]]:
    items = [
        {
            "subject": {"kind": "citizen", "identifier": i},
            "type": "licence",
            "title": "机动车驾驶证",
            "fields": {"姓名": "张三", "准驾车型": "C1"},
            "valid_until": clock.now() + YEAR,
        }
        for i in identifiers
    ]
    r = await h.http.post("/records/bulk", json={"items": items}, headers=dept.headers)
    assert r.status_code == 201, r.text
    records: list[dict[str, Any]] = r.json()["records"]
    return records


async def test_single_and_bulk_batches_carry_an_sm2_signature_gmssl_verifies(sm_vault: Harness) -> None:
    h = sm_vault
    gongan = await h.department("gongan")
    await h.department("jiaotong", roles=["verifier"])
    citizen = await h.subject(gongan)
    await h.subject(gongan, OTHER_ID, name="李四")

    # Published at registration: in the department's view and in its JWKS, the same key.
    listed = {d["code"]: d for d in (await h.http.get("/departments")).json()}
    public = listed["gongan"]["sm2_public_key"]
    assert public is not None and len(public) == 130 and public.startswith("04")
    assert listed["jiaotong"]["sm2_public_key"] is None  # not an issuer: no SM2 key
    assert h.vault.ctx.keystore.sm2_public_key(issuer_sm2.key_name("gongan")).hex == public
    keys = (await h.http.get("/issuers/gongan/jwks.json")).json()["keys"]
    assert [k["crv"] for k in keys] == ["secp256k1", "SM2"]
    sm2_jwk = keys[1]
    assert sm2_jwk["kty"] == "EC" and sm2_jwk["kid"] == listed["gongan"]["chain_address"] + "#sm2"
    assert hex_of_jwk(sm2_jwk) == public

    single = await h.issue(gongan)
    await h.settle()
    bulk = await bulk_issue(h, gongan, [CITIZEN_ID, OTHER_ID])
    await h.settle()
    found = await batches(h)
    assert [b.size for b in found] == [1, 2]
    for b in found:
        assert b.status == "anchored" and b.sm2_signature is not None and len(b.sm2_signature) == 128
        assert gmssl_verifies(public, b.sm2_signature, text_of(h, "gongan", b.root))
        assert not gmssl_verifies(public, b.sm2_signature, text_of(h, "gongan", "0x" + "00" * 32))

    # Exposed beside the anchor: the record's view and the verification's answer.
    r = await h.http.get(f"/me/records/{single['id']}", headers=citizen.headers)
    assert r.status_code == 200, r.text
    assert r.json()["anchor"]["sm2_signature"] == found[0].sm2_signature
    r = await h.http.post("/verify", json={"credential_hash": bulk[1]["credential_hash"]})
    verdict = r.json()
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == [*ONLINE_CHECKS, "sm2_signature"]
    assert verdict["sm2_signature"] == found[1].sm2_signature


async def test_a_forged_or_missing_sm2_signature_fails_online_verification(sm_vault: Harness) -> None:
    h = sm_vault
    gongan = await h.department("gongan")
    counter = await h.department("jiaotong", roles=["verifier"])
    citizen = await h.subject(gongan)
    record = await h.issue(gongan)
    await h.settle()
    text = await present(h, citizen, record["id"])
    verdict = await check(h, counter, text)
    assert verdict["valid"] is True, verdict
    assert [c["name"] for c in verdict["checks"]] == [*ALL_CHECKS[:4], "sm2_signature", *ALL_CHECKS[4:]]

    (batch,) = await batches(h)
    assert batch.sm2_signature is not None
    good = batch.sm2_signature
    forged = good[:64] + format((int(good[64:], 16) + 1) % 2**256, "064x")  # s off by one
    for stored in (forged, None, "zz" * 64):
        async with h.vault.ctx.sessions.begin() as session:
            row = await session.get(AnchorBatch, batch.root)
            assert row is not None
            row.sm2_signature = stored
        r = await h.http.post("/verify", json={"credential_hash": record["credential_hash"]})
        answer = r.json()
        assert answer["valid"] is False
        assert [c["name"] for c in answer["checks"] if not c["passed"]] == ["sm2_signature"]
        shown = await check(h, counter, await present(h, citizen, record["id"]))
        assert shown["failed"] == ["sm2_signature"], shown


async def test_an_issuer_registered_before_sm2_keys_gets_one_at_its_first_batch(sm_vault: Harness) -> None:
    h = sm_vault
    gongan = await h.department("gongan")
    await h.subject(gongan)
    # As a department registered before this existed: no published key, no keystore entry.
    async with h.vault.ctx.sessions.begin() as session:
        dept = await session.get(Department, "gongan")
        assert dept is not None
        dept.sm2_public_key = None
    (h.vault.ctx.keystore.directory / f"{issuer_sm2.key_name('gongan')}.json").unlink()
    record = await h.issue(gongan)
    await h.settle()
    (batch,) = await batches(h)
    async with h.vault.ctx.sessions() as session:
        dept = await session.get(Department, "gongan")
        assert dept is not None and dept.sm2_public_key is not None
        public = dept.sm2_public_key
    assert h.vault.ctx.keystore.sm2_public_key(issuer_sm2.key_name("gongan")).hex == public
    assert batch.sm2_signature is not None and gmssl_verifies(
        public, batch.sm2_signature, text_of(h, "gongan", batch.root)
    )
    r = await h.http.post("/verify", json={"credential_hash": record["credential_hash"]})
    assert r.json()["valid"] is True, r.json()


async def test_an_intl_vault_has_no_sm2_keys_signatures_or_check(intl_vault: Harness) -> None:
    h = intl_vault
    assert h.vault.ctx.suite is Suite.INTL
    gongan = await h.department("gongan")
    counter = await h.department("jiaotong", roles=["verifier"])
    citizen = await h.subject(gongan)
    await h.subject(gongan, OTHER_ID, name="李四")
    record = await h.issue(gongan)
    await h.settle()
    await bulk_issue(h, gongan, [CITIZEN_ID, OTHER_ID])
    await h.settle()
    found = await batches(h)
    assert len(found) == 2 and all(b.sm2_signature is None and b.issuer_signature for b in found)
    assert not [n for n in h.vault.ctx.keystore.names() if n.startswith("dept-") and n.endswith("-sm2")]
    listed = {d["code"]: d for d in (await h.http.get("/departments")).json()}
    assert listed["gongan"]["sm2_public_key"] is None
    keys = (await h.http.get("/issuers/gongan/jwks.json")).json()["keys"]
    assert [k["crv"] for k in keys] == ["secp256k1"]
    r = await h.http.post("/verify", json={"credential_hash": record["credential_hash"]})
    verdict = r.json()
    assert verdict["valid"] is True and [c["name"] for c in verdict["checks"]] == ONLINE_CHECKS
    assert verdict["sm2_signature"] is None
    shown = await check(h, counter, await present(h, citizen, record["id"]))
    assert shown["valid"] is True and [c["name"] for c in shown["checks"]] == ALL_CHECKS


async def test_a_department_made_an_issuer_gets_its_sm2_key_published_then(sm_vault: Harness) -> None:
    h = sm_vault
    await h.department("jiaotong", roles=["verifier"])
    assert not h.vault.ctx.keystore.exists(issuer_sm2.key_name("jiaotong"))
    r = await h.http.put("/departments/jiaotong/roles", json={"roles": ["issuer", "verifier"]}, headers=h.admin.headers)
    assert r.status_code == 200, r.text
    public = r.json()["sm2_public_key"]
    assert public == h.vault.ctx.keystore.sm2_public_key(issuer_sm2.key_name("jiaotong")).hex
    await h.settle()
    keys = (await h.http.get("/issuers/jiaotong/jwks.json")).json()["keys"]
    assert [hex_of_jwk(k) for k in keys if k["crv"] == "SM2"] == [public]
