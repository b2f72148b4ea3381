"""A grant's terms, checked and kept as they should be (issue 9, items 4 and 15): field names no
record has are refused at prepare unless the subject means records still to be issued; a read
that discloses nothing spends no use; and the purpose in words is sealed under the subject's
key, so a canary typed there reaches neither the SQLite file, its WAL nor the outbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from chain.consent import text_hash
from keys import SigningKey, key_header
from tests.delegation_conformance import appoint, enterprise, subject_id
from tests.grant_conformance import LICENCE_FIELDS, grant_body, granted, read, setup, uses
from tests.support.canary import files_containing
from tests.support.harness import Actor, Harness
from vault import clock, keyring
from vault.consent import grants
from vault.consent import purposes as grant_purposes
from vault.consent.typed_data import typed_data_json
from vault.db.engine import create_engine, sqlite_url
from vault.db.grants import GrantRow
from vault.db.migrate import upgrade
from vault.db.models import Base, OutboxEntry

PURPOSE = "用途金丝雀-purpose-canary-5e1b"


async def prepare_as(h: Harness, actor: Actor, base: str = "/me", **overrides: Any) -> Any:
    return await h.http.post(f"{base}/grants/prepare", json=grant_body(**overrides), headers=actor.headers)


# -- item 4: fields that no record has ---------------------------------------------------------


async def test_fields_no_record_has_are_refused_at_prepare_naming_the_fields_that_exist(
    harness: Harness,
) -> None:
    h = harness
    issuer, _, citizen, _ = await setup(h)
    r = await prepare_as(h, citizen, fields=["姓名", "血型", "住址.邮编"])
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert r.json()["field"] == "fields"
    assert "has the fields 血型, 住址.邮编:" in detail
    # The fields the subject's licences do have, nested ones by path; the certificate's are not licence fields.
    existing = sorted(["姓名", "准驾车型", "档案编号", "住址", "住址.城市", "住址.门牌"])
    assert f"the fields that exist are {', '.join(existing)}." in detail
    assert "结论" not in detail and "allow_unissued_fields" in detail
    # Said explicitly, fields of records still to be issued are accepted.
    assert (await prepare_as(h, citizen, fields=["姓名", "血型"], allow_unissued_fields=True)).status_code == 200
    # A subject with no record of the type yet is told so.
    newcomer = await h.subject(issuer, identifier="110101199003073511", name="李四")
    r = await prepare_as(h, newcomer)
    assert r.status_code == 422 and "holds no licence record yet" in r.json()["detail"]
    # Fields that exist pass as before, nested paths and whole subtrees alike.
    assert (await prepare_as(h, citizen, fields=["住址", "住址.城市", "准驾车型"])).status_code == 200


async def test_an_agent_is_refused_fields_no_record_has_too(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    delegation = await appoint(h, firm, key, types=["licence"])
    agent = await h.login(Actor(key))
    base = f"/subjects/{sid}"
    r = await prepare_as(h, agent, base, fields=["注册资本"], expires_at=delegation["expires_at"])
    assert r.status_code == 422 and "注册资本:" in r.json()["detail"] and "准驾车型" in r.json()["detail"]
    ok = await prepare_as(
        h,
        agent,
        base,
        fields=["注册资本"],
        expires_at=delegation["expires_at"],
        allow_unissued_fields=True,
    )
    assert ok.status_code == 200, ok.text


async def test_a_read_that_discloses_nothing_spends_no_use(harness: Harness) -> None:
    h = harness
    issuer, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, fields=["血型"], max_uses=1, allow_unissued_fields=True)
    for _ in range(3):
        r = await read(h, reader, grant["id"])
        assert r.status_code == 200 and r.json()["records"] == [] and r.json()["uses"] == 0, r.text
    assert await uses(h, grant["id"]) == 0
    # The attempts are in the subject's access log, as reads that found nothing.
    await h.settle()
    log = (await h.http.get("/me/access-log", headers=citizen.headers)).json()["entries"]
    empty = [e for e in log if e["action"] == "grant.read_empty"]
    assert len(empty) == 3 and all(e["outcome"] == "ok" and "no use counted" in e["reason"] for e in empty)
    # Once a record with the field is issued, the one use discloses it.
    await h.issue(issuer, title="献血证", fields={**LICENCE_FIELDS, "血型": "O"})
    r = await read(h, reader, grant["id"])
    assert r.status_code == 200 and r.json()["records"][0]["fields"] == {"血型": "O"} and r.json()["uses"] == 1
    assert (await read(h, reader, grant["id"])).json()["code"] == "exhausted"


async def test_a_narrower_read_that_finds_nothing_spends_no_use(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, fields=["姓名", "住址"], max_uses=2)
    r = await read(h, reader, grant["id"], fields=["住址.邮编"])  # inside the grant, in no record
    assert r.status_code == 200 and r.json()["records"] == [] and await uses(h, grant["id"]) == 0
    assert (await read(h, reader, grant["id"], fields=["姓名"])).json()["uses"] == 1


# -- item 15: the purpose in words is sealed ---------------------------------------------------


async def outbox_payloads(h: Harness) -> list[dict[str, Any]]:
    async with h.vault.ctx.sessions() as s:
        return [json.loads(e.payload) for e in await s.scalars(select(OutboxEntry).where(OutboxEntry.kind == "grant"))]


async def test_a_purpose_never_reaches_the_disk_in_clear_and_its_readers_still_see_it(
    harness: Harness,
) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, purpose=PURPOSE)
    assert grant["purpose"] == PURPOSE
    (payload,) = await outbox_payloads(h)
    # The payload names the grant (its terms are the row's) and carries the purpose's hash,
    # what the contract checks.
    assert payload == {
        "grant_id": grant["id"],
        "signature": payload["signature"],
        "purposeHash": "0x" + text_hash(PURPOSE).hex(),
    }
    assert (await read(h, reader, grant["id"])).json()["purpose"] == PURPOSE
    await h.settle()
    canaries = [
        PURPOSE,
        PURPOSE.split("-", 1)[1],
    ]  # the ASCII half too: the outbox escapes the rest
    assert files_containing(h.datadir, canaries) == []  # the database file and its WAL as they are
    await h.vault.db.dispose()  # ...and once the WAL is folded into the file
    assert files_containing(h.datadir, canaries) == []
    # The subject, the grantee department and the receipt still see it in words.
    mine = (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()
    assert mine["purpose"] == PURPOSE and mine["status"] == "active"  # created and anchored
    assert [g["purpose"] for g in (await h.http.get("/grants", headers=reader.headers)).json()["grants"]] == [PURPOSE]
    receipt = (await h.http.get(f"/me/grants/{grant['id']}/receipt", headers=citizen.headers)).json()
    assert receipt["purpose"]["text"] == PURPOSE and receipt["typed_data"]["message"]["purpose"] == PURPOSE
    # ...also after the subject's key-encryption key is rotated, which rewraps it under the new one.
    async with h.vault.ctx.sessions.begin() as s:
        version = await keyring.rotate(s, h.vault.ctx.master, grant["subject_id"], clock.now())
    async with h.vault.ctx.sessions() as s:
        row = await s.get(GrantRow, grant["id"])
        assert row is not None and row.purpose_key is not None
        assert key_header(row.purpose_key)[2] == version == 2
    assert (await h.http.get("/me/grants", headers=citizen.headers)).json()["grants"][0]["purpose"] == PURPOSE


async def queue_as_an_older_vault(h: Harness, gid: str, *, words: bool) -> None:
    """Rewrites the queued grant as older vaults queued it: the signed message in the payload,
    with the purpose's hash or (before revision 0009) its words."""
    async with h.vault.ctx.sessions.begin() as s:
        row = await s.get(GrantRow, gid)
        entry = await s.scalar(select(OutboxEntry).where(OutboxEntry.kind == "grant"))
        assert row is not None and entry is not None
        terms = typed_data_json(grants.terms_of(row, PURPOSE).message())
        if not words:
            terms["purposeHash"] = "0x" + text_hash(str(terms.pop("purpose"))).hex()
        payload = json.loads(entry.payload)
        assert payload.pop("purposeHash") == "0x" + text_hash(PURPOSE).hex()
        entry.payload = json.dumps({**payload, "terms": terms}, sort_keys=True)


