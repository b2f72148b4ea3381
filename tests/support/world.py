"""A vault with a little of everything in it, for tests that walk every route (the schemathesis
run, the authorisation matrix): two citizens, an enterprise with an agent, two departments,
an auditor, records, grants, a delegation, open and decided corrections and a notice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keys import SigningKey
from tests.support.harness import CITIZEN_ID, ENTERPRISE_ID, Actor, Harness
from vault import clock

DAY = 24 * 3600
OTHER_CITIZEN_ID = "110101199003073511"
THIRD_CITIZEN_ID = "110101198001010053"
LICENCE = {"姓名": "张三", "准驾车型": "C1", "住址": {"城市": "东城区"}}


@dataclass
class Subject:
    actor: Actor
    id: str
    licence: dict[str, Any]  # a record of type licence, issued by gongan
    grant: dict[str, Any]  # a grant over the licence
    correction: dict[str, Any]  # an open correction request on the licence
    delegation: dict[str, Any]  # an agent for licences (the firm's is World.agent)
    kind: str  # and the number it is registered by: what a registrar looks it up with
    identifier: str


@dataclass
class World:
    h: Harness
    gongan: Actor  # every role: registered everyone below, issued every record, holds li's grant
    renshe: Actor  # data_user only: holds zhang's grant, read it, got a notice
    auditor: Actor
    zhang: Subject  # grant to renshe
    li: Subject  # grant to gongan
    firm: Subject  # an enterprise; grant to renshe, made by its agent
    wang: Subject  # registered and issued to by minzheng, not gongan; grant to renshe
    minzheng: Actor  # another registrar and issuer
    agent: Actor  # the firm's agent (经办人), delegated for licences only
    delegation: dict[str, Any]
    notice_id: int  # renshe's notice of zhang's corrected certificate


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


async def _subject_id(h: Harness, actor: Actor) -> str:
    me = _ok(await h.http.get("/me", headers=actor.headers))
    return str(me["id"])


async def _grant(
    h: Harness,
    actor: Actor,
    path: str,
    grantee: str,
    signer: SigningKey,
    fields: tuple[str, ...] = ("姓名", "准驾车型"),
) -> dict[str, Any]:
    body = {
        "grantee": grantee,
        "record_types": ["licence"],
        "fields": list(fields),
        "purpose_code": 101,
        "purpose": "核验驾驶资格",
        "expires_at": clock.now() + 30 * DAY,
        "max_uses": 50,
    }
    typed = (_ok(await h.http.post(f"{path}/prepare", json=body, headers=actor.headers)))["typed_data"]
    signed = {"message": typed["message"], "signature": signer.sign_typed_data(typed)}
    grant: dict[str, Any] = _ok(await h.http.post(path, json=signed, headers=actor.headers), 201)
    return grant


async def _correction(h: Harness, actor: Actor, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    body = {"reason": "信息有误", "fields": fields}
    r = await h.http.post(f"/me/records/{record_id}/corrections", json=body, headers=actor.headers)
    correction: dict[str, Any] = _ok(r, 201)
    return correction


async def build_world(h: Harness) -> World:
    gongan = await h.department("gongan", roles=["issuer", "verifier", "registrar", "data_user"])
    renshe = await h.department("renshe", roles=["data_user"])
    auditor = Actor(SigningKey.generate())
    _ok(
        await h.http.post(
            "/auditors", json={"address": auditor.key.address, "name": "审计员"}, headers=h.admin.headers
        ),
        201,
    )
    await h.login(auditor)
    minzheng = await h.department("minzheng", roles=["issuer", "registrar"])

    zhang = await h.subject(gongan, identifier=CITIZEN_ID, name="张三")
    li = await h.subject(gongan, identifier=OTHER_CITIZEN_ID, name="李四")
    firm = await h.subject(gongan, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    wang = await h.subject(minzheng, identifier=THIRD_CITIZEN_ID, name="王五")
    wang_licence = await h.issue(minzheng, identifier=THIRD_CITIZEN_ID, fields={**LICENCE, "姓名": "王五"})
    zhang_licence = await h.issue(gongan, identifier=CITIZEN_ID, fields=LICENCE)
    zhang_certificate = await h.issue(
        gongan,
        identifier=CITIZEN_ID,
        type="certificate",
        title="无犯罪记录证明",
        fields={"结论": "无犯罪记录", "姓名": "张三"},
    )
    li_licence = await h.issue(gongan, identifier=OTHER_CITIZEN_ID, fields={**LICENCE, "姓名": "李四"})
    firm_licence = await h.issue(
        gongan,
        subject={"kind": "enterprise", "identifier": ENTERPRISE_ID},
        title="营业执照",
        fields={"名称": "闽江数据科技有限公司", "法定代表人": "王五"},
    )
    await h.settle()

    agent = Actor(SigningKey.generate())
    delegation = await _delegate(h, firm, agent.key.address)
    zhang_delegation = await _delegate(h, zhang, SigningKey.generate().address)
    li_delegation = await _delegate(h, li, SigningKey.generate().address)
    wang_delegation = await _delegate(h, wang, SigningKey.generate().address)
    await h.settle()
    await h.login(agent)

    zhang_id, li_id, firm_id, wang_id = [await _subject_id(h, a) for a in (zhang, li, firm, wang)]
    wang_grant = await _grant(h, wang, "/me/grants", "renshe", wang.key)
    zhang_grant = await _grant(h, zhang, "/me/grants", "renshe", zhang.key)
    li_grant = await _grant(h, li, "/me/grants", "gongan", li.key)
    firm_grant = await _grant(h, agent, f"/subjects/{firm_id}/grants", "renshe", agent.key, ("名称",))
    await h.settle()

    # renshe reads the certificate under a grant, zhang has it corrected: renshe gets a notice.
    cert_grant = await _grant_certificate(h, zhang)
    _ok(await h.http.post(f"/grants/{cert_grant['id']}/read", json={}, headers=renshe.headers))
    fixed = await _correction(h, zhang, zhang_certificate["id"], {"结论": "无犯罪记录（更正）"})
    _ok(await h.http.post(f"/corrections/{fixed['id']}/accept", json={"note": "已核实"}, headers=gongan.headers))
    await h.settle()
    notices = _ok(await h.http.get("/notifications", headers=renshe.headers))["notifications"]
    notice_id = int(notices[0]["id"])

    return World(
        h=h,
        gongan=gongan,
        renshe=renshe,
        auditor=auditor,
        zhang=Subject(
            zhang,
            zhang_id,
            zhang_licence,
            zhang_grant,
            await _correction(h, zhang, zhang_licence["id"], {"准驾车型": "C2"}),
            zhang_delegation,
            "citizen",
            CITIZEN_ID,
        ),
        li=Subject(
            li,
            li_id,
            li_licence,
            li_grant,
            await _correction(h, li, li_licence["id"], {"准驾车型": "C2"}),
            li_delegation,
            "citizen",
            OTHER_CITIZEN_ID,
        ),
        firm=Subject(
            firm,
            firm_id,
            firm_licence,
            firm_grant,
            await _correction(h, firm, firm_licence["id"], {"法定代表人": "王六"}),
            delegation,
            "enterprise",
            ENTERPRISE_ID,
        ),
        wang=Subject(
            wang,
            wang_id,
            wang_licence,
            wang_grant,
            await _correction(h, wang, wang_licence["id"], {"准驾车型": "C2"}),
            wang_delegation,
            "citizen",
            THIRD_CITIZEN_ID,
        ),
        minzheng=minzheng,
        agent=agent,
        delegation=delegation,
        notice_id=notice_id,
    )


async def _grant_certificate(h: Harness, zhang: Actor) -> dict[str, Any]:
    body = {
        "grantee": "renshe",
        "record_types": ["certificate"],
        "fields": ["结论"],
        "purpose_code": 101,
        "purpose": "入职审查",
        "expires_at": clock.now() + 30 * DAY,
        "max_uses": 5,
    }
    typed = (_ok(await h.http.post("/me/grants/prepare", json=body, headers=zhang.headers)))["typed_data"]
    signed = {"message": typed["message"], "signature": zhang.key.sign_typed_data(typed)}
    grant: dict[str, Any] = _ok(await h.http.post("/me/grants", json=signed, headers=zhang.headers), 201)
    await h.settle()
    return grant


async def _delegate(h: Harness, subject: Actor, agent: str) -> dict[str, Any]:
    body = {"agent": agent, "record_types": ["licence"], "expires_at": clock.now() + 60 * DAY}
    typed = (_ok(await h.http.post("/me/delegations/prepare", json=body, headers=subject.headers)))["typed_data"]
    signed = {"message": typed["message"], "signature": subject.key.sign_typed_data(typed)}
    delegation: dict[str, Any] = _ok(await h.http.post("/me/delegations", json=signed, headers=subject.headers), 201)
    return delegation
