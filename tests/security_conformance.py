"""Sessions, agents' scope and registrars' scope, end to end through the API, for any chain
and database (issue 9, items 10, 11, 12 and 16).

- A session dies with its key (a registrar replaced it) and at logout, on every worker.
- Login challenges are bounded per client and overall: 429 with Retry-After.
- An agent reads only what concerns the record types of its delegation, on every
  ``/subjects/{id}/...`` route.
- A registrar acts only for the kinds of subject it registers and only for the subjects it
  registered (or the admin assigned to it); a guardian needs a reason, sealed and shown to the
  subject; none of the platform's own keys becomes a subject's, an agent's or a guardian's.

Test modules provide a ``harness`` fixture (tests/support/harness.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from keys import SigningKey
from tests.delegation_conformance import DAY, appoint, enterprise, subject_id
from tests.grant_conformance import LICENCE_FIELDS, grant_body
from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, Actor, Harness, freeze
from vault import clock
from vault.accounts import auth
from vault.db.engine import create_engine, session_factory, sqlite_url
from vault.db.grants import DelegationRow
from vault.db.models import Challenge, RevokedToken

FIRM = {"kind": "enterprise", "identifier": ENTERPRISE_ID}


@asynccontextmanager
async def second_worker(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """Another API worker on the same database: its own app and its own connection pool."""
    url = h.database_url or sqlite_url(h.datadir / "vault.db")
    engine = create_engine(url)
    ctx = dataclasses.replace(h.vault.ctx, sessions=session_factory(engine))
    app = create_app(vault=dataclasses.replace(h.vault, ctx=ctx, db=engine), run_submitter=False)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vault.test")
    try:
        yield client
    finally:
        await client.aclose()
        await engine.dispose()


def from_peer(h: Harness, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=h.app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://vault.test")


# -- item 10: sessions die with their key and at logout -----------------------------------------


async def test_a_replaced_key_ends_the_sessions_it_opened(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    await h.issue(registrar, fields=LICENCE_FIELDS)
    sid = await subject_id(h, citizen)
    assert (await h.http.get("/me/records", headers=citizen.headers)).status_code == 200
    new_key = SigningKey.generate()
    r = await h.http.post(f"/subjects/{sid}/key", json={"address": new_key.address}, headers=registrar.headers)
    assert r.status_code == 200, r.text
    # The token issued to the old key is dead on the very next request, whatever it asks.
    for path in ("/me", "/me/records", "/me/grants", "/me/access-log"):
        r = await h.http.get(path, headers=citizen.headers)
        assert r.status_code == 401, (path, r.text)
        assert "replaced" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
    renewed = await h.login(Actor(new_key))
    assert (await h.http.get("/me/records", headers=renewed.headers)).status_code == 200


async def test_logout_ends_the_session_on_every_worker(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    other_session = await h.login(Actor(citizen.key))
    async with second_worker(h) as worker:
        assert (await worker.get("/me", headers=citizen.headers)).status_code == 200
        r = await h.http.post("/auth/logout", headers=citizen.headers)
        assert r.status_code == 204 and r.content == b""
        for client in (h.http, worker):
            r = await client.get("/me", headers=citizen.headers)
            assert r.status_code == 401 and "logged out" in r.json()["detail"]
        assert (await worker.post("/auth/logout", headers=citizen.headers)).status_code == 401
        # Only that session: the person's other one, and a department's, go on.
        assert (await worker.get("/me", headers=other_session.headers)).status_code == 200
        assert (await h.http.post("/auth/logout", headers=registrar.headers)).status_code == 204
        assert (await h.http.get("/grants", headers=registrar.headers)).status_code == 401
    assert (await h.http.post("/auth/logout")).status_code == 401
    # Rows of logged-out tokens go once the tokens would have expired anyway.
    async with h.vault.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RevokedToken)) == 2
    freeze(h.app, clock.now() + auth.TOKEN_TTL + 1)
    try:
        late = await h.login(Actor(citizen.key))
        assert (await h.http.post("/auth/logout", headers=late.headers)).status_code == 204
    finally:
        h.app.dependency_overrides.clear()
    async with h.vault.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RevokedToken)) == 1


# -- item 16: login challenges are bounded ------------------------------------------------------


async def test_login_challenges_are_bounded_per_client(harness: Harness) -> None:
    h = harness
    anyone = {"address": SigningKey.generate().address}
    async with from_peer(h, "203.0.113.7") as flood, from_peer(h, "198.51.100.2") as bystander:
        for _ in range(auth.CHALLENGES_PER_CLIENT):
            assert (await flood.post("/auth/challenge", json=anyone)).status_code == 200
        r = await flood.post("/auth/challenge", json=anyone)
        assert r.status_code == 429, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(r.headers["retry-after"]) <= auth.CHALLENGE_TTL
        assert r.json()["retry_after"] == int(r.headers["retry-after"])
        assert "outstanding" in r.json()["detail"]
        # Another client is not held up; the flood left no row beyond its bound.
        assert (await bystander.post("/auth/challenge", json=anyone)).status_code == 200
        async with h.vault.ctx.sessions() as session:
            rows = await session.scalar(
                select(func.count()).select_from(Challenge).where(Challenge.client == "203.0.113.7")
            )
        assert rows == auth.CHALLENGES_PER_CLIENT
        # Once they expire, the client may ask again.
        freeze(h.app, clock.now() + auth.CHALLENGE_TTL + 1)
        try:
            assert (await flood.post("/auth/challenge", json=anyone)).status_code == 200
        finally:
            h.app.dependency_overrides.clear()


async def test_a_redeemed_challenge_frees_its_place(harness: Harness) -> None:
    h = harness
    key = SigningKey.generate()
    async with from_peer(h, "203.0.113.8") as client:
        for _ in range(auth.CHALLENGES_PER_CLIENT - 1):
            assert (await client.post("/auth/challenge", json={"address": key.address})).status_code == 200
        for _ in range(3):  # logging in over and over takes one place at a time
            challenge = (await client.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
            r = await client.post(
                "/auth/token", json={"challenge": challenge, "signature": key.sign_message(challenge)}
            )
            assert r.status_code == 401  # an unregistered key, but the challenge was used up
        assert (await client.post("/auth/challenge", json={"address": key.address})).status_code == 200
        assert (await client.post("/auth/challenge", json={"address": key.address})).status_code == 429


async def test_outstanding_challenges_are_bounded_overall_across_workers(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = harness
    async with h.vault.ctx.sessions() as session:
        already = int(await session.scalar(select(func.count()).select_from(Challenge)) or 0)
    monkeypatch.setattr(auth, "CHALLENGES_OUTSTANDING", already + 4)
    anyone = {"address": SigningKey.generate().address}
    async with second_worker(h) as worker:
        for n in range(4):  # four clients, two workers: each worker counts the other's
            client = worker if n % 2 else h.http
            assert (await client.post("/auth/challenge", json=anyone)).status_code == 200
        for client in (h.http, worker):
            r = await client.post("/auth/challenge", json=anyone)
            assert r.status_code == 429 and "try again shortly" in r.json()["detail"]
            assert int(r.headers["retry-after"]) >= 1


# -- item 11: an agent sees what its delegation covers, on every route --------------------------


async def firm_with_two_types(h: Harness) -> tuple[Actor, Actor, Actor, str, dict[str, Any], dict[str, Any]]:
    """An enterprise with a licence and a certificate, and an agent appointed for licences."""
    registrar, _reader, firm = await enterprise(h)
    certificate = await h.issue(
        registrar,
        subject=FIRM,
        type="certificate",
        title="纳税信用证明",
        fields={"名称": "闽江数据科技有限公司", "等级": "A"},
    )
    await h.settle()
    sid = await subject_id(h, firm)
    records = (await h.http.get("/me/records", headers=firm.headers)).json()["records"]
    licence = next(r for r in records if r["type"] == "licence")
    key = SigningKey.generate()
    await appoint(h, firm, key, types=["licence"], days=30)
    agent = await h.login(Actor(key))
    return registrar, firm, agent, sid, licence, certificate


async def test_an_agent_sees_only_corrections_of_its_record_types(harness: Harness) -> None:
    h = harness
    _, firm, agent, sid, licence, certificate = await firm_with_two_types(h)
    for record, reason in ((licence, "名称有误"), (certificate, "等级应为A+")):
        r = await h.http.post(
            f"/me/records/{record['id']}/corrections",
            json={"reason": reason, "fields": {"名称": "闽江"}},
            headers=firm.headers,
        )
        assert r.status_code == 201, r.text
    assert len((await h.http.get("/me/corrections", headers=firm.headers)).json()["corrections"]) == 2
    r = await h.http.get(f"/subjects/{sid}/corrections", headers=agent.headers)
    assert r.status_code == 200
    assert [c["record_type"] for c in r.json()["corrections"]] == ["licence"]
    assert "等级应为A+" not in r.text
    # Nor may it ask for one.
    r = await h.http.post(
        f"/subjects/{sid}/records/{certificate['id']}/corrections",
        json={"reason": "x", "fields": {"等级": "B"}},
        headers=agent.headers,
    )
    assert r.status_code == 403


async def test_an_agent_sees_and_revokes_only_grants_within_its_record_types(harness: Harness) -> None:
    h = harness
    _, firm, agent, sid, _, _ = await firm_with_two_types(h)
    wide = grant_body(record_types=["licence", "certificate"], fields=["姓名"], purpose="企业信用核验")
    narrow = grant_body(fields=["姓名"], purpose="企业社保开户核验")
    ids = []
    for body in (wide, narrow):
        typed = (await h.http.post("/me/grants/prepare", json=body, headers=firm.headers)).json()["typed_data"]
        r = await h.http.post(
            "/me/grants",
            json={"message": typed["message"], "signature": firm.key.sign_typed_data(typed)},
            headers=firm.headers,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    await h.settle()
    r = await h.http.get(f"/subjects/{sid}/grants", headers=agent.headers)
    assert r.status_code == 200 and [g["id"] for g in r.json()["grants"]] == [ids[1]] and r.json()["total"] == 1
    assert "企业信用核验" not in r.text
    r = await h.http.post(f"/subjects/{sid}/grants/{ids[0]}/revoke/prepare", headers=agent.headers)
    assert r.status_code == 404
    r = await h.http.post(
        f"/subjects/{sid}/grants/{ids[0]}/revoke", json={"signature": "0x" + "11" * 65}, headers=agent.headers
    )
    assert r.status_code == 404
    assert (
        await h.http.post(f"/subjects/{sid}/grants/{ids[1]}/revoke/prepare", headers=agent.headers)
    ).status_code == 200


async def test_an_agent_sees_only_access_log_entries_about_its_record_types(harness: Harness) -> None:
    h = harness
    _, firm, agent, sid, _, _ = await firm_with_two_types(h)
    await h.settle()
    mine = (await h.http.get("/me/access-log", headers=firm.headers)).json()["entries"]
    assert any("certificate" in e["record_types"] for e in mine)
    assert any(not e["record_types"] for e in mine)  # the registration
    seen: list[dict[str, Any]] = []
    after: int | None = None
    while True:  # one entry a page: the cursor skips what the agent may not see
        params: dict[str, Any] = {"limit": 1, **({} if after is None else {"after_seq": after})}
        r = await h.http.get(f"/subjects/{sid}/access-log", params=params, headers=agent.headers)
        assert r.status_code == 200
        seen += r.json()["entries"]
        after = r.json()["next"]
        if after is None:
            break
    assert seen and all(e["record_types"] and set(e["record_types"]) <= {"licence"} for e in seen)
    wanted = [e["seq"] for e in mine if e["record_types"] and set(e["record_types"]) <= {"licence"}]
    assert [e["seq"] for e in seen if e["seq"] in {m["seq"] for m in mine}] == wanted


async def test_a_guardian_over_every_type_sees_everything(harness: Harness) -> None:
    h = harness
    registrar, firm, _, sid, _, _ = await firm_with_two_types(h)
    key = SigningKey.generate()
    r = await h.http.post(
        f"/subjects/{sid}/guardians",
        headers=registrar.headers,
        json={"address": key.address, "expires_at": clock.now() + DAY, "reason": "破产管理人"},
    )
    assert r.status_code == 201, r.text
    await h.settle()
    guardian = await h.login(Actor(key))
    own = (await h.http.get("/me/access-log", headers=firm.headers)).json()["entries"]
    theirs = (await h.http.get(f"/subjects/{sid}/access-log", headers=guardian.headers)).json()["entries"]
    assert {e["seq"] for e in theirs if e["record_types"]} == {e["seq"] for e in own if e["record_types"]}


# -- item 12: registrars act for their own subjects; platform keys are nobody's -----------------


async def test_a_registrar_registers_only_the_kinds_it_was_registered_for(harness: Harness) -> None:
    h = harness
    actor = Actor(SigningKey.generate())
    body = {
        "code": "shichang",
        "name": "市场监管局",
        "roles": ["registrar", "issuer"],
        "auth_address": actor.key.address,
        "subject_kinds": ["enterprise"],
    }
    r = await h.http.post("/departments", json=body, headers=h.admin.headers)
    assert r.status_code == 201 and r.json()["subject_kinds"] == ["enterprise"]
    await h.settle()
    shichang = await h.login(actor)
    r = await h.http.post(
        "/subjects",
        headers=shichang.headers,
        json={"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": SigningKey.generate().address},
    )
    assert r.status_code == 403 and "not citizens" in r.json()["detail"]
    await h.subject(shichang, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    # Unsaid, a registrar registers both kinds.
    gongan = await h.department("gongan")
    listed = {d["code"]: d for d in (await h.http.get("/departments")).json()}
    assert listed["gongan"]["subject_kinds"] == ["citizen", "enterprise"]
    await h.subject(gongan)
    r = await h.http.post(
        "/departments", headers=h.admin.headers, json={**body, "code": "x-bad", "subject_kinds": ["robot"]}
    )
    assert r.status_code == 422


async def test_only_the_subjects_own_registrar_replaces_its_key_or_appoints_a_guardian(harness: Harness) -> None:
    h = harness
    gongan = await h.department("gongan")
    minzheng = await h.department("minzheng", roles=["registrar"])
    citizen = await h.subject(gongan)
    sid = await subject_id(h, citizen)
    guardian = SigningKey.generate()
    appointment = {"address": guardian.address, "expires_at": clock.now() + DAY, "reason": "法院指定监护"}
    r = await h.http.post(
        f"/subjects/{sid}/key", json={"address": SigningKey.generate().address}, headers=minzheng.headers
    )
    assert r.status_code == 403 and "another registrar" in r.json()["detail"]
    r = await h.http.post(f"/subjects/{sid}/guardians", json=appointment, headers=minzheng.headers)
    assert r.status_code == 403
    assert (await h.http.get("/me", headers=citizen.headers)).status_code == 200  # untouched
    # The admin lets minzheng take the subject over: from then on only minzheng acts.
    r = await h.http.post(f"/subjects/{sid}/registrar", json={"department": "minzheng"}, headers=gongan.headers)
    assert r.status_code == 403
    r = await h.http.post(f"/subjects/{sid}/registrar", json={"department": "minzheng"}, headers=h.admin.headers)
    assert r.status_code == 200 and r.json()["registered_by"] == "minzheng"
    r = await h.http.post(f"/subjects/{sid}/guardians", json=appointment, headers=gongan.headers)
    assert r.status_code == 403
    r = await h.http.post(f"/subjects/{sid}/guardians", json=appointment, headers=minzheng.headers)
    assert r.status_code == 201, r.text
    assert (
        await h.http.delete(f"/subjects/{sid}/guardians/{guardian.address}", headers=gongan.headers)
    ).status_code == 403
    await h.department("renshe", roles=["data_user"])
    r = await h.http.post(f"/subjects/{sid}/registrar", json={"department": "renshe"}, headers=h.admin.headers)
    assert r.status_code == 422  # not a registrar


async def test_a_guardian_needs_a_reason_sealed_and_shown_to_the_subject(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    sid = await subject_id(h, citizen)
    key = SigningKey.generate()
    body = {"address": key.address, "expires_at": clock.now() + DAY}
    assert (await h.http.post(f"/subjects/{sid}/guardians", json=body, headers=registrar.headers)).status_code == 422
    r = await h.http.post(f"/subjects/{sid}/guardians", json={**body, "reason": "   "}, headers=registrar.headers)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    reason = "（2026）京0105民特123号 指定监护"
    r = await h.http.post(f"/subjects/{sid}/guardians", json={**body, "reason": reason}, headers=registrar.headers)
    assert r.status_code == 201 and r.json()["reason"] == reason
    await h.settle()
    # The subject is told: its access log shows the appointment, its delegations the reason.
    log = (await h.http.get("/me/access-log", headers=citizen.headers)).json()["entries"]
    assert any(
        e["action"] == "delegation.set" and e["actor"] == "gongan" and key.address in (e["reason"] or "") for e in log
    )
    mine = (await h.http.get("/me/delegations", headers=citizen.headers)).json()
    assert [(d["kind"], d["reason"]) for d in mine] == [("guardian", reason)]
    async with h.vault.ctx.sessions() as session:
        row = await session.scalar(select(DelegationRow))
    assert row is not None and row.reason is not None and reason.encode() not in row.reason


async def platform_addresses(h: Harness) -> dict[str, str]:
    gongan = (await h.http.get("/departments")).json()
    dept = next(d for d in gongan if d["code"] == "gongan")
    auditor = SigningKey.generate().address
    r = await h.http.post("/auditors", json={"address": auditor, "name": "审计员"}, headers=h.admin.headers)
    assert r.status_code == 201, r.text
    return {
        "the operator's key": h.vault.ctx.chain.operator.address,
        "department 'gongan''s chain key": dept["chain_address"],
        "department 'gongan''s login key": dept["auth_address"],
        "the access log's signing key": h.vault.sequencer.log_key.address,
        "the governance admin's key": h.admin.key.address,
        "an auditor's key": auditor,
    }


async def test_the_platforms_own_keys_are_refused_as_a_subjects(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    sid = await subject_id(h, citizen)
    for what, address in (await platform_addresses(h)).items():
        r = await h.http.post(
            "/subjects",
            headers=registrar.headers,
            json={"kind": "enterprise", "identifier": ENTERPRISE_ID, "name": "x", "address": address},
        )
        assert r.status_code == 422 and what in r.json()["detail"] and r.json()["field"] == "address", (what, r.text)
        r = await h.http.post(f"/subjects/{sid}/key", json={"address": address}, headers=registrar.headers)
        assert r.status_code == 422 and what in r.json()["detail"], (what, r.text)
    assert (await h.http.get("/me", headers=citizen.headers)).status_code == 200  # its key unchanged


async def test_the_platforms_own_keys_are_refused_as_an_agents_or_a_guardians(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    firm = await h.subject(registrar, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    sid = await subject_id(h, firm)
    honest = SigningKey.generate().address
    body = {"agent": honest, "record_types": ["licence"], "expires_at": clock.now() + DAY}
    typed = (await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)).json()["typed_data"]
    for what, address in (await platform_addresses(h)).items():
        r = await h.http.post("/me/delegations/prepare", json={**body, "agent": address}, headers=firm.headers)
        assert r.status_code == 422 and what in r.json()["detail"] and r.json()["field"] == "agent", (what, r.text)
        # Signed by the subject itself, still refused: the platform would sign in its name.
        forged = {**typed, "message": {**typed["message"], "agent": address}}
        r = await h.http.post(
            "/me/delegations",
            json={"message": forged["message"], "signature": firm.key.sign_typed_data(forged)},
            headers=firm.headers,
        )
        assert r.status_code == 422 and what in r.json()["detail"], (what, r.text)
        r = await h.http.post(
            f"/subjects/{sid}/guardians",
            headers=registrar.headers,
            json={"address": address, "expires_at": clock.now() + DAY, "reason": "监护"},
        )
        assert r.status_code == 422 and what in r.json()["detail"] and r.json()["field"] == "guardian", (what, r.text)
    assert (await h.http.get("/me/delegations", headers=firm.headers)).json() == []


async def test_a_subjects_key_is_refused_as_an_agents_or_a_guardians(harness: Harness) -> None:
    # It would always log in as that subject: the appointment could never be used.
    h = harness
    registrar = await h.department("gongan")
    firm = await h.subject(registrar, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    citizen = await h.subject(registrar)
    sid = await subject_id(h, firm)
    body = {"agent": citizen.key.address, "record_types": ["licence"], "expires_at": clock.now() + DAY}
    r = await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)
    assert r.status_code == 422 and "own login key" in r.json()["detail"] and r.json()["field"] == "agent", r.text
    r = await h.http.post(
        f"/subjects/{sid}/guardians",
        headers=registrar.headers,
        json={"address": citizen.key.address, "expires_at": clock.now() + DAY, "reason": "监护"},
    )
    assert r.status_code == 422 and "own login key" in r.json()["detail"] and r.json()["field"] == "guardian", r.text


async def test_no_platform_agent_or_guardian_key_becomes_a_departments_or_an_auditors(harness: Harness) -> None:
    # The other way round: the admin registering such a key as an institution's would take the
    # role its holder has (an agent would log in as a department) or hand the vault's own key
    # a login.
    h = harness
    registrar = await h.department("gongan")
    firm = await h.subject(registrar, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    agent = Actor(SigningKey.generate())
    await appoint(h, firm, agent.key, types=["licence"])
    taken = {**(await platform_addresses(h)), "an agent's key": agent.key.address}
    for n, (what, address) in enumerate(taken.items()):
        r = await h.http.post(
            "/departments",
            headers=h.admin.headers,
            json={
                "code": f"evil{n}",
                "name": "evil",
                "roles": ["issuer"],
                "auth_address": address,
            },
        )
        assert r.status_code == 409, (what, r.text)
        r = await h.http.post("/auditors", headers=h.admin.headers, json={"address": address, "name": "evil"})
        assert r.status_code == 409, (what, r.text)
    assert (await h.login(agent)).token  # still logs in, as the agent it is