async def test_purposes_stored_in_clear_before_0009_are_sealed_when_the_vault_opens(
    harness: Harness,
) -> None:
    h = harness
    _, _, citizen, _ = await setup(h)
    grant = await granted(h, citizen, settle=False, purpose=PURPOSE)
    # As a vault before revision 0009 wrote them: the words in the row and in the queued payload.
    async with h.vault.ctx.sessions.begin() as s:
        await s.execute(
            text("UPDATE grants SET purpose = :p, purpose_key = NULL, purpose_body = NULL"),
            {"p": PURPOSE},
        )
    await queue_as_an_older_vault(h, grant["id"], words=True)
    assert (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()["purpose"] == PURPOSE
    assert files_containing(h.datadir, [PURPOSE.split("-", 1)[1]]) != []  # there in clear, for now
    assert await grant_purposes.seal_plaintext(h.vault.ctx.sessions, h.vault.ctx.master) == 2
    assert await grant_purposes.seal_plaintext(h.vault.ctx.sessions, h.vault.ctx.master) == 0  # once
    async with h.vault.ctx.sessions() as s:
        row = await s.get(GrantRow, grant["id"])
        assert row is not None and row.purpose is None and row.purpose_body is not None
    (payload,) = await outbox_payloads(h)
    assert "purpose" not in payload["terms"] and payload["terms"]["purposeHash"] == "0x" + text_hash(PURPOSE).hex()
    await h.settle()  # the rewritten payload still anchors the grant the subject signed
    mine = (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "active" and mine["purpose"] == PURPOSE
    await h.vault.db.dispose()
    assert files_containing(h.datadir, [PURPOSE, PURPOSE.split("-", 1)[1]]) == []


@pytest.mark.parametrize("words", [True, False], ids=["purpose-in-words", "purpose-hash"])
async def test_a_grant_queued_with_its_terms_in_the_payload_is_still_anchored(harness: Harness, words: bool) -> None:
    """Payloads queued by an older vault (the signed message, with the purpose's words or its
    hash), not yet rewritten, relay the same signed grant."""
    h = harness
    _, _, citizen, _ = await setup(h)
    grant = await granted(h, citizen, settle=False, purpose=PURPOSE)
    await queue_as_an_older_vault(h, grant["id"], words=words)
    await h.settle()
    assert (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()["status"] == "active"


async def test_migration_0009_keeps_old_purposes_until_they_are_sealed_and_matches_the_models(
    tmp_path: Path,
) -> None:
    engine = create_engine(sqlite_url(tmp_path / "old.db"))
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as conn:
            await conn.execute(text("PRAGMA foreign_keys = OFF"))  # a lone grant row is enough here
            await conn.execute(
                text(
                    "INSERT INTO grants (id, subject_id, nonce, grantee_code, grantee_address, record_types, fields, "
                    "purpose_code, purpose, not_before, expires_at, max_uses, uses, signer, signature, digest, status, "
                    "created_at) VALUES ('0x01', '0x02', 1, 'renshe', '0x03', 1, '[]', 101, :p, 0, 1, 1, 0, '0x04', "
                    "'0x05', '0x06', 'active', 1)"
                ),
                {"p": PURPOSE},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT purpose, purpose_key, purpose_body FROM grants"))).one()
            assert tuple(row) == (
                PURPOSE,
                None,
                None,
            )  # sealed when the vault next opens, with the master key
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert [d for d in diff if "'grants'" in repr(d) or "purpose" in repr(d)] == []
    finally:
        await engine.dispose()
