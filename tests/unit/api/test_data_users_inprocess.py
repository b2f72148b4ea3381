"""Banks, notaries and enterprises as data users (数据使用方), beside departments: registered with a
licence number, never issuers or registrars, named with their kind wherever a grantee is."""

from __future__ import annotations

from typing import Any

from keys import SigningKey
from tests.grant_conformance import granted
from tests.support.harness import ENTERPRISE_ID, Actor, Harness
from vault import clock
from vault.accounts.departments import Role
from vault.consent.purposes import LOAN_APPROVAL, NOTARISATION, OFFERED

DAY = 24 * 3600
BANK_LICENCE = "B0001H111000001"  # 金融许可证 机构编码
NOTARY_LICENCE = "350100000001"  # 公证机构执业证
ENTERPRISE_LICENCE = "91350100M000100Y43"  # 统一社会信用代码 (valid check character)


async def register(h: Harness, code: str, kind: str, roles: list[str], **extra: Any) -> Any:
    body = {
        "code": code,
        "name": f"{code} 示例",
        "roles": roles,
        "auth_address": SigningKey.generate().address,
        "kind": kind,
        **extra,
    }
    return await h.http.post("/departments", json=body, headers=h.admin.headers)


async def data_user(h: Harness, code: str, kind: str, licence: str, name: str) -> Actor:
    actor = Actor(SigningKey.generate())
    body = {
        "code": code,
        "name": name,
        "roles": ["verifier", "data_user"],
        "auth_address": actor.key.address,
        "kind": kind,
        "licence_number": licence,
    }
    r = await h.http.post("/departments", json=body, headers=h.admin.headers)
    assert r.status_code == 201, r.text
    await h.settle()
    return await h.login(actor)


async def test_each_kind_registers_with_its_licence_number_and_only_with_it(harness: Harness) -> None:
    h = harness
    for code, kind, licence in (
        ("bank-a", "bank", BANK_LICENCE),
        ("notary-a", "notary", NOTARY_LICENCE),
        ("firm-a", "enterprise", ENTERPRISE_LICENCE),
    ):
        r = await register(h, code, kind, ["data_user"], licence_number=licence)
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == kind and r.json()["licence_number"] == licence
        missing = await register(h, f"{code}-x", kind, ["data_user"])
        assert missing.status_code == 422 and missing.json()["field"] == "licence_number"
        assert kind in missing.json()["detail"]
    r = await register(h, "gov-a", "government", ["issuer"])
    assert r.status_code == 201 and r.json()["kind"] == "government" and r.json()["licence_number"] is None
    assert (await register(h, "gov-b", "government", ["issuer"], licence_number=BANK_LICENCE)).status_code == 422
    for kind, bad in (("bank", "12345"), ("notary", "no-such!"), ("enterprise", "91350100M000100Y44")):
        r = await register(h, "bad-one", kind, ["data_user"], licence_number=bad)
        assert r.status_code == 422 and r.json()["field"] == "licence_number", (kind, r.text)
    assert (await register(h, "odd-one", "church", ["data_user"], licence_number="X")).status_code == 422
    listed = {d["code"]: d["kind"] for d in (await h.http.get("/departments")).json()}
    assert listed == {"bank-a": "bank", "notary-a": "notary", "firm-a": "enterprise", "gov-a": "government"}
    # The admin's page lists each with its kind and licence, and offers the kinds.
    h.http.cookies.set("dv_session", h.admin.token)
    page = await h.http.get("/admin")
    h.http.cookies.clear()
    assert page.status_code == 200 and BANK_LICENCE in page.text and "公证机构" in page.text
    assert '<option value="bank">' in page.text


