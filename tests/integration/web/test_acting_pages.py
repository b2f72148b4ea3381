"""代为办理 in a real browser: an enterprise's agent makes a key in the page, is appointed by the
enterprise (signed with the enterprise's key, through the API), signs in and lands on /acting,
opens the enterprise, gives a data-user department a grant in plain words signed with its own
key in the page, sees it active once anchored; the department reads it; the agent revokes it.
At a phone's and a desktop's width, with no console error, no axe-core violation and every
control reached by the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.hexadecimal import decode_hex
from playwright.sync_api import Browser, expect

from api.web.pages import day
from tests.grant_conformance import LICENCE_FIELDS
from tests.support.browser import DESKTOP, PHONE, Console, screenshot
from tests.support.harness import ENTERPRISE_ID, Actor
from tests.support.pages import KEY_TIMEOUT, PASSWORD, axe, keyboard_gaps, make_key, sign_in
from tests.support.served import Served
from vault import clock

pytestmark = pytest.mark.integration

DAY = 24 * 3600
FIRM = "闽江数据科技有限公司"


def a_firm_and_a_reader(s: Served) -> tuple[Actor, Actor, str]:
    """The market regulator registers an enterprise and issues its licence; 人社局 may use data."""
    h = s.harness

    async def at_the_counter() -> tuple[Actor, Actor, str]:
        registrar = await h.department("shichang", name="市场监管局")
        reader = await h.department("renshe", roles=["data_user"], name="人社局")
        firm = await h.subject(registrar, identifier=ENTERPRISE_ID, kind="enterprise", name=FIRM)
        await h.issue(
            registrar,
            subject={"kind": "enterprise", "identifier": ENTERPRISE_ID},
            title="营业执照",
            fields=LICENCE_FIELDS,
        )
        await h.settle()
        sid: str = (await h.http.get("/me", headers=firm.headers)).json()["id"]
        return firm, reader, sid

    return s.run(at_the_counter())


def appoint(s: Served, firm: Actor, agent: str, days: int = 10) -> dict[str, Any]:
    """The enterprise appoints ``agent`` over its licences, signing with its own key."""
    h = s.harness

    async def sign_it() -> dict[str, Any]:
        body = {"agent": agent, "record_types": ["licence"], "expires_at": clock.now() + days * DAY}
        r = await h.http.post("/me/delegations/prepare", json=body, headers=firm.headers)
        assert r.status_code == 200, r.text
        typed = r.json()["typed_data"]
        r = await h.http.post(
            "/me/delegations",
            json={"message": typed["message"], "signature": firm.key.sign_typed_data(typed)},
            headers=firm.headers,
        )
        assert r.status_code == 201, r.text
        # Anchored before the agent signs anything under it: the chain checks a grant against it.
        delegation: dict[str, Any] = {}
        for _ in range(10):
            await h.settle()
            (delegation,) = (await h.http.get("/me/delegations", headers=firm.headers)).json()
            if delegation["status"] == "active":
                return delegation
        raise AssertionError(f"the delegation was not anchored: {delegation}")

    return s.run(sign_it())


def department_reads(s: Served, reader: Actor, grant_id: str) -> Any:
    async def read() -> Any:
        return await s.harness.http.post(f"/grants/{grant_id}/read", json={}, headers=reader.headers)

    return s.run(read())


def test_an_agent_grants_and_revokes_for_its_enterprise(vault: Served, chromium: Browser) -> None:
    console = Console()
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    console.listen(page)

    address = make_key(page, vault.url)
    firm, reader, sid = a_firm_and_a_reader(vault)
    appoint(vault, firm, address)

    sign_in(page, "/acting")
    expect(page.get_by_role("heading", name="代为办理", level=1)).to_be_visible()
    card = page.locator(f"li[data-subject='{sid}']")
    expect(card.get_by_role("heading", name=FIRM)).to_be_visible()
    expect(card).to_contain_text("企业")
    expect(card).to_contain_text("经办人")
    expect(card).to_contain_text("证照")
    expect(page.get_by_role("link", name="我的授权")).to_have_count(0)  # not the citizen's menu
    screenshot(page, "acting-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []

    card.get_by_role("link", name=f"为{FIRM}办理").click()
    page.wait_for_url(f"**/acting/{sid}")
    expect(page.get_by_role("heading", name=f"为{FIRM}办理", level=1)).to_be_visible()
    expect(page.get_by_text("委托范围内还没有授权。")).to_be_visible()
    page.get_by_label("授权给").select_option(label="人社局")
    page.get_by_role("checkbox", name="姓名").check()
    page.get_by_label("用途说明（只有你和该部门看得到）").fill("办理社保登记")
    page.get_by_label("有效天数", exact=False).fill("5")
    page.get_by_label("最多使用次数").fill("2")
    until = clock.now() + 5 * DAY
    expect(page.locator("#summary")).to_have_text(
        f"人社局 可在 {day(until)} 前读取{FIRM}的 姓名，最多 2 次，用于：办理社保登记"
    )
    screenshot(page, "acting-grant-new-phone-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []

    page.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="用我的密钥签名并授权").click()
    grant = page.locator("li[data-grant]").first
    expect(grant.get_by_role("heading", name="人社局")).to_be_visible(timeout=KEY_TIMEOUT)
    expect(grant).to_contain_text("待上链")
    expect(grant).to_contain_text("你")  # signed by the agent, not the enterprise
    grant_id = grant.get_attribute("data-grant")
    assert grant_id is not None

    vault.run(vault.harness.settle())
    consent = vault.harness.vault.ctx.chain.consent
    assert consent is not None
    assert consent.is_grant_active(decode_hex(grant_id))  # the agent's signature, checked on chain
    page.reload()
    expect(grant).to_contain_text("有效")
    expect(grant).to_contain_text("0 / 2")

    read = department_reads(vault, reader, grant_id)
    assert read.status_code == 200, read.text
    (record,) = read.json()["records"]
    assert record["fields"] == {"姓名": LICENCE_FIELDS["姓名"]}
    vault.run(vault.harness.settle())  # the read reaches the access log
    page.reload()
    expect(grant).to_contain_text("1 / 2")
    access = page.locator("section[aria-labelledby='access-h'] li").first
    expect(access).to_contain_text("人社局")
    screenshot(page, "acting-subject-phone-zh")
    assert axe(page) == []

    page.set_viewport_size(DESKTOP)
    page.get_by_label("撤销时用的密钥密码").fill(PASSWORD)
    grant.get_by_role("button", name="撤销授权").click()
    expect(page.get_by_role("status")).to_have_text("已撤销，立即生效。", timeout=KEY_TIMEOUT)
    expect(grant).to_contain_text("已撤销")
    expect(grant.get_by_role("button")).to_have_count(0)
    assert department_reads(vault, reader, grant_id).status_code == 403
    vault.run(vault.harness.settle())
    assert consent.grant_status(decode_hex(grant_id)).revoked
    screenshot(page, "acting-revoked-desktop-zh")
    assert keyboard_gaps(page) == {}
    assert axe(page) == []
    assert console.errors == []
    context.close()
