"""Grants end to end through the API, for any chain engine and database: the subject signs
the typed data the API publishes (as a wallet would), the vault relays it, and every read by
the grantee is enforced: exactly the granted types and fields, counted, refused otherwise.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keys import SigningKey
from tests.support.harness import CITIZEN_ID, YEAR, Actor, Harness, freeze
from vault import clock
from vault.db.grants import GrantRow
from vault.events import VaultEvent

DAY = 24 * 3600
LICENCE_FIELDS = {
    "姓名": "张三",
    "准驾车型": "C1",
    "档案编号": "110100000001",
    "住址": {"城市": "东城区", "门牌": "示例路1号"},
}


async def setup(h: Harness) -> tuple[Actor, Actor, Actor, dict[str, Any]]:
    """An issuing registrar, a data-user department, a citizen and an issued licence."""
    issuer = await h.department("gongan")
    reader = await h.department("renshe", roles=["data_user"])
    citizen = await h.subject(issuer)
    licence = await h.issue(issuer, fields=LICENCE_FIELDS)
    await h.issue(issuer, type="certificate", title="无犯罪记录证明", fields={"结论": "无犯罪记录", "姓名": "张三"})
    await h.settle()
    return issuer, reader, citizen, licence


def grant_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": ["姓名", "准驾车型", "住址.城市"],
        "purpose_code": 101,
        "purpose": "核验驾驶资格",
        "expires_at": clock.now() + 30 * DAY,
        "max_uses": 3,
    }
    body.update(overrides)
    return body


async def prepare(h: Harness, citizen: Actor, **overrides: Any) -> dict[str, Any]:
    r = await h.http.post("/me/grants/prepare", json=grant_body(**overrides), headers=citizen.headers)
    assert r.status_code == 200, r.text
    prepared: dict[str, Any] = r.json()
    return prepared


async def submit(h: Harness, citizen: Actor, prepared: dict[str, Any], signer: SigningKey | None = None) -> Any:
    signature = (signer or citizen.key).sign_typed_data(prepared["typed_data"])
    return await h.http.post(
        "/me/grants",
        json={"message": prepared["typed_data"]["message"], "signature": signature},
        headers=citizen.headers,
    )


async def granted(h: Harness, citizen: Actor, settle: bool = True, **overrides: Any) -> dict[str, Any]:
    r = await submit(h, citizen, await prepare(h, citizen, **overrides))
    assert r.status_code == 201, r.text
    if settle:
        await h.settle()
    grant: dict[str, Any] = r.json()
    return grant


async def read(h: Harness, dept: Actor, grant_id: str, **body: Any) -> Any:
    return await h.http.post(f"/grants/{grant_id}/read", json=body, headers=dept.headers)


async def uses(h: Harness, grant_id: str) -> int:
    async with h.vault.ctx.sessions() as s:
        row = await s.get(GrantRow, grant_id)
        assert row is not None
        return row.uses


def collect_events(h: Harness) -> list[VaultEvent]:
    seen: list[VaultEvent] = []

    async def sink(_session: AsyncSession, event: VaultEvent) -> None:
        seen.append(event)

    h.vault.ctx.events.subscribe(sink)
    return seen


async def test_grant_is_signed_relayed_anchored_and_read_exactly(harness: Harness) -> None:
    h = harness
    _, reader, citizen, licence = await setup(h)
    prepared = await prepare(h, citizen)
    typed = prepared["typed_data"]
    assert typed["primaryType"] == "Grant" and typed["domain"]["name"] == "DataVault Consent"
    assert typed["message"]["fields"] == ["姓名", "准驾车型", "住址.城市"]
    published = (await h.http.get("/consent/eip712")).json()  # public: wallets need no login for it
    assert published["domain"] == typed["domain"] and published["types"]["Grant"] == typed["types"]["Grant"]
    r = await submit(h, citizen, prepared)
    assert r.status_code == 201, r.text
    grant = r.json()
    assert (
        grant["id"] == prepared["grant_id"] and grant["status"] == "pending" and grant["signer"] == citizen.key.address
    )
    refused = await read(h, reader, grant["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "pending"

    await h.settle()
    mine = (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "active" and mine["tx_hash"].startswith("0x")
    assert h.vault.ctx.chain.consent is not None
    assert h.vault.ctx.chain.consent.is_grant_active(bytes.fromhex(grant["id"][2:]))

    r = await read(h, reader, grant["id"])
    assert r.status_code == 200, r.text
    disclosed = r.json()
    assert disclosed["uses"] == 1 and disclosed["max_uses"] == 3 and disclosed["purpose"] == "核验驾驶资格"
    (record,) = disclosed["records"]  # the certificate is another type: not disclosed at all
    assert record["id"] == licence["id"] and record["type"] == "licence"
    assert record["fields"] == {"姓名": "张三", "准驾车型": "C1", "住址": {"城市": "东城区"}}
    narrower = (await read(h, reader, grant["id"], fields=["准驾车型"])).json()
    assert narrower["records"][0]["fields"] == {"准驾车型": "C1"} and narrower["uses"] == 2

    held = (await h.http.get("/grants", headers=reader.headers)).json()["grants"]
    assert [g["id"] for g in held] == [grant["id"]] and held[0]["uses"] == 2
    receipt = (await h.http.get(f"/me/grants/{grant['id']}/receipt", headers=citizen.headers)).json()
    assert receipt["grantee"]["code"] == "renshe" and receipt["purpose"] == {"code": 101, "text": "核验驾驶资格"}
    assert receipt["chain"]["tx_hash"] == mine["tx_hash"] and receipt["typed_data"] == typed
    assert CITIZEN_ID not in json.dumps(receipt, ensure_ascii=False)


async def test_signatures_that_are_not_the_subjects_are_refused(harness: Harness) -> None:
    h = harness
    issuer, _, citizen, _ = await setup(h)
    prepared = await prepare(h, citizen)
    stranger = await h.subject(issuer, identifier="110101199003073511", name="李四")
    r = await submit(h, citizen, prepared, signer=stranger.key)
    assert r.status_code == 403 and "not by this subject's key" in r.json()["detail"]
    r = await h.http.post(
        "/me/grants",
        json={"message": prepared["typed_data"]["message"], "signature": "0x" + "ab" * 65},
        headers=citizen.headers,
    )
    assert r.status_code in (403, 422), r.text
    # A subject cannot submit a grant over someone else's data, even signed by themselves.
    other = await prepare(h, stranger, allow_unissued_fields=True)  # 李四 holds no licence yet
    r = await submit(h, citizen, other)
    assert r.status_code == 403 and "another subject" in r.json()["detail"]
    tampered = json.loads(json.dumps(prepared["typed_data"]))
    signature = citizen.key.sign_typed_data(tampered)
    tampered["message"]["maxUses"] = 1000
    r = await h.http.post(
        "/me/grants", json={"message": tampered["message"], "signature": signature}, headers=citizen.headers
    )
    assert r.status_code == 403
    assert (await h.http.get("/me/grants", headers=citizen.headers)).json()["grants"] == []


async def test_a_replayed_grant_is_refused(harness: Harness) -> None:
    h = harness
    _, _, citizen, _ = await setup(h)
    prepared = await prepare(h, citizen)
    assert (await submit(h, citizen, prepared)).status_code == 201
    again = await submit(h, citizen, prepared)
    assert again.status_code == 409 and "nonce" in again.json()["detail"]


async def test_reads_outside_the_grant_are_refused_and_not_counted(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    other_reader = await h.department("minzheng", roles=["data_user"])
    grant = await granted(h, citizen)
    seen = collect_events(h)
    cases = [
        (other_reader, {}, "wrong_department"),
        (reader, {"fields": ["档案编号"]}, "field_outside_scope"),
        (reader, {"fields": ["住址"]}, "field_outside_scope"),  # the parent of a granted path is wider
        (reader, {"record_types": ["certificate"]}, "type_outside_scope"),
    ]
    for dept, body, code in cases:
        r = await read(h, dept, grant["id"], **body)
        assert r.status_code == 403 and r.json()["code"] == code, (body, r.text)
        assert "张三" not in r.text
    assert await uses(h, grant["id"]) == 0
    assert [(e.action, e.outcome, e.reason) for e in seen] == [("grant.refused", "refused", c) for _, _, c in cases]
    ok = await read(h, reader, grant["id"], fields=["住址.城市"], record_types=["licence"])
    assert ok.status_code == 200 and ok.json()["records"][0]["fields"] == {"住址": {"城市": "东城区"}}


async def test_expired_and_not_yet_valid_grants(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    now = clock.now()
    later = await granted(h, citizen, not_before=now + DAY, expires_at=now + 2 * DAY)
    r = await read(h, reader, later["id"])
    assert r.status_code == 403 and r.json()["code"] == "not_yet_valid"
    freeze(h.app, now + DAY + 60)
    await h.login(reader)  # tokens last minutes; this is a day later
    assert (await read(h, reader, later["id"])).status_code == 200
    freeze(h.app, now + 3 * DAY)
    await h.login(reader)
    await h.login(citizen)
    r = await read(h, reader, later["id"])
    assert r.status_code == 403 and r.json()["code"] == "expired"
    statuses = {
        g["id"]: g["status"] for g in (await h.http.get("/me/grants", headers=citizen.headers)).json()["grants"]
    }
    assert statuses[later["id"]] == "expired"
    h.app.dependency_overrides.clear()
    r = await h.http.post("/me/grants/prepare", json=grant_body(expires_at=now - 1), headers=citizen.headers)
    assert r.status_code == 422


async def test_revocation_takes_effect_at_once_and_reaches_the_chain(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen)
    assert (await read(h, reader, grant["id"])).status_code == 200
    r = await h.http.post(f"/me/grants/{grant['id']}/revoke/prepare", headers=citizen.headers)
    typed = r.json()["typed_data"]
    assert typed["primaryType"] == "Revocation"
    outsider = SigningKey.generate()
    r = await h.http.post(
        f"/me/grants/{grant['id']}/revoke", json={"signature": outsider.sign_typed_data(typed)}, headers=citizen.headers
    )
    assert r.status_code == 403
    r = await h.http.post(
        f"/me/grants/{grant['id']}/revoke",
        json={"signature": citizen.key.sign_typed_data(typed)},
        headers=citizen.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    # Deny wins before the revocation is mined.
    refused = await read(h, reader, grant["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "revoked"
    consent = h.vault.ctx.chain.consent
    assert consent is not None
    gid = bytes.fromhex(grant["id"][2:])
    assert consent.is_grant_active(gid)
    await h.settle()
    assert consent.grant_status(gid).revoked
    assert await uses(h, grant["id"]) == 1
    again = await h.http.post(
        f"/me/grants/{grant['id']}/revoke",
        json={"signature": citizen.key.sign_typed_data(typed)},
        headers=citizen.headers,
    )
    assert again.status_code == 409


async def test_a_grant_revoked_before_it_is_mined_never_becomes_usable(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, settle=False)
    typed = (await h.http.post(f"/me/grants/{grant['id']}/revoke/prepare", headers=citizen.headers)).json()[
        "typed_data"
    ]
    r = await h.http.post(
        f"/me/grants/{grant['id']}/revoke",
        json={"signature": citizen.key.sign_typed_data(typed)},
        headers=citizen.headers,
    )
    assert r.status_code == 200
    await h.settle()
    mine = (await h.http.get(f"/me/grants/{grant['id']}", headers=citizen.headers)).json()
    assert mine["status"] == "revoked" and mine["tx_hash"]
    assert (await read(h, reader, grant["id"])).json()["code"] == "revoked"
    assert h.vault.ctx.chain.consent is not None
    assert h.vault.ctx.chain.consent.grant_status(bytes.fromhex(grant["id"][2:])).revoked


async def test_parallel_reads_take_exactly_the_uses_left(harness: Harness) -> None:
    h = harness
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, max_uses=3)
    results = await asyncio.gather(*(read(h, reader, grant["id"]) for _ in range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 3 + [403] * 5
    assert {r.json()["code"] for r in results if r.status_code == 403} == {"exhausted"}
    assert await uses(h, grant["id"]) == 3
    statuses = {
        g["id"]: g["status"] for g in (await h.http.get("/me/grants", headers=citizen.headers)).json()["grants"]
    }
    assert statuses[grant["id"]] == "exhausted"


async def test_grantees_must_be_active_data_users(harness: Harness) -> None:
    h = harness
    _, _, citizen, _ = await setup(h)
    r = await h.http.post("/me/grants/prepare", json=grant_body(grantee="gongan"), headers=citizen.headers)
    assert r.status_code == 422 and "not an active data user" in r.json()["detail"]
    r = await h.http.post("/me/grants/prepare", json=grant_body(grantee="nobody"), headers=citizen.headers)
    assert r.status_code == 422
    r = await h.http.post("/me/grants/prepare", json=grant_body(fields=["a..b"]), headers=citizen.headers)
    assert r.status_code == 422 and r.json()["field"] == "fields"


async def test_events_name_no_one_in_clear(harness: Harness) -> None:
    h = harness
    seen = collect_events(h)
    _, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen)
    await read(h, reader, grant["id"])
    granted_events = [e for e in seen if e.action.startswith("grant.")]
    assert [e.action for e in granted_events] == ["grant.created", "grant.used"]
    assert {"subject.registered", "record.issued"} <= {e.action for e in seen}
    used = granted_events[1]
    assert used.grant_id == grant["id"] and used.actor == "renshe" and used.official == reader.key.address
    assert used.fields == ("姓名", "准驾车型", "住址.城市") and used.purpose_code == 101 and len(used.record_ids) == 1
    assert "张三" not in repr(seen) and CITIZEN_ID not in repr(seen)


async def test_a_grant_covers_records_issued_later(harness: Harness) -> None:
    # A grant covers records issued after it too: the grant is to the data, not a snapshot.
    h = harness
    issuer, reader, citizen, _ = await setup(h)
    grant = await granted(h, citizen, max_uses=2)
    first = (await read(h, reader, grant["id"])).json()
    await h.issue(issuer, fields={"姓名": "张三", "准驾车型": "A1"}, valid_until=clock.now() + YEAR)
    second = (await read(h, reader, grant["id"])).json()
    assert len(first["records"]) == 1 and len(second["records"]) == 2