async def test_only_government_departments_issue_or_register(harness: Harness) -> None:
    h = harness
    for role in ("issuer", "registrar"):
        r = await register(h, f"bank-{role}", "bank", ["data_user", role], licence_number=BANK_LICENCE)
        assert r.status_code == 422 and r.json()["field"] == "roles" and role in r.json()["detail"]
    bank = await data_user(h, "bank-demo", "bank", BANK_LICENCE, "示例银行")
    for roles in (["issuer"], ["data_user", "registrar"]):
        r = await h.http.put("/departments/bank-demo/roles", json={"roles": roles}, headers=h.admin.headers)
        assert r.status_code == 422 and r.json()["field"] == "roles", r.text
    # What it may be, it becomes, on chain as in the vault.
    r = await h.http.put("/departments/bank-demo/roles", json={"roles": ["data_user"]}, headers=h.admin.headers)
    assert r.status_code == 200 and r.json()["roles"] == ["data_user"]
    await h.settle()
    info = h.vault.ctx.chain.client.department(r.json()["chain_address"])
    assert info is not None and int(info.roles) == Role.DATA_USER
    assert (
        await h.http.put("/departments/bank-demo/roles", json={"roles": ["data_user"]}, headers=h.admin.headers)
    ).status_code == 409
    # Only the admin changes roles; a government department may take any.
    r = await h.http.put("/departments/bank-demo/roles", json={"roles": ["verifier"]}, headers=bank.headers)
    assert r.status_code in (401, 403)
    await register(h, "gongan", "government", ["verifier"])
    r = await h.http.put("/departments/gongan/roles", json={"roles": ["issuer", "registrar"]}, headers=h.admin.headers)
    assert r.status_code == 200 and r.json()["roles"] == ["issuer", "registrar"]


def loan_grant(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grantee": "bank-demo",
        "record_types": ["licence", "certificate"],
        "fields": ["名称", "法定代表人", "纳税信用等级"],
        "purpose_code": LOAN_APPROVAL,
        "purpose": "普惠小微企业信用贷款审批",
        "expires_at": clock.now() + 30 * DAY,
        "max_uses": 3,
    }
    body.update(overrides)
    return body


