"""GET /status/snapshot on the in-process chain and SQLite: what it says after revocations,
department changes and key rotations, and `datavault status-snapshot`'s checks of it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli import status as cli_status
from api.cli.common import CliError
from api.client import VaultClient
from keys import SigningKey
from tests.support.harness import Harness, freeze
from vault.accounts.departments import Role
from vault.presentations.status_snapshot import SnapshotError, StatusSnapshot, decode


async def fetch(h: Harness) -> tuple[StatusSnapshot, httpx.Response]:
    r = await h.http.get("/status/snapshot")  # no token: it is public
    assert r.status_code == 200, r.text
    return decode(r.text, trusted_signer=h.vault.ctx.chain.operator.address), r


async def chain_address(h: Harness, code: str) -> str:
    (dept,) = [d for d in (await h.http.get("/departments")).json() if d["code"] == code]
    address: str = dept["chain_address"]
    return address


async def status_indexes(h: Harness, citizen: Any) -> dict[str, int]:
    r = await h.http.get("/me/records", headers=citizen.headers)
    assert r.status_code == 200, r.text
    mine = r.json()["records"]
    return {r["id"]: r["document"]["status_index"] for r in mine}


async def test_the_snapshot_marks_revoked_credentials_and_nothing_else(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    records = [await h.issue(dept, title=f"证照{n}") for n in range(3)]
    await h.settle()
    r = await h.http.post(f"/records/{records[1]['id']}/revoke", json={"reason": "遗失"}, headers=dept.headers)
    assert r.status_code == 200, r.text
    await h.settle()

    freeze(h.app, 1_800_000_000)
    snapshot, response = await fetch(h)
    h.app.dependency_overrides.clear()  # tokens would have expired by then
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "max-age=60"
    assert snapshot.created_at == 1_800_000_000 and snapshot.age(1_800_000_090) == 90
    assert snapshot.signer == h.vault.ctx.chain.operator.address == h.vault.ctx.chain.client.admin()
    health = (await h.http.get("/health")).json()["chain"]
    assert (snapshot.domain.chain_id, snapshot.domain.registry) == (health["chain_id"], health["registry"])

    indexes = await status_indexes(h, citizen)
    assert len(set(indexes.values())) == 3 and snapshot.size >= 3
    assert {rid: snapshot.revoked(i) for rid, i in indexes.items()} == {
        records[0]["id"]: False,
        records[1]["id"]: True,
        records[2]["id"]: False,
    }
    assert snapshot.revoked_count() == 1 and snapshot.revoked(snapshot.size) is None

    issuer = snapshot.issuer((await chain_address(h, "gongan")).lower())
    assert issuer is not None and issuer.code == "gongan" and issuer.name == "市公安局" and issuer.active
    assert issuer.roles & Role.ISSUER and issuer.roles & Role.REGISTRAR


async def test_a_revocation_counts_before_the_chain_confirms_it(harness: Harness) -> None:
    h = harness
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    r = await h.http.post(f"/records/{record['id']}/revoke", json={}, headers=dept.headers)
    assert r.json()["status"] == "revoking"
    snapshot, _ = await fetch(h)  # not settled: deny wins
    assert snapshot.revoked((await status_indexes(h, citizen))[record["id"]]) is True


async def test_a_deactivated_department_is_inactive(harness: Harness) -> None:
    h = harness
    await h.department("gongan")
    await h.department("renshe", roles=["verifier", "data_user"])
    before, _ = await fetch(h)
    assert sorted(i.code for i in before.issuers if i.active) == ["gongan", "renshe"]
    address = await chain_address(h, "renshe")
    found = before.issuer(address)
    assert found is not None and found.active and found.roles == Role.VERIFIER | Role.DATA_USER

    r = await h.http.post("/departments/renshe/deactivate", headers=h.admin.headers)
    assert r.status_code == 200, r.text
    pending, _ = await fetch(h)  # the chain still says active; the vault's deactivation wins
    assert (found := pending.issuer(address)) is not None and not found.active
    await h.settle()
    assert h.vault.ctx.chain.client.department(address).active is False  # type: ignore[union-attr]
    after, _ = await fetch(h)
    assert (found := after.issuer(address)) is not None and not found.active
    other = after.issuer(await chain_address(h, "gongan"))
    assert other is not None and other.active


async def test_a_department_not_yet_on_chain_is_not_listed(harness: Harness) -> None:
    h = harness
    body = {"code": "shuiwu", "name": "税务局", "roles": ["issuer"], "auth_address": SigningKey.generate().address}
    assert (await h.http.post("/departments", json=body, headers=h.admin.headers)).status_code == 201
    snapshot, _ = await fetch(h)
    assert snapshot.issuer(await chain_address(h, "shuiwu")) is None
    await h.settle()
    snapshot, _ = await fetch(h)
    assert snapshot.issuer(await chain_address(h, "shuiwu")) is not None


async def test_a_replaced_subject_key_is_listed(harness: Harness) -> None:
    h = harness
    registrar = await h.department("gongan")
    citizen = await h.subject(registrar)
    sid = (await h.http.get("/me", headers=citizen.headers)).json()["id"]
    assert (await fetch(h))[0].replaced_keys == ()
    new_key = SigningKey.generate()
    r = await h.http.post(f"/subjects/{sid}/key", json={"address": new_key.address}, headers=registrar.headers)
    assert r.status_code == 200, r.text
    snapshot, _ = await fetch(h)
    assert snapshot.replaced_keys == (citizen.key.address.lower(),)
    assert snapshot.key_replaced(citizen.key.address) and not snapshot.key_replaced(new_key.address)


# -- `datavault status-snapshot` against the answers of the in-process vault ---------------------


async def served(h: Harness) -> dict[str, httpx.Response]:
    return {path: await h.http.get(path) for path in ("/health", "/status/snapshot")}


def client_of(answers: dict[str, httpx.Response | str]) -> VaultClient:
    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers[request.url.path]
        if isinstance(answer, str):
            return httpx.Response(200, text=answer, headers={"content-type": "application/json"})
        return httpx.Response(answer.status_code, content=answer.content, headers={"content-type": "application/json"})

    return VaultClient("http://vault.test", transport=httpx.MockTransport(handle))


async def test_the_cli_checks_the_snapshot(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    h = harness
    dept = await h.department("gongan")
    await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    await h.http.post(f"/records/{record['id']}/revoke", json={}, headers=dept.headers)
    answers: dict[str, Any] = await served(h)
    operator = h.vault.ctx.chain.operator.address

    snapshot, text = cli_status.fetch(client_of(answers), signer=operator.lower())
    assert snapshot.revoked_count() == 1 and json.loads(text) == answers["/status/snapshot"].json()
    line = cli_status.summary(snapshot, snapshot.created_at + 5, pinned=True)
    assert line.startswith("status snapshot 5s old, signed by " + operator) and "1 of 1 credentials revoked" in line

    # The command itself, writing to a file (the vault's URL comes from client_factory).
    monkeypatch.setattr(cli_status, "client_factory", lambda _args: lambda: client_of(answers))
    out = tmp_path / "snapshot.json"
    assert cli_status.cmd_status_snapshot(argparse.Namespace(out=str(out), signer=None)) == 0
    assert decode(out.read_text(encoding="utf-8")) == snapshot
    err = capsys.readouterr().err
    assert "1 departments (1 active), 1 of 1 credentials revoked, 0 replaced keys" in err and "--signer pins it" in err

    with pytest.raises(SnapshotError, match="not by the trusted"):
        cli_status.fetch(client_of(answers), signer=SigningKey.generate().address)
    tampered = answers["/status/snapshot"].json()
    tampered["created_at"] += 1
    with pytest.raises(SnapshotError, match="signature does not match"):
        cli_status.fetch(client_of({**answers, "/status/snapshot": json.dumps(tampered)}))
    elsewhere = answers["/health"].json()
    elsewhere["chain"]["chain_id"] += 1
    with pytest.raises(CliError, match="but the vault runs on"):
        cli_status.fetch(client_of({**answers, "/health": json.dumps(elsewhere)}))
    with pytest.raises(CliError, match="--signer"):
        cli_status.cmd_status_snapshot(argparse.Namespace(out=None, signer="admin"))
