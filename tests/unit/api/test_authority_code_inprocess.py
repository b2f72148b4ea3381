"""PUT /departments/{code}/authority-code: a department registered without its 统一社会信用代码
gets it once, and from then on its credentials export the GB/T 36903 type code and the GB/T
36904 identifier."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.harness import Harness

CODE = "11350100MB00000012"  # a made-up code with a valid GB 32100 check character


async def subject_claims(h: Harness, holder: Any, record_id: str) -> dict[str, Any]:
    r = await h.http.get(f"/me/records/{record_id}/vc", headers=holder.headers)
    assert r.status_code == 200, r.text
    payload = r.text.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["credentialSubject"]  # type: ignore[no-any-return]


async def test_an_authority_code_is_set_once_and_completes_the_e_licence_items(harness: Harness) -> None:
    h = harness
    gongan = await h.department("gongan", name="市公安局")
    holder = await h.subject(gongan)
    record = await h.issue(gongan)
    await h.settle()
    before = await subject_claims(h, holder, record["id"])
    assert "标识" not in before and "类型代码" not in before and before["颁发机构名称"] == "市公安局"

    path = "/departments/gongan/authority-code"
    r = await h.http.put(path, json={"authority_code": CODE}, headers=gongan.headers)
    assert r.status_code == 403  # the governance admin's, not the department's own
    r = await h.http.put(path, json={"authority_code": CODE[:-1] + "3"}, headers=h.admin.headers)
    assert r.status_code == 422 and "authority_code" in r.text  # a wrong check character
    r = await h.http.put(path, json={"authority_code": CODE}, headers=h.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["authority_code"] == CODE

    after = await subject_claims(h, holder, record["id"])
    assert after["类型代码"] == CODE + "001"  # a licence
    assert after["标识"].startswith(f"1.2.156.3005.2.{CODE}001.{CODE}.")

    r = await h.http.put(path, json={"authority_code": "11350100MB00000025"}, headers=h.admin.headers)
    assert r.status_code == 409  # never changed: issued identifiers contain it
    r = await h.http.put("/departments/nobody/authority-code", json={"authority_code": CODE}, headers=h.admin.headers)
    assert r.status_code == 404
