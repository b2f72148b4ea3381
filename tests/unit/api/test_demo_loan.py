"""`datavault demo`'s loan: the bank reads the enterprise's business licence and tax certificate
under its legal representative's grant, and the enterprise sees the read in its access log.

The seeder is the terminal's (a blocking HTTP client), so it runs in a thread here, its requests
carried to the in-process API on the test's own event loop."""

from __future__ import annotations

import asyncio

import httpx

from api.client import VaultClient
from api.demo import ENTERPRISE, seed
from api.demo_loan import BANK, LOAN_GRANT
from tests.support.harness import Actor, Harness
from vault import clock
from vault.accounts import admins
from vault.consent.purposes import LOAN_APPROVAL


class LoopTransport(httpx.BaseTransport):
    """A blocking transport that hands each request to the ASGI app on ``loop``."""

    def __init__(self, h: Harness, loop: asyncio.AbstractEventLoop) -> None:
        self.asgi = httpx.ASGITransport(app=h.app)
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def send() -> httpx.Response:
            copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self.asgi.handle_async_request(copy)
            return httpx.Response(response.status_code, headers=response.headers, content=await response.aread())

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result()


async def test_the_demo_bank_reads_the_enterprises_licences_for_a_loan(harness: Harness) -> None:
    h = harness
    loop = asyncio.get_running_loop()
    store = h.vault.ctx.keystore
    address = store.create("admin")
    async with h.vault.ctx.sessions.begin() as session:
        await admins.add(session, address, "demo admin", clock.now())

    def client() -> VaultClient:
        return VaultClient("http://vault.test", transport=LoopTransport(h, loop))

    def settle() -> None:
        asyncio.run_coroutine_threadsafe(h.settle(), loop).result()

    said: list[str] = []
    await asyncio.to_thread(seed, client, store, said.append, settle)
    text = "\n".join(said)
    assert "department shuiwu: registered" in text and "data user bank-demo (bank," in text
    assert f"{BANK['code']} read 营业执照 Business licence、纳税证明 Tax payment certificate for loan approval" in text
    await h.settle()

    firm = await h.login(Actor(store.load(ENTERPRISE["key"])))
    headers = firm.headers
    (loan,) = [
        g for g in (await h.http.get("/me/grants", headers=headers)).json()["grants"] if g["grantee"] == "bank-demo"
    ]
    assert loan["signer"] == firm.key.address  # the enterprise's own key: its legal representative's
    assert loan["grantee_kind"] == "bank" and loan["purpose_code"] == LOAN_APPROVAL and loan["uses"] == 1
    log = (await h.http.get("/me/access-log", headers=headers)).json()["entries"]
    (read,) = [e for e in log if e["action"] == "grant.used"]
    assert (read["department"], read["department_kind"], read["grant_id"]) == ("bank-demo", "bank", loan["id"])
    assert sorted(read["fields"]) == sorted(LOAN_GRANT["fields"])

    # A second run changes nothing: the bank does not read again.
    again: list[str] = []
    await asyncio.to_thread(seed, client, store, again.append, settle)
    assert any("bank-demo already read" in line for line in again), again
