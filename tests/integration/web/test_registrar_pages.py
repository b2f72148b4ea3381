"""The registration counter and a person's agents in a real browser (issue 11).

Enrolment from a picture of the address QR code the person's phone shows; a lost key replaced
(the old key is told what happened when it tries to sign in, the new one signs in); a guardian
appointed with its reason, which the person reads on their own page, then removed; an agent
appointed and withdrawn by the person's own signature. And the camera, where the browser has
one: Chromium's fake capture device films a QR code, and the page reads it through the vault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from keys import SigningKey
from tests.presentation_conformance import present
from tests.presentation_conformance import world as presentation_world
from tests.support.browser import DESKTOP, PHONE, Console, beside, camera_showing, screenshot
from tests.support.harness import CITIZEN_ID
from tests.support.pages import KEY_TIMEOUT, PASSWORD, axe, counter_department, keyboard_gaps, make_key, sign_in
from tests.support.served import Served
from vault.presentations import qr

pytestmark = pytest.mark.integration

# Refusals the test provokes on purpose; the browser logs their status lines.
REFUSALS = ("401", "404", "422")


def officer(vault: Served, page: Page, roles: tuple[str, ...] = ("registrar", "verifier")) -> None:
    """A counter officer with a key of their own, signed in to the counter."""
    counter_department(vault, make_key(page, vault.url), roles=roles)
    sign_in(page, "/counter")


def address_picture(page: Page, path: Path) -> Path:
    """What the registrar photographs: the QR code the sign-in page shows for a new key."""
    page.locator("#created-qr").screenshot(path=str(path))
    return path


def test_a_lost_key_is_replaced_and_a_guardian_appointed_at_the_registration_counter(
    vault: Served, chromium: Browser, tmp_path: Path
) -> None:
    console = Console(expected=REFUSALS)
    desk = chromium.new_context(viewport=DESKTOP)
    counter = desk.new_page()
    console.listen(counter)
    officer(vault, counter)
    counter.goto(vault.url + "/registrar")

    phone_context = chromium.new_context(viewport=PHONE)
    phone = phone_context.new_page()
    console.listen(phone)
    old = make_key(phone, vault.url)
    old_picture = address_picture(phone, tmp_path / "old.png")

    # Enrolment: the address read from the picture, not typed.
    enrol = counter.locator("#enrol")
    enrol.get_by_label("证件号码").fill(CITIZEN_ID)
    # An empty name is named beside the field, in the page's words, before any call.
    enrol.get_by_role("button", name="登记").click()
    expect(counter.locator("#name-error")).to_have_text("请填写姓名或企业名称")
    expect(counter.locator("#status")).to_be_empty()
    enrol.get_by_label("姓名或名称").fill("张三")
    enrol.get_by_label("从图片读取地址").set_input_files(str(old_picture))
    expect(enrol.get_by_label("对方密钥的地址")).to_have_value(old)
    enrol.get_by_role("button", name="登记").click()
    expect(counter.locator("#enrolled")).to_contain_text(f"已登记 张三，地址 {old}", timeout=KEY_TIMEOUT)
    vault.run(vault.harness.settle())

    # The phone loses its key: a new one, shown the same way.
    phone.evaluate("localStorage.clear()")
    new = make_key(phone, vault.url)
    new_picture = address_picture(phone, tmp_path / "new.png")
    not_an_address = tmp_path / "text.png"
    not_an_address.write_bytes(qr.png("hello"))

    replace = counter.locator("#replace")
    replace.get_by_label("证件号码").fill("110105194912310021")  # a wrong check digit
    replace.get_by_role("button", name="查找").click()
    expect(counter.locator("#replace-identifier-error")).not_to_be_empty()
    replace.get_by_label("证件号码").fill(CITIZEN_ID)
    replace.get_by_role("button", name="更换为新密钥").click()
    expect(counter.locator("#replace-identifier-error")).to_have_text("请先查找对方")
    replace.get_by_role("button", name="查找").click()
    expect(counter.locator("#replace-found")).to_have_text(f"张三（当前地址 {old}）")
    replace.get_by_label("从图片读取地址").set_input_files(str(not_an_address))
    expect(counter.locator("#replace-address-error")).to_contain_text("no key address")
    replace.get_by_label("从图片读取地址").set_input_files(str(new_picture))
    expect(replace.get_by_label("新密钥的地址")).to_have_value(new)
    replace.get_by_role("button", name="更换为新密钥").click()
    replaced = counter.locator("#replaced")
    expect(replaced).to_contain_text("已为 张三 更换密钥", timeout=KEY_TIMEOUT)
    expect(replaced).to_contain_text("旧密钥立即失效")
    screenshot(counter, "registrar-key-replaced-desktop-zh")
    assert keyboard_gaps(counter) == {}
    assert axe(counter) == []
    vault.run(vault.harness.settle())

    # The new key signs in (the old one is refused: the next test).
    phone.goto(vault.url + "/signin")
    expect(phone.get_by_role("radio", name=new)).to_be_checked()
    sign_in(phone, "/my")

    # A guardian, with its reason; the reason is required and said beside its field.
    guardian = SigningKey.generate().address
    until = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%d")
    g = counter.locator("#guardian")
    g.get_by_label("证件号码").fill(CITIZEN_ID)
    g.get_by_role("button", name="查找").click()
    expect(counter.locator("#guardian-found")).to_contain_text(f"张三（当前地址 {new}）")
    g.get_by_label("监护人密钥的地址").fill(guardian)
    g.get_by_label("监护截止日期").fill(until)
    g.get_by_role("button", name="指定监护人").click()
    expect(counter.locator("#guardian-reason-error")).to_have_text("请写明理由：本人会看到它。")
    g.get_by_label("理由（本人看得到）").fill("法院裁定指定监护")
    g.get_by_role("button", name="指定监护人").click()
    expect(counter.locator("#guardian-done")).to_contain_text(f"已为 张三 指定监护人 {guardian}", timeout=KEY_TIMEOUT)
    vault.run(vault.harness.settle())

    phone.get_by_role("link", name="经办人").click()
    held = phone.locator("li[data-kind='guardian']")
    expect(held).to_contain_text(guardian)
    expect(held).to_contain_text("法院裁定指定监护")
    expect(held).to_contain_text("有效")
    expect(held).to_contain_text("监护人只能由登记窗口解除")

    # An agent, appointed and withdrawn with the person's own key.
    agent = SigningKey.generate().address
    phone.get_by_label("经办人密钥的地址").fill(agent)
    phone.get_by_role("button", name="签名并委托").click()
    expect(phone.locator("#types-error")).to_have_text("请至少选择一种证照类型")
    phone.get_by_role("checkbox", name="证照").check()
    phone.get_by_label("委托天数").fill("30")
    expect(phone.locator("#agent-summary")).to_have_text(f"{agent} 可在 30 天内代你办理：证照")
    phone.get_by_label("密钥密码", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="签名并委托").click()
    appointed = phone.locator("li[data-kind='agent']")
    expect(appointed).to_contain_text(agent, timeout=KEY_TIMEOUT)
    vault.run(vault.harness.settle())
    phone.reload()
    expect(appointed).to_contain_text("有效")
    screenshot(phone, "my-agents-phone-zh")
    assert keyboard_gaps(phone) == {}
    assert axe(phone) == []
    phone.get_by_label("撤回时使用的密钥密码").fill(PASSWORD)
    appointed.get_by_role("button", name="撤回").click()
    expect(appointed).to_contain_text("已撤回", timeout=KEY_TIMEOUT)

    # The registrar removes the guardian; the person sees it ended.
    g.get_by_role("button", name="解除监护人").click()
    expect(counter.locator("#guardian-done")).to_contain_text(f"已解除 张三 的监护人 {guardian}", timeout=KEY_TIMEOUT)
    vault.run(vault.harness.settle())
    phone.reload()
    expect(held).not_to_contain_text("有效")
    assert console.errors == []
    desk.close()
    phone_context.close()


def test_a_replaced_key_is_told_to_sign_in_with_the_new_one(vault: Served, chromium: Browser) -> None:
    """The key a registrar replaced, still in the person's browser: signing in with it says what
    happened and what to do, in the reader's language."""
    console = Console(expected=REFUSALS)
    context = chromium.new_context(viewport=PHONE)
    phone = context.new_page()
    console.listen(phone)
    old = make_key(phone, vault.url)
    h = vault.harness
    new = SigningKey.generate().address

    async def enrol_and_replace() -> None:
        registrar = await h.department("gongan")
        body = {"kind": "citizen", "identifier": CITIZEN_ID, "name": "张三", "address": old}
        assert (await h.http.post("/subjects", json=body, headers=registrar.headers)).status_code == 201
        await h.settle()
        find = {"kind": "citizen", "identifier": CITIZEN_ID}
        sid = (await h.http.post("/subjects/find", json=find, headers=registrar.headers)).json()
        r = await h.http.post(f"/subjects/{sid['id']}/key", json={"address": new}, headers=registrar.headers)
        assert r.status_code == 200, r.text
        await h.settle()

    vault.run(enrol_and_replace())
    phone.goto(vault.url + "/signin")
    phone.get_by_label("密钥密码", exact=True).first.fill(PASSWORD)
    phone.get_by_role("button", name="签名并登录").click()
    expect(phone.get_by_role("status")).to_have_text(
        "这把密钥已在登记窗口被更换，不能再使用：请用新密钥登录。", timeout=KEY_TIMEOUT
    )
    phone.get_by_role("link", name="English").click()
    phone.get_by_label("Key password", exact=True).first.fill(PASSWORD)
    phone.get_by_role("button", name="Sign and sign in").click()
    expect(phone.get_by_role("status")).to_contain_text("sign in with your new key", timeout=KEY_TIMEOUT)
    assert console.errors == []
    context.close()


