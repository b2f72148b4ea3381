"""The OpenAPI document is enough to write a client: it says how to log in, what every operation
does and who may call it, and every refusal it can give, as problem+json. /docs works offline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from api.app import create_app
from keys import SigningKey
from tests.support.harness import Harness, open_harness
from vault.accounts.auth import challenge_text
from vault.config import Settings

PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # No vault opened behind it: the documents and the UI's files must not need one.
    app = create_app(settings=Settings(datadir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vault.test") as c:
        yield c


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path)
    yield h
    await h.close()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items() if m in METHODS]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_only_local_files(http: httpx.AsyncClient, page: str) -> None:
    r = await http.get(page)
    assert r.status_code == 200
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", r.text) + re.findall(r"""url:\s*'([^']+)'""", r.text)
    assert urls, "the page loads its script and the document from somewhere"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from elsewhere"
        fetched = await http.get(url)
        assert fetched.status_code == 200 and fetched.content, url
    assert not re.search(r"https?://", r.text.replace("http://vault.test", "")), "no absolute URL at all"


async def test_every_operation_has_a_summary_a_description_and_who_may_call(http: httpx.AsyncClient) -> None:
    doc = (await http.get("/openapi.json")).json()
    for method, path, op in operations(doc):
        assert op.get("summary") and len(op["summary"]) <= 100, (method, path, op.get("summary"))
        # Not FastAPI's title made from the function's name: a sentence someone wrote.
        assert " " in op["summary"], (method, path, op["summary"])
        assert "**Who may call:**" in op.get("description", ""), (method, path)


async def test_every_operation_declares_the_refusals_it_can_give(http: httpx.AsyncClient) -> None:
    doc = (await http.get("/openapi.json")).json()
    assert doc["components"]["schemas"]["Problem"]["required"] == ["title", "status", "detail"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, op in operations(doc):
        declared = {int(s) for s in op["responses"]}
        where = (method, path)
        if op.get("security"):
            assert {401, 403} <= declared, where
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"], where
        if "{" in path:
            assert {404, 422} <= declared, where
        if "requestBody" in op:
            assert {400, 413, 422} <= declared, where
        if method != "GET":
            assert 409 in declared, where
        assert 503 in declared, where  # everything needs the database or the chain
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert set(response["content"]) == {PROBLEM}, (where, status)
                assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    challenge = doc["paths"]["/auth/challenge"]["post"]["responses"]["429"]
    assert "Retry-After" in challenge["headers"]
    assert "401" in doc["paths"]["/auth/token"]["post"]["responses"]


async def test_the_document_says_how_to_log_in(http: httpx.AsyncClient) -> None:
    doc = (await http.get("/openapi.json")).json()
    text = doc["info"]["description"]
    # The challenge's format, line by line, as the vault makes it.
    for line in challenge_text("ADDRESS", "NONCE", 0).splitlines():
        assert line.split(" ")[0] in text
    for needed in (
        "POST /auth/challenge",
        "POST /auth/token",
        "EIP-191",
        "personal_sign",
        "Authorization: Bearer <access_token>",
        "application/problem+json",
    ):
        assert needed in text, needed
    scheme = doc["components"]["securitySchemes"]["HTTPBearer"]
    assert scheme["scheme"] == "bearer" and "POST /auth/token" in scheme["description"]


async def test_a_client_written_from_the_document_logs_in(harness: Harness) -> None:
    """What the description says, done with a standard wallet library and nothing else."""
    h = harness
    wallet = Account.create()
    await h.http.post("/auditors", json={"address": wallet.address, "name": "审计员"}, headers=h.admin.headers)
    r = await h.http.post("/auth/challenge", json={"address": wallet.address.lower()})
    challenge = r.json()["challenge"]
    assert challenge.splitlines()[0] == "datavault login" and challenge.splitlines()[1] == f"address: {wallet.address}"
    signature = "0x" + Account.sign_message(encode_defunct(text=challenge), wallet.key).signature.hex().removeprefix(
        "0x"
    )
    token = (await h.http.post("/auth/token", json={"challenge": challenge, "signature": signature})).json()
    assert token["token_type"] == "bearer" and token["role"] == "auditor"
    r = await h.http.get("/audit/entries", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 200
    # And a refusal is the problem document the schema describes.
    r = await h.http.get("/audit/entries", headers={"Authorization": f"Bearer {SigningKey.generate().address}"})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    assert {"title", "status", "detail"} <= set(r.json())
