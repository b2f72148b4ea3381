"""What the pages show without a browser: an issuer by its name, a grant by what it covers, the
words a script needs, and the style sheet's large-text size and wrapping."""

from __future__ import annotations

import json
import re
from pathlib import Path

from api.web.i18n import MESSAGES
from tests.support.harness import Harness

CSS = Path(__file__).parents[3] / "api" / "web" / "static" / "app.css"


def messages(html: str) -> dict[str, object]:
    found = re.search(r'<script id="messages" type="application/json">(.*?)</script>', html, re.S)
    assert found
    words: dict[str, object] = json.loads(found.group(1))
    return words


async def test_a_citizen_sees_the_issuer_by_name_and_each_grant_by_what_it_covers(harness: Harness) -> None:
    h = harness
    gongan = await h.department("gongan", roles=["issuer", "registrar"], name="市公安局")
    reader = await h.department("renshe", roles=["data_user"], name="人社局")
    citizen = await h.subject(gongan)
    record = await h.issue(gongan)
    h.http.cookies.set("dv_session", citizen.token)
    home = (await h.http.get("/my")).text
    assert "<dd>市公安局</dd>" in home and "<dd>gongan</dd>" not in home
    assert "<dd>市公安局</dd>" in (await h.http.get(f"/my/records/{record['id']}")).text

    body = {
        "grantee": "renshe",
        "record_types": ["licence"],
        "fields": ["姓名"],
        "purpose_code": 101,
        "purpose": "办理社保卡",
        "expires_at": 2_000_000_000,
        "max_uses": 2,
    }
    typed = (await h.http.post("/me/grants/prepare", json=body, headers=citizen.headers)).json()["typed_data"]
    signed = {"message": typed["message"], "signature": citizen.key.sign_typed_data(typed)}
    assert (await h.http.post("/me/grants", json=signed, headers=citizen.headers)).status_code == 201
    page = (await h.http.get("/my/grants")).text
    assert "<dt>证照类别</dt><dd>证照</dd>" in page
    words = messages(page)
    assert words["titles"] == {"licence": ["机动车驾驶证"]} and words["nopassword"] == "请输入密钥密码"
    assert words["confirm"] == "确认撤销" and words["revoked"] == "已撤销，立即生效"
    assert "{records}" in str(words["summary"]) and "{purpose}" in str(words["summary"])

    await h.settle()
    h.http.cookies.set("dv_session", reader.token)
    counter = (await h.http.get("/counter/grants")).text
    assert "<h2>证照：姓名</h2>" in counter
    button = re.search(r'<button type="button" class="read"[^>]*>(.*?)</button>', counter, re.S)
    assert button and "证照：姓名" in button.group(1) and "办理社保卡" in button.group(1)
    assert 'class="uses"' in counter


async def test_the_counter_tells_a_file_that_is_not_a_picture_from_a_blurred_one(harness: Harness) -> None:
    h = harness
    h.http.cookies.set("dv_session", (await h.department("gongan", roles=["verifier"])).token)
    words = messages((await h.http.get("/counter")).text)
    assert "不是图片文件" in str(words["notimage"])
    for lang in ("zh", "en"):
        advice = MESSAGES[lang]["check.qr_image.bad"]
        assert ("不是其他文件" in advice) if lang == "zh" else ("not another kind of file" in advice)


def test_large_text_is_24_px_and_long_words_wrap() -> None:
    css = CSS.read_text(encoding="utf-8")
    size = re.search(r"html\.large\s*\{\s*font-size:\s*([\d.]+)%", css)
    assert size and float(size.group(1)) * 16 / 100 >= 24
    wrapping = re.search(r"([^{}]*)\{\s*overflow-wrap:\s*anywhere", css)
    assert wrapping
    for tag in ("dd", "h3", "p", "li"):
        assert re.search(rf"(^|[\s,]){tag}([\s,]|$)", wrapping.group(1)), tag