def test_the_registrar_scans_the_address_with_the_camera(vault: Served, chromium: Browser, tmp_path: Path) -> None:
    address = SigningKey.generate().address
    with beside(chromium, *camera_showing(qr.png(address, scale=8), tmp_path / "address.y4m")) as filming:
        console = Console()
        page = filming.new_page(viewport=DESKTOP)
        console.listen(page)
        officer(vault, page)
        page.goto(vault.url + "/registrar")
        enrol = page.locator("#enrol")
        enrol.get_by_role("button", name="扫描地址二维码").click()
        expect(enrol.get_by_label("对方密钥的地址")).to_have_value(address)
        expect(page.get_by_role("status")).to_have_text(f"已读取地址 {address}")
        expect(page.locator("#scan-video")).to_be_hidden()  # the camera is off once it has read
        assert console.errors == []


def test_the_counter_verifies_a_shown_code_with_the_camera(vault: Served, chromium: Browser, tmp_path: Path) -> None:
    h = vault.harness

    async def shown() -> str:
        w = await presentation_world(h)
        return await present(h, w.citizen, w.licence["id"])

    text = vault.run(shown())
    with beside(chromium, *camera_showing(qr.png(text, scale=4), tmp_path / "shown.y4m")) as filming:
        console = Console()
        page = filming.new_page(viewport=PHONE)
        console.listen(page)
        officer(vault, page, roles=("verifier",))
        page.get_by_role("button", name="用摄像头扫码").click()
        expect(page.locator("#verdict").get_by_role("heading", name="核验通过")).to_be_visible(timeout=KEY_TIMEOUT)
        expect(page.locator("#disclosed")).to_contain_text("准驾车型")
        expect(page.locator("#camera")).to_be_hidden()
        screenshot(page, "counter-camera-phone-zh")
        assert console.errors == []