async def grant(h: Harness, firm: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Prepared, and signed with the enterprise's own key: its legal representative's."""
    return await granted(h, firm, **body)


async def enterprise_with_licences(h: Harness) -> tuple[Actor, dict[str, Any], dict[str, Any]]:
    shichang = await h.department("shichang")
    shuiwu = await h.department("shuiwu", roles=["issuer"])
    firm = await h.subject(shichang, identifier=ENTERPRISE_ID, kind="enterprise", name="闽江数据科技有限公司")
    subject = {"kind": "enterprise", "identifier": ENTERPRISE_ID}
    licence = await h.issue(
        shichang,
        subject=subject,
        title="营业执照",
        fields={"名称": "闽江数据科技有限公司", "法定代表人": "李四", "注册资本": "1000万元"},
    )
    tax = await h.issue(
        shuiwu,
        subject=subject,
        type="certificate",
        title="纳税证明",
        fields={"纳税人名称": "闽江数据科技有限公司", "纳税信用等级": "A", "欠税情况": "无"},
    )
    await h.settle()
    return firm, licence, tax


async def test_a_bank_reads_an_enterprises_licences_under_its_grant_until_revoked(harness: Harness) -> None:
    h = harness
    firm, licence, tax = await enterprise_with_licences(h)
    bank = await data_user(h, "bank-demo", "bank", BANK_LICENCE, "示例农商银行")
    given = await grant(h, firm, loan_grant())
    assert given["signer"] == firm.key.address
    assert given["grantee_name"] == "示例农商银行" and given["grantee_kind"] == "bank"

    r = await h.http.post(f"/grants/{given['id']}/read", json={}, headers=bank.headers)
    assert r.status_code == 200, r.text
    read = r.json()
    assert read["purpose_code"] == LOAN_APPROVAL
    by_id = {rec["id"]: rec["fields"] for rec in read["records"]}
    assert by_id == {
        licence["id"]: {"名称": "闽江数据科技有限公司", "法定代表人": "李四"},
        tax["id"]: {"纳税信用等级": "A"},
    }

    # The enterprise sees the bank by name and kind: its grants, its access log, its pages.
    await h.settle()  # the access log is sequenced by the submitter
    mine = (await h.http.get("/me/grants", headers=firm.headers)).json()["grants"]
    assert [(g["grantee"], g["grantee_name"], g["grantee_kind"]) for g in mine] == [
        ("bank-demo", "示例农商银行", "bank")
    ]
    log = (await h.http.get("/me/access-log", headers=firm.headers)).json()["entries"]
    used = [e for e in log if e["action"] == "grant.used"]
    assert [(e["department"], e["department_name"], e["department_kind"]) for e in used] == [
        ("bank-demo", "示例农商银行", "bank")
    ]
    assert used[0]["purpose_code"] == LOAN_APPROVAL
    receipt = (await h.http.get(f"/me/grants/{given['id']}/receipt", headers=firm.headers)).json()
    assert receipt["grantee"]["kind"] == "bank" and receipt["purpose"]["code"] == LOAN_APPROVAL
    h.http.cookies.set("dv_session", firm.token)
    page = await h.http.get("/my/grants")
    assert page.status_code == 200, page.text
    assert "示例农商银行" in page.text and "银行</span>" in page.text and "贷款审批" in page.text
    access = await h.http.get("/my/access")
    assert access.status_code == 200 and "示例农商银行" in access.text and "贷款审批" in access.text

    # Revoked: the bank's next read is refused.
    r = await h.http.post(f"/me/grants/{given['id']}/revoke/prepare", headers=firm.headers)
    typed = r.json()["typed_data"]
    r = await h.http.post(
        f"/me/grants/{given['id']}/revoke", json={"signature": firm.key.sign_typed_data(typed)}, headers=firm.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    refused = await h.http.post(f"/grants/{given['id']}/read", json={}, headers=bank.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "revoked"
    h.http.cookies.clear()


async def test_a_data_user_sees_and_reads_only_its_own_grants(harness: Harness) -> None:
    h = harness
    firm, _, _ = await enterprise_with_licences(h)
    bank = await data_user(h, "bank-demo", "bank", BANK_LICENCE, "示例农商银行")
    notary = await data_user(h, "notary-demo", "notary", NOTARY_LICENCE, "示例公证处")
    to_bank = await grant(h, firm, loan_grant())
    to_notary = await grant(h, firm, loan_grant(grantee="notary-demo", purpose_code=NOTARISATION, purpose="股权公证"))

    held = (await h.http.get("/grants", headers=bank.headers)).json()
    assert [g["id"] for g in held["grants"]] == [to_bank["id"]] and held["total"] == 1
    held = (await h.http.get("/grants", headers=notary.headers)).json()
    assert [g["id"] for g in held["grants"]] == [to_notary["id"]]
    assert held["grants"][0]["grantee_kind"] == "notary"
    r = await h.http.post(f"/grants/{to_notary['id']}/read", json={}, headers=bank.headers)
    assert r.status_code in (403, 404), r.text
    r = await h.http.get(f"/me/grants/{to_bank['id']}", headers=bank.headers)
    assert r.status_code in (401, 403)
    r = await h.http.get("/me/access-log", headers=bank.headers)
    assert r.status_code in (401, 403)


def test_loan_approval_and_notarisation_are_offered() -> None:
    assert {LOAN_APPROVAL, NOTARISATION} <= set(OFFERED) and OFFERED[-1] == 199


async def test_a_licence_number_names_one_data_user_and_none_has_an_authority_code(harness: Harness) -> None:
    h = harness
    first = {
        "code": "bank-a",
        "name": "甲银行",
        "kind": "bank",
        "licence_number": "B1234H235010001",
        "roles": ["data_user"],
    }
    r = await h.http.post(
        "/departments", json={**first, "auth_address": SigningKey.generate().address}, headers=h.admin.headers
    )
    assert r.status_code == 201, r.text
    again = {**first, "code": "bank-b", "auth_address": SigningKey.generate().address}
    r = await h.http.post("/departments", json=again, headers=h.admin.headers)
    assert r.status_code == 409 and "licence number" in r.json()["detail"], r.text
    coded = {**again, "licence_number": "B1234H235010002", "authority_code": "11100000000013127D"}
    r = await h.http.post("/departments", json=coded, headers=h.admin.headers)
    assert r.status_code == 422 and r.json()["field"] == "authority_code", r.text
    r = await h.http.put(
        "/departments/bank-a/authority-code", json={"authority_code": "11100000000013127D"}, headers=h.admin.headers
    )
    assert r.status_code == 422 and r.json()["field"] == "authority_code", r.text
