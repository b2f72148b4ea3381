"""The vault as a browser meets it (reviewer's findings on issue 11): no open redirect after
signing in, whatever a browser would strip from the address; a loopback vault answers only to
its own host names (no DNS rebinding); every answer carries the security headers; a request
with an opaque origin is believed only when the browser says it is same-site; a picture of an
address QR code may be as large as a phone's photo."""

from __future__ import annotations

import io
import random

import httpx
from PIL import Image

from api.app import create_app
from api.guards import HEADERS, host_names, name_of
from keys import SigningKey
from tests.support.harness import Harness
from vault.presentations import qr


async def sign_in_to(h: Harness, key: SigningKey, next_: str) -> str:
    challenge = (await h.http.post("/auth/challenge", json={"address": key.address})).json()["challenge"]
    body = {"challenge": challenge, "signature": key.sign_message(challenge), "next": next_}
    r = await h.http.post("/signin", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["next"])


async def test_signing_in_never_sends_the_reader_to_another_site(harness: Harness) -> None:
    h = harness
    key = SigningKey.generate()
    registrar = await h.department("gongan")
    body = {"kind": "citizen", "identifier": "11010519491231002X", "name": "张三", "address": key.address}
    assert (await h.http.post("/subjects", json=body, headers=registrar.headers)).status_code == 201
    for elsewhere in ("/\t/evil.example/phish", "/\n/evil.example", "/\r/evil.example", "//evil.example", "/\\evil"):
        assert await sign_in_to(h, key, elsewhere) == "/", repr(elsewhere)
        r = await h.http.get("/prefs", params={"lang": "zh", "next": elsewhere})
        assert r.headers["location"] == "/", repr(elsewhere)
    assert await sign_in_to(h, key, "/my/grants?x=1") == "/my/grants?x=1"


def test_host_names_are_read_as_browsers_send_them() -> None:
    assert host_names("127.0.0.1") == host_names("::1") == host_names("localhost")
    assert host_names("0.0.0.0") is None and host_names("10.0.0.5") is None
    assert [name_of(h) for h in ("127.0.0.1:8000", "LOCALHOST", "[::1]:8000", "evil.example:8000")] == [
        "127.0.0.1",
        "localhost",
        "::1",
        "evil.example",
    ]


async def test_a_loopback_vault_answers_only_to_its_own_names(harness: Harness) -> None:
    app = create_app(vault=harness.vault, run_submitter=False, hosts=host_names("127.0.0.1"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/health", headers={"host": "localhost:8000"})).status_code == 200
        assert (await http.get("/health", headers={"host": "[::1]:8000"})).status_code == 200
        refused = await http.get("/demo", headers={"host": "evil.example:8000"})
        assert refused.status_code == 421 and "127.0.0.1" in refused.json()["detail"]
        assert refused.headers["x-frame-options"] == "DENY"
        big = await http.post("/signin", content=b"x" * 5_000_000, headers={"host": "evil.example"})
        assert big.status_code == 421  # refused before its body is read


async def test_every_answer_carries_the_security_headers(harness: Harness) -> None:
    h = harness
    for path in ("/", "/signin", "/health", "/static/page.js", "/nowhere"):
        r = await h.http.get(path)
        for name, value in HEADERS.items():
            assert r.headers[name.decode()] == value.decode(), (path, name)
    assert "script-src 'self'" in (await h.http.get("/signin")).headers["content-security-policy"]


async def test_an_opaque_origin_is_believed_only_with_the_browsers_word(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    h.http.cookies.set("dv_session", registrar.token)
    body = {"ids": ["x"]}
    r = await h.http.post("/records/status", json=body, headers={"origin": "null"})
    assert r.status_code == 403 and "own pages" in r.json()["detail"]
    r = await h.http.post("/records/status", json=body, headers={"origin": "null", "sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    r = await h.http.post("/records/status", json=body, headers={"origin": "null", "sec-fetch-site": "same-origin"})
    assert r.status_code != 403


async def test_the_registrar_reads_an_address_from_a_phones_photo(harness: Harness) -> None:
    """A phone's photo is megabytes: the scan takes pictures up to the image limit."""
    h = harness
    address = SigningKey.generate().address
    rng = random.Random(7)
    photo = Image.frombytes("RGB", (900, 900), bytes(rng.getrandbits(8) for _ in range(900 * 900 * 3)))
    with Image.open(io.BytesIO(qr.png(address, scale=8))) as code:
        photo.paste(code.convert("RGB"), (100, 100))
    out = io.BytesIO()
    photo.save(out, format="PNG")
    assert out.tell() > 1_000_000
    h.http.cookies.set("dv_session", (await h.department("gongan")).token)
    r = await h.http.post("/registrar/scan", content=out.getvalue(), headers={"content-type": "image/png"})
    assert r.status_code == 200, r.text
    assert r.json() == {"address": address}
