"""A vault initialised with the sm suite (DATAVAULT_CRYPTO=sm): records sealed in SM4-GCM and
opened, a grant read, the access log's SM3 MACs and the heads' SM2 signatures verified (the
latter also by gmssl, an independent SM2), and a restart with the other suite refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gmssl import sm2 as gmssl_sm2
from sqlalchemy import select

from keys import MasterKey, SigningKey, Suite
from tests.grant_conformance import granted
from tests.support.harness import Actor, Harness, open_harness, reopen_harness
from vault import clock, crypto_suite
from vault.audit import verify as audit_verify
from vault.audit.macs import EntryMacs
from vault.config import Settings
from vault.context import AUDIT_LOG_KEY, AUDIT_LOG_SM2_KEY
from vault.crypto_suite import CryptoSuiteMismatch
from vault.db.audit import AuditEntry, AuditHead
from vault.db.engine import create_engine, session_factory
from vault.db.models import Record, SubjectKey
from vault.setup import open_vault

DAY = 86_400


@pytest.fixture
async def sm_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    monkeypatch.setenv("DATAVAULT_CRYPTO", "sm")
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


async def test_an_sm_vault_seals_reads_and_signs_in_the_sm_suite(sm_vault: Harness) -> None:
    h = sm_vault
    assert h.vault.ctx.suite is Suite.SM
    gongan = await h.department("gongan")
    renshe = await h.department("renshe", ["verifier", "data_user"])
    citizen = await h.subject(gongan)
    record = await h.issue(gongan)
    await h.settle()

    async with h.vault.ctx.sessions() as session:
        row = (await session.scalars(select(Record).where(Record.id == record["id"]))).first()
        assert row is not None
        assert row.wrapped_key[4] == 2 and row.body[0] == 2  # DVWK format 2, SM4-GCM body
        kek = (await session.scalars(select(SubjectKey))).first()
        assert kek is not None and bytes(kek.wrapped)[0] == 2  # the KEK wrapped with SM4 too

    r = await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)
    assert r.status_code == 200, r.text
    assert "张三" in r.text and "C1" in r.text  # opened from its SM4-GCM body

    grant = await granted(h, citizen, fields=["姓名", "准驾车型"], max_uses=5)
    r = await h.http.post(f"/grants/{grant['id']}/read", json={}, headers=renshe.headers)
    assert r.status_code == 200, r.text
    assert "张三" in r.text and "C1" in r.text

    await h.vault.sequencer.sign_head(clock.now())
    await h.settle()
    async with h.vault.ctx.sessions() as session:
        macs = [bytes(m) for m in await session.scalars(select(AuditEntry.mac))]
        head = (await session.scalars(select(AuditHead).order_by(AuditHead.tree_size.desc()))).first()
    assert macs and all(len(m) == 33 and m[0] == 2 for m in macs)  # 0x02 || HMAC-SM3
    assert head is not None and head.sm2_signature is not None

    # The head's SM2 signature, checked by an SM2 implementation other than the vault's.
    public = h.vault.ctx.keystore.sm2_public_key(AUDIT_LOG_SM2_KEY)
    text = (
        f"datavault audit tree head\nsize: {head.tree_size}\nroot: 0x{bytes(head.root).hex()}\ntime: {head.signed_at}"
    )
    assert gmssl_sm2.CryptSM2(private_key="", public_key=public.hex[2:]).verify_with_sm3(
        head.sm2_signature, text.encode()
    )

    # Exposed where the secp256k1 signatures are: the auditors' list of heads, with the SM2 key.
    auditor = Actor(SigningKey.generate())
    r = await h.http.post("/auditors", json={"address": auditor.key.address, "name": "审计员"}, headers=h.admin.headers)
    assert r.status_code == 201, r.text
    await h.login(auditor)
    r = await h.http.get("/audit/heads", headers=auditor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sm2_public_key"] == public.hex
    assert r.json()["heads"][0]["sm2_signature"] == head.sm2_signature

    log_key = h.vault.ctx.keystore.address_of(AUDIT_LOG_KEY)
    report = await audit_verify.verify_log(h.vault.ctx, log_key_address=log_key, anchor=h.vault.ctx.chain.audit)
    assert report.ok, report.findings

    # A forged SM2 signature on a head is a finding.
    async with h.vault.ctx.sessions.begin() as session:
        stored = await session.get(AuditHead, head.tree_size)
        assert stored is not None
        stored.sm2_signature = public.hex[2:130]
    report = await audit_verify.verify_log(h.vault.ctx, log_key_address=log_key, anchor=h.vault.ctx.chain.audit)
    assert [f.kind for f in report.findings] == ["bad_head_signature"]
    assert "SM2" in report.findings[0].detail


async def test_a_vault_restarted_with_the_other_suite_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAVAULT_CRYPTO", "sm")
    h = await open_harness(tmp_path, chain="inprocess")
    try:
        gongan = await h.department("gongan")
        await h.subject(gongan)
    finally:
        await h.close()
    # Refused before any chain or key is touched, with the way out in the message.
    with pytest.raises(CryptoSuiteMismatch, match="re-encrypt it to intl"):
        await open_vault(Settings(datadir=tmp_path, chain="inprocess", crypto="intl"))
    db = create_engine(Settings(datadir=tmp_path).db_url)
    try:
        async with session_factory(db).begin() as session:
            assert await crypto_suite.recorded(session) is Suite.SM
            assert await crypto_suite.settle(session, Suite.SM) is Suite.SM
            # Unset, it is whatever the vault recorded: the same command starts it again.
            assert await crypto_suite.settle(session, None) is Suite.SM
    finally:
        await db.dispose()
    monkeypatch.delenv("DATAVAULT_CRYPTO")
    again = await reopen_harness(h)
    try:
        assert again.vault.ctx.suite is Suite.SM
    finally:
        await again.close()


def test_entry_macs_of_both_suites_verify_side_by_side() -> None:
    master = MasterKey.generate()
    intl, sm = EntryMacs(master, Suite.INTL), EntryMacs(master, Suite.SM)
    leaf = bytes(32)
    assert len(intl.mac(leaf)) == 32 and len(sm.mac(leaf)) == 33
    for checker in (intl, sm):
        assert checker.check(leaf, intl.mac(leaf)) and checker.check(leaf, sm.mac(leaf))
        assert not checker.check(leaf, sm.mac(leaf)[1:])  # the SM3 MAC passed off as intl's
        assert not checker.check(b"\x01" * 32, sm.mac(leaf))


async def test_the_terminal_checks_each_heads_sm2_signature_too(sm_vault: Harness) -> None:
    from api.cli import audit as cli_audit
    from keys import Sm2Key
    from tests.audit_api_conformance import register_auditor

    h = sm_vault
    auditor = await register_auditor(h)
    await h.settle()
    assert await h.vault.sequencer.sign_head(clock.now()) is not None
    found = (await h.http.get("/audit/heads", headers=auditor.headers)).json()
    assert found["sm2_public_key"] and found["heads"][0]["sm2_signature"]
    assert cli_audit.bad_signatures(found) == []
    head = found["heads"][0]
    forged = bytes.fromhex(head["sm2_signature"])
    head["sm2_signature"] = (forged[:-1] + bytes([forged[-1] ^ 1])).hex()
    assert cli_audit.bad_signatures(found) == [head["tree_size"]]
    head["sm2_signature"] = Sm2Key.generate().sign(b"another text").hex()
    assert cli_audit.bad_signatures(found) == [head["tree_size"]]
