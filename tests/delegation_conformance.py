"""Agents, guardians and key rotation end to end through the API, for any chain and database.

An enterprise acts through its legal representative (the subject's key), who appoints agents;
a registrar appoints guardians and rotates keys. Test modules provide a ``harness`` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from keys import SigningKey
from tests.grant_conformance import LICENCE_FIELDS, grant_body, read
from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, Actor, Harness
from vault import clock

DAY = 24 * 3600


async def enterprise(h: Harness) -> tuple[Actor, Actor, Actor]:
    """A registrar that issues, a data-user department, an enterprise holding a licence."""
    registrar = await h.department("shichang")
    reader = await h.department("renshe", roles=["data_user"])
    firm = await h.subject(registrar, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    await h.issue(
        registrar, subject={"kind": "enterprise", "identifier": ENTERPRISE_ID}, title="营业执照", fields=LICENCE_FIELDS
    )
    await h.settle()
    return registrar, reader, firm


async def subject_id(h: Harness, actor: Actor) -> str:
    sid: str = (await h.http.get("/me", headers=actor.headers)).json()["id"]
    return sid


async def appoint(h: Harness, firm: Actor, agent: SigningKey, *, types: list[str], days: int = 10) -> dict[str, Any]:
    body = {"agent": agent.address, "record_types": types, "expires_at": clock.now() + days * DAY}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)).json()["typed_data"]
    assert typed["primaryType"] == "Delegation"
    r = await h.http.post(
        "/me/delegations",
        json={"message": typed["message"], "signature": firm.key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert r.status_code == 201, r.text
    await h.settle()
    delegation: dict[str, Any] = r.json()
    return delegation


async def grant_as(h: Harness, actor: Actor, sid: str, signer: SigningKey, **overrides: Any) -> Any:
    r = await h.http.post(f"/subjects/{sid}/grants/prepare", json=grant_body(**overrides), headers=actor.headers)
    if r.status_code != 200:
        return r
    typed = r.json()["typed_data"]
    return await h.http.post(
        f"/subjects/{sid}/grants",
        json={"message": typed["message"], "signature": signer.sign_typed_data(typed)},
        headers=actor.headers,
    )


async def test_an_agent_grants_within_its_delegation(harness: Harness) -> None:
    h = harness
    _, reader, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    delegation = await appoint(h, firm, key, types=["licence"], days=10)
    assert delegation["kind"] == "agent" and delegation["record_types"] == ["licence"]
    agent = await h.login(Actor(key))
    assert (await h.http.get("/me/acting-for", headers=agent.headers)).json() == [sid]

    ok = await grant_as(h, agent, sid, key, expires_at=delegation["expires_at"])
    assert ok.status_code == 201, ok.text
    assert ok.json()["signer"] == key.address
    await h.settle()
    r = await read(h, reader, ok.json()["id"])
    assert r.status_code == 200 and r.json()["records"][0]["fields"]["准驾车型"] == "C1"

    wider = await grant_as(
        h, agent, sid, key, record_types=["licence", "certificate"], expires_at=delegation["expires_at"]
    )
    # The refusal says what the delegation allows, so the agent can ask again within it.
    ends = datetime.fromtimestamp(delegation["expires_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = f"delegation {delegation['id']} covers licence from "
    assert wider.status_code == 403, wider.text
    assert "record types certificate are not in it" in wider.json()["detail"]
    assert window in wider.json()["detail"] and f"until {ends})" in wider.json()["detail"]
    assert wider.request.url.path.endswith("/prepare")  # refused before anything was signed
    longer = await grant_as(h, agent, sid, key, expires_at=delegation["expires_at"] + DAY)
    assert longer.status_code == 403, longer.text
    assert "after it ends" in longer.json()["detail"] and f"until {ends})" in longer.json()["detail"]
    assert "record types" not in longer.json()["detail"]
    # The agent may withdraw consent it (or the firm) gave.
    typed = (
        await h.http.post(f"/subjects/{sid}/grants/{ok.json()['id']}/revoke/prepare", headers=agent.headers)
    ).json()["typed_data"]
    r = await h.http.post(
        f"/subjects/{sid}/grants/{ok.json()['id']}/revoke",
        json={"signature": key.sign_typed_data(typed)},
        headers=agent.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    # The firm's own access log says its agent, not the firm, gave and withdrew that consent.
    await h.settle()
    log = (await h.http.get("/me/access-log", headers=firm.headers)).json()["entries"]
    by = {e["action"]: (e["actor_role"], e["actor"]) for e in log if e.get("grant_id") == ok.json()["id"]}
    assert by["grant.created"] == ("delegate", key.address), by
    assert by["grant.revoked"] == ("delegate", key.address), by


async def test_departments_check_an_agents_authority(harness: Harness) -> None:
    h = harness
    _, reader, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    await appoint(h, firm, key, types=["licence"])
    r = await h.http.get(
        "/delegations/check",
        params={"subject_id": sid, "agent": key.address, "record_types": ["licence"]},
        headers=reader.headers,
    )
    assert r.status_code == 200 and r.json()["valid"] and r.json()["on_chain"] and r.json()["kind"] == "agent"
    wider = await h.http.get(
        "/delegations/check",
        params={"subject_id": sid, "agent": key.address, "record_types": ["certificate"]},
        headers=reader.headers,
    )
    assert not wider.json()["valid"] and not wider.json()["on_chain"]
    nobody = await h.http.get(
        "/delegations/check", params={"subject_id": sid, "agent": SigningKey.generate().address}, headers=reader.headers
    )
    assert not nobody.json()["valid"] and nobody.json()["reason"] == "no live delegation to this agent"


async def test_a_revoked_agent_is_refused_everywhere(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    sid = await subject_id(h, firm)
    key = SigningKey.generate()
    delegation = await appoint(h, firm, key, types=["licence"])
    agent = await h.login(Actor(key))
    # A grant the agent prepared and signed while appointed ...
    prepared = (
        await h.http.post(
            f"/subjects/{sid}/grants/prepare",
            json=grant_body(expires_at=delegation["expires_at"]),
            headers=agent.headers,
        )
    ).json()
    signature = key.sign_typed_data(prepared["typed_data"])
    typed = (await h.http.post(f"/me/delegations/{delegation['id']}/revoke/prepare", headers=firm.headers)).json()[
        "typed_data"
    ]
    impostor = await h.http.post(
        f"/me/delegations/{delegation['id']}/revoke",
        json={"signature": key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert impostor.status_code == 403
    r = await h.http.post(
        f"/me/delegations/{delegation['id']}/revoke",
        json={"signature": firm.key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    # ... is refused after the revocation, whoever submits it.
    r = await h.http.post(
        f"/subjects/{sid}/grants",
        json={"message": prepared["typed_data"]["message"], "signature": signature},
        headers=agent.headers,
    )
    assert r.status_code == 403 and "no live delegation" in r.json()["detail"]
    r = await h.http.post(
        "/me/grants", json={"message": prepared["typed_data"]["message"], "signature": signature}, headers=firm.headers
    )
    assert r.status_code == 403 and "authorised delegate" in r.json()["detail"]
    await h.settle()
    consent = h.vault.ctx.chain.consent
    assert consent is not None and not consent.can_act_for(bytes.fromhex(sid[2:]), key.address, 1)
    r = await h.http.post("/auth/challenge", json={"address": key.address})
    challenge = r.json()["challenge"]
    r = await h.http.post("/auth/token", json={"challenge": challenge, "signature": key.sign_message(challenge)})
    assert r.status_code == 401  # nobody any more


async def test_only_the_subject_appoints_agents(harness: Harness) -> None:
    h = harness
    _, _, firm = await enterprise(h)
    key, other = SigningKey.generate(), SigningKey.generate()
    body = {"agent": other.address, "record_types": ["licence"], "expires_at": clock.now() + DAY}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)).json()["typed_data"]
    r = await h.http.post(
        "/me/delegations",
        json={"message": typed["message"], "signature": key.sign_typed_data(typed)},
        headers=firm.headers,
    )
    assert r.status_code == 403 and "legal representative" in r.json()["detail"]
    assert (await h.http.get("/me/delegations", headers=firm.headers)).json() == []


async def test_guardians_act_until_a_registrar_removes_them(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    reader = await h.department("renshe", roles=["data_user"])
    elder = await h.subject(registrar)
    await h.issue(registrar, fields=LICENCE_FIELDS)
    sid = await subject_id(h, elder)
    key = SigningKey.generate()
    r = await h.http.post(
        f"/subjects/{sid}/guardians",
        json={"address": key.address, "expires_at": clock.now() + 365 * DAY, "reason": "法院指定监护"},
        headers=reader.headers,
    )
    assert r.status_code == 403  # only a registrar appoints guardians
    r = await h.http.post(
        f"/subjects/{sid}/guardians",
        json={"address": key.address, "expires_at": clock.now() + 365 * DAY, "reason": "法院指定监护"},
        headers=registrar.headers,
    )
    assert r.status_code == 201 and r.json()["kind"] == "guardian"
    await h.settle()
    guardian = await h.login(Actor(key))
    ok = await grant_as(h, guardian, sid, key, record_types=["licence", "certificate", "data"])
    assert ok.status_code == 201, ok.text
    r = await h.http.delete(f"/subjects/{sid}/guardians/{key.address}", headers=registrar.headers)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    await h.settle()
    refused = await grant_as(h, guardian, sid, key)
    assert refused.status_code == 403
    consent = h.vault.ctx.chain.consent
    assert consent is not None and not consent.can_act_for(bytes.fromhex(sid[2:]), key.address, 1)


async def test_a_rotated_out_key_signs_nothing_but_its_grants_stand(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    reader = await h.department("renshe", roles=["data_user"])
    citizen = await h.subject(registrar)
    await h.issue(registrar, fields=LICENCE_FIELDS)
    await h.settle()
    sid = await subject_id(h, citizen)
    old_key = citizen.key
    before = await grant_as(h, citizen, sid, old_key)
    assert before.status_code == 201
    await h.settle()
    prepared = (await h.http.post("/me/grants/prepare", json=grant_body(), headers=citizen.headers)).json()
    stale = old_key.sign_typed_data(prepared["typed_data"])

    new_key = SigningKey.generate()
    r = await h.http.post(f"/subjects/{sid}/key", json={"address": new_key.address}, headers=registrar.headers)
    assert r.status_code == 200 and r.json()["address"] == new_key.address
    await h.settle()
    consent = h.vault.ctx.chain.consent
    assert consent is not None
    bound = consent.subject_key(bytes.fromhex(sid[2:]))
    assert (bound.key, bound.version) == (new_key.address, 2)
    # The old key can neither log in nor sign.
    challenge = (await h.http.post("/auth/challenge", json={"address": old_key.address})).json()["challenge"]
    refused = await h.http.post(
        "/auth/token", json={"challenge": challenge, "signature": old_key.sign_message(challenge)}
    )
    # Its holder is told what happened and what to do; a stranger's key just is not registered.
    assert refused.status_code == 401 and refused.json()["code"] == "replaced", refused.text
    assert "sign in with the new key" in refused.json()["detail"]
    stranger = SigningKey.generate()
    challenge = (await h.http.post("/auth/challenge", json={"address": stranger.address})).json()["challenge"]
    unknown = await h.http.post(
        "/auth/token", json={"challenge": challenge, "signature": stranger.sign_message(challenge)}
    )
    assert unknown.status_code == 401 and unknown.json()["code"] == "unregistered"
    renewed = await h.login(Actor(new_key))
    r = await h.http.post(
        "/me/grants", json={"message": prepared["typed_data"]["message"], "signature": stale}, headers=renewed.headers
    )
    assert r.status_code == 403
    # What it signed before the rotation still holds.
    assert (await read(h, reader, before.json()["id"])).status_code == 200
    assert (await grant_as(h, renewed, sid, new_key)).status_code == 201


async def test_a_registrar_finds_its_subject_by_the_number_the_person_shows(harness: Harness) -> None:
    """Replacing a lost key starts from the ID number: the registrar that registered the person
    finds the pseudonymous id; a bad number, an unknown one, or another registrar's subject is
    refused with a reason, and the number is never echoed back."""
    h = harness
    registrar = await h.department("gongan")
    other = await h.department("minzheng", roles=["registrar"])
    citizen = await h.subject(registrar, identifier=CITIZEN_ID, name="张三")
    sid = await subject_id(h, citizen)

    r = await h.http.post(
        "/subjects/find", json={"kind": "citizen", "identifier": CITIZEN_ID}, headers=registrar.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == sid and r.json()["name"] == "张三" and r.json()["address"] == citizen.key.address
    assert CITIZEN_ID not in r.text

    bad = await h.http.post("/subjects/find", json={"kind": "citizen", "identifier": "123"}, headers=registrar.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "identifier"
    unknown = await h.http.post(
        "/subjects/find", json={"kind": "citizen", "identifier": "110101199003073511"}, headers=registrar.headers
    )
    assert unknown.status_code == 404 and "no one is registered" in unknown.json()["detail"]
    theirs = await h.http.post(
        "/subjects/find", json={"kind": "citizen", "identifier": CITIZEN_ID}, headers=other.headers
    )
    assert theirs.status_code == 403 and "another registrar" in theirs.json()["detail"]
    assert (
        await h.http.post("/subjects/find", json={"kind": "citizen", "identifier": CITIZEN_ID}, headers=citizen.headers)
    ).status_code == 403
