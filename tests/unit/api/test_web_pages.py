"""The pages without a browser (issue 11): both languages say everything, a session cookie is
HttpOnly and SameSite=Strict, writes from another site are refused, a page that needs a
session sends the reader to sign in and back, and a page's error is a page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.web.i18n import MESSAGES
from api.web.pages import check_words
from keys import SigningKey
from tests.support.harness import Harness, open_harness
from vault import clock
from vault.presentations import qr


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, chain="inprocess")
    yield h
    await h.close()


def test_both_languages_have_every_message() -> None:
    assert MESSAGES["zh"].keys() == MESSAGES["en"].keys()
    assert all(MESSAGES["zh"].values()) and all(MESSAGES["en"].values())


def test_every_check_the_vault_makes_has_plain_words_and_advice_in_both_languages() -> None:
    """A clerk reads each verdict's checks in their language: a check named anywhere in the vault
    needs a label and a what-to-do-when-it-fails in both."""
    names: set[str] = set()
    for path in (Path(__file__).parents[3] / "vault").rglob("*.py"):
        names |= set(re.findall(r'Check\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert {"holder_signature", "not_replayed", "anchored", "qr_image"} <= names  # the scan finds them
    words = check_words("zh")
    assert names <= words.keys(), names - words.keys()
    for lang in ("zh", "en"):
        for name in names:
            assert MESSAGES[lang][f"check.{name}"] and MESSAGES[lang][f"check.{name}.bad"]


async def sign_in(h: Harness, key: SigningKey, **headers: str) -> object:
    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    body = {"challenge": challenge, "signature": key.sign_message(challenge)}
    return await h.http.post("/signin", json=body, headers=headers)


async def test_signing_in_sets_a_session_cookie_scripts_and_other_sites_cannot_use(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    key = SigningKey.generate()
    body = {"kind": "citizen", "identifier": "11010519491231002X", "name": "张三", "address": key.address}
    assert (await h.http.post("/subjects", json=body, headers=registrar.headers)).status_code == 201

    refused = await sign_in(h, key, origin="https://elsewhere.example")
    assert refused.status_code == 403 and "set-cookie" not in refused.headers  # type: ignore[attr-defined]
    refused = await sign_in(h, key, **{"sec-fetch-site": "cross-site"})
    assert refused.status_code == 403  # type: ignore[attr-defined]

    r = await sign_in(h, key, origin="http://vault.test", **{"sec-fetch-site": "same-origin"})
    assert r.status_code == 200 and r.json() == {"next": "/my"}  # type: ignore[attr-defined]
    cookie = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith("dv_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = await h.http.get("/my")
    assert page.status_code == 200 and "我的证照" in page.text

    out = await h.http.post("/signout", headers={"origin": "http://vault.test"})
    assert out.status_code == 303
    # The session ended on the server too: the old token is refused by the API.
    token = cookie.split(";")[0].split("=", 1)[1]
    assert (await h.http.get("/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_a_page_that_needs_a_session_sends_the_reader_to_sign_in_and_back(harness: Harness) -> None:
    r = await harness.http.get("/my")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/my"
    harness.http.cookies.set("dv_session", "forged.token")
    r = await harness.http.get("/my")
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/my"


async def test_a_department_on_the_citizens_page_gets_a_page_saying_why(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    h.http.cookies.set("dv_session", dept.token)
    r = await h.http.get("/my")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "这个页面不属于当前身份" in r.text and "citizen" in r.text


async def test_preferences_are_cookies_and_redirect_only_within_the_site(harness: Harness) -> None:
    h = harness
    r = await h.http.get("/prefs", params={"lang": "en", "large": "1", "next": "/signin"})
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    assert "dv_lang=en" in r.headers.get_list("set-cookie")[0] + r.headers.get_list("set-cookie")[1]
    home = await h.http.get("/")
    assert 'class="large"' in home.text and "Citizens and enterprises" in home.text
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        r = await h.http.get("/prefs", params={"lang": "zh", "next": elsewhere})
        assert r.headers["location"] == "/", elsewhere
    assert (await h.http.get("/prefs", params={"lang": "xx"})).headers.get("set-cookie") is None


async def test_an_address_qr_code_is_an_svg_and_anything_else_is_refused(harness: Harness) -> None:
    key = SigningKey.generate()
    r = await harness.http.get(f"/qr/address/{key.address}.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml" and b"<svg" in r.content
    r = await harness.http.get("/qr/address/not-an-address.svg")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


async def test_vendor_files_are_served_from_the_lock_and_nothing_else(harness: Harness) -> None:
    r = await harness.http.get("/vendor/ethers.umd.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert (await harness.http.get("/vendor/..%2Fpackage.json")).status_code == 404
    assert (await harness.http.get("/vendor/hardhat.js")).status_code == 404


async def test_the_pages_scripts_call_the_api_with_the_cookie_only_from_the_pages(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    h.http.cookies.set("dv_session", registrar.token)
    assert (await h.http.get("/grants")).status_code == 200  # same site (no header says otherwise)
    r = await h.http.post("/records/status", json={"ids": ["x"]}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "own pages" in r.json()["detail"]
    r = await h.http.get("/grants", headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    h.http.cookies.clear()
    assert (await h.http.get("/grants")).status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/admin", "/auditor", "/counter", "/counter/grants", "/registrar", "/my/grants", "/my/access", "/my/agents"],
)
async def test_each_page_is_its_users_own(harness: Harness, path: str) -> None:
    h = harness
    dept = await h.department("gongan")
    wrong = dept if not path.startswith(("/counter", "/registrar")) else h.admin
    h.http.cookies.set("dv_session", wrong.token)
    r = await h.http.get(path)
    assert r.status_code == 403 and "这个页面不属于当前身份" in r.text, (path, r.status_code)


async def test_the_registrar_reads_only_an_address_from_a_picture(harness: Harness) -> None:
    """``/registrar/scan`` answers the key address a QR code holds (plain, or as a wallet's
    ``ethereum:`` link), and refuses with a reason anything else: a page's, not a QR service."""
    h = harness
    address = SigningKey.generate().address
    image = {"content-type": "image/png"}
    assert (await h.http.post("/registrar/scan", content=qr.png(address), headers=image)).status_code == 303
    h.http.cookies.set("dv_session", (await h.department("gongan")).token)
    r = await h.http.post("/registrar/scan", content=qr.png(address.lower()), headers=image)
    assert r.status_code == 200 and r.json() == {"address": address}
    r = await h.http.post("/registrar/scan", content=qr.png(f"ethereum:{address}@1"), headers=image)
    assert r.json() == {"address": address}
    r = await h.http.post("/registrar/scan", content=qr.png("hello"), headers=image)
    assert r.status_code == 422 and "no key address" in r.json()["detail"]
    r = await h.http.post("/registrar/scan", content=b"not a picture", headers=image)
    assert r.status_code == 422 and r.json()["field"] == "image"
    r = await h.http.post("/registrar/scan", content=qr.png(address), headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "Content-Type" in r.json()["detail"]
    h.http.cookies.set("dv_session", h.admin.token)
    assert (await h.http.post("/registrar/scan", content=qr.png(address), headers=image)).status_code == 403


async def test_a_subjects_agents_page_shows_a_guardians_reason(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    sid = (await h.http.get("/me", headers=citizen.headers)).json()["id"]
    guardian = SigningKey.generate().address
    body = {"address": guardian, "expires_at": clock.now() + 86400, "reason": "法院裁定指定监护"}
    assert (await h.http.post(f"/subjects/{sid}/guardians", json=body, headers=registrar.headers)).status_code == 201
    h.http.cookies.set("dv_session", citizen.token)
    page = await h.http.get("/my/agents")
    assert page.status_code == 200
    assert guardian in page.text and "法院裁定指定监护" in page.text and "监护人只能由登记窗口解除" in page.text


async def test_the_home_page_counts_uses_not_issuance(harness: Harness) -> None:
    """本月被访问 N 次 counts departments using the data (a read under a grant, in the browser
    test); a department issuing a credential is not a use."""
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar, name="张三")
    await h.issue(registrar)
    await h.settle()
    h.http.cookies.set("dv_session", citizen.token)
    page = await h.http.get("/my")
    assert "张*，你好" in page.text and "本月被访问 0 次" in page.text and "0 个部门正在使用你的数据" in page.text
