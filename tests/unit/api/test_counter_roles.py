"""The counter's pages follow the department's roles: the menu shows only the pages of the roles
it has, a page of another role answers a page naming that role in the reader's language, and a
department signs in to the first page it may use."""

from __future__ import annotations

import re

import pytest

from api.web.counter_roles import PAGES, landing
from tests.support.harness import Harness
from tests.unit.api.test_web_pages import sign_in

MENU = {
    "/counter": "窗口核验",
    "/counter/grants": "按授权读取",
    "/counter/issue": "签发证照",
    "/counter/corrections": "纠错与通知",
    "/registrar": "登记窗口",
}


def menu(html: str) -> set[str]:
    nav = html.split("<nav", 1)[1].split("</nav>", 1)[0]
    return {path for path in MENU if re.search(f'<a href="{re.escape(path)}">', nav)}


async def test_an_issuer_only_department_sees_only_its_pages_and_is_told_which_role_others_need(
    harness: Harness,
) -> None:
    h = harness
    issuer = await h.department("jiaoguan", roles=["issuer"])
    h.http.cookies.set("dv_session", issuer.token)
    r = await h.http.get("/counter/issue")
    assert r.status_code == 200
    assert menu(r.text) == {"/counter/issue", "/counter/corrections"}
    assert menu((await h.http.get("/counter/corrections")).text) == {"/counter/issue", "/counter/corrections"}
    for path, role in (("/counter", "核验"), ("/registrar", "登记"), ("/counter/grants", "数据使用")):
        r = await h.http.get(path)
        assert r.status_code == 403 and f"本部门没有“{role}”职能" in r.text, path
        assert menu(r.text) == {"/counter/issue", "/counter/corrections"}, path
    h.http.cookies.set("dv_lang", "en")
    r = await h.http.get("/counter")
    assert r.status_code == 403 and "does not have the “Verifies” role" in r.text


@pytest.mark.parametrize(
    ("roles", "path"),
    [
        (["verifier", "registrar"], "/counter"),
        (["data_user"], "/counter/grants"),
        (["issuer", "registrar"], "/counter/issue"),
        (["registrar"], "/registrar"),
    ],
)
async def test_a_department_signs_in_to_the_first_page_it_may_use(
    harness: Harness, roles: list[str], path: str
) -> None:
    assert landing(roles) == path
    dept = await harness.department("dept", roles=roles)
    r = await sign_in(harness, dept.key)
    assert r.json() == {"next": path}  # type: ignore[attr-defined]
    page = await harness.http.get(path)
    assert page.status_code == 200 and menu(page.text) == {p for p, serves in PAGES if set(serves) & set(roles)}


async def test_a_data_user_reads_its_notices_of_corrections_but_decides_none(harness: Harness) -> None:
    h = harness
    reader = await h.department("renshe", roles=["data_user"])
    h.http.cookies.set("dv_session", reader.token)
    r = await h.http.get("/counter/corrections")
    assert r.status_code == 200 and menu(r.text) == {"/counter/grants", "/counter/corrections"}
