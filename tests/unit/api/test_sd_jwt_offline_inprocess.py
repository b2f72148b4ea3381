"""An offline counter checks an SD-JWT VC presentation against a fetched status snapshot, with
no vault and no chain: the issuer's key recovered from its signature, the snapshot's bit, the
counter's ``--seen`` file; and `datavault check --offline ... --file shown.txt` exits 0, then 1."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws as rfc_jws
from joserfc.jwk import KeySet

from api.cli import common
from tests.support.cli_bridge import run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import Actor, Harness
from vault import clock
from vault.interop import jose_keys, sd_jwt_holder, sd_jwt_offline, urls
from vault.presentations import status_snapshot
from vault.presentations.nonces import FileReplayCache
from vault.presentations.status_snapshot import StatusSnapshot

BASE = "http://vault.test"
CHECKS = {
    "issuer_signature",
    "disclosed_fields",
    "batch_inclusion",
    "issuer_active",
    "not_revoked",
    "validity",
    "holder_binding",
    "fresh",
    "not_replayed",
    "snapshot",
}


async def _setup(h: Harness) -> tuple[Actor, Actor, str, str]:
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    body = {"holder_jwk": jose_keys.public_jwk(citizen.key.account)}
    r = await h.http.post(f"/me/records/{record['id']}/sd-jwt", json=body, headers=citizen.headers)
    assert r.status_code == 200, r.text
    return dept, citizen, record["id"], r.text


async def _snapshot(h: Harness) -> StatusSnapshot:
    return status_snapshot.decode((await h.http.get("/status/snapshot")).text)


def _show(issued: str, citizen: Actor, aud: str = "gongan") -> str:
    nonce = "0x" + os.urandom(16).hex()  # an offline counter's own challenge
    key = jose_keys.private_jwk(citizen.key.account)
    return sd_jwt_holder.present(issued, ["准驾车型"], holder_key=key, nonce=nonce, aud=aud, now=clock.now())


def _verify(snapshot: StatusSnapshot, text: str, replay: FileReplayCache | None = None) -> dict[str, bool]:
    v = sd_jwt_offline.verify_offline(
        snapshot,
        text,
        aud="gongan",
        now=clock.now(),
        replay=replay,
        issuer_id=lambda code: urls.issuer_id(BASE, code),
    )
    return {c.name: c.passed for c in v.checks}


def _b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _unb64(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


async def test_valid_offline_and_revoked_only_by_a_newer_snapshot(harness: Harness) -> None:
    h = harness
    dept, citizen, record_id, issued = await _setup(h)
    old = await _snapshot(h)
    shown = _show(issued, citizen)
    v = sd_jwt_offline.verify_offline(
        old, shown, aud="gongan", now=clock.now(), issuer_id=lambda code: urls.issuer_id(BASE, code)
    )
    assert v.valid, v.checks
    assert {c.name for c in v.checks} == CHECKS and v.mode == "offline"
    assert v.disclosed == {"准驾车型": "C1"} and v.issuer_name == "市公安局"
    reasons = {c.name: c.reason for c in v.checks}
    assert "the chain is not consulted offline" in reasons["batch_inclusion"]

    # The key recovered from the signature is the one the issuer's JWKS serves; joserfc, an
    # independent JOSE library, verifies the issuer JWT under it.
    jwt = shown.split("~")[0]
    kid = _unb64(jwt.split(".")[0])["kid"]
    recovered = sd_jwt_offline._recovered_key(jwt, kid)
    jwks = (await h.http.get("/issuers/gongan/jwks.json")).json()
    assert recovered is not None and jose_keys.canonical_jwk(jwks["keys"][0]) == recovered
    found = rfc_jws.deserialize_compact(
        jwt, KeySet.import_key_set({"keys": [{**recovered, "kid": kid}]}), algorithms=["ES256K"]
    )
    assert json.loads(found.payload)["iss"] == f"{BASE}/issuers/gongan"

    r = await h.http.post(f"/records/{record_id}/revoke", json={"reason": "吊销"}, headers=dept.headers)
    assert r.status_code == 200, r.text
    await h.settle()
    assert all(_verify(old, _show(issued, citizen)).values())  # the old snapshot does not know
    new = _verify(await _snapshot(h), _show(issued, citizen))
    assert [name for name, ok in new.items() if not ok] == ["not_revoked"]


async def test_altered_foreign_or_replayed_presentations_fail(harness: Harness, tmp_path: Path) -> None:
    h = harness
    _, citizen, _, issued = await _setup(h)
    await h.department("renshe", name="人社局")
    snapshot = await _snapshot(h)

    jwt, disclosure, kb = _show(issued, citizen).split("~")
    salt, name, _ = _unb64(disclosure)
    changed = _verify(snapshot, f"{jwt}~{_b64([salt, name, 'A1'])}~{kb}")
    assert changed["disclosed_fields"] is False and changed["holder_binding"] is False

    # kid naming another department (known or not): the signature is not that key's.
    head, body, sig = jwt.split(".")
    renshe_key = (await h.http.get("/issuers/renshe/jwks.json")).json()["keys"][0]["kid"]
    for kid in (renshe_key, "0x" + "11" * 20):
        foreign = f"{_b64({**_unb64(head), 'kid': kid})}.{body}.{sig}~{disclosure}~{kb}"
        assert _verify(snapshot, foreign)["issuer_signature"] is False
    # A payload changed under the issuer's signature (here: a later expiry).
    forged = f"{head}.{_b64({**_unb64(body), 'exp': 2**40})}.{sig}~{disclosure}~{kb}"
    assert _verify(snapshot, forged)["issuer_signature"] is False
    # Made for another counter.
    assert _verify(snapshot, _show(issued, citizen, aud="renshe"))["holder_binding"] is False

    replay = FileReplayCache(tmp_path / "seen.json")
    shown = _show(issued, citizen)
    assert all(_verify(snapshot, shown, replay).values())
    again = _verify(snapshot, shown, replay)
    assert [name for name, ok in again.items() if not ok] == ["not_replayed"]

    for text in ("abc~def~", "a.b.c~~", ""):
        verdict = sd_jwt_offline.verify_offline(snapshot, text, aud="gongan", now=clock.now())
        assert [(c.name, c.passed) for c in verdict.checks] == [("format", False)]


async def _counter_files(h: Harness, at: Path, shown_text: str) -> tuple[Path, Path]:
    """What a counter keeps for checking offline: the status snapshot, and the text shown."""
    snapshot = at / "status.json"
    snapshot.write_text((await h.http.get("/status/snapshot")).text)
    shown = at / "shown.txt"
    shown.write_text(shown_text, encoding="utf-8")
    return snapshot, shown


async def test_check_offline_from_the_terminal(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    monkeypatch.delenv("DATAVAULT_PUBLIC_URL", raising=False)
    _, citizen, _, issued = await _setup(h)
    snapshot, shown = await _counter_files(h, tmp_path, _show(issued, citizen) + "\n")
    seen = tmp_path / "seen.json"
    argv = ["check", "--offline", str(snapshot), "--file", str(shown), "--seen", str(seen)]
    url = ["--public-url", BASE]

    code, _, err = await run_cli(h, monkeypatch, *argv, *url)
    assert code == common.EXIT_ERROR and "--aud" in err
    code, out, err = await run_cli(h, monkeypatch, *argv, *url, "--aud", "gongan")
    assert code == 0, out + err
    verdict = json.loads(out)
    assert verdict["valid"] and verdict["mode"] == "offline" and verdict["disclosed"] == {"准驾车型": "C1"}
    code, out, _ = await run_cli(h, monkeypatch, *argv, *url, "--aud", "gongan")
    assert code == common.EXIT_INVALID and json.loads(out)["failed"] == ["not_replayed"]
    # Without the vault's public URL the counter cannot tell its iss from another site's.
    shown.write_text(_show(issued, citizen), encoding="utf-8")
    code, out, _ = await run_cli(h, monkeypatch, *argv, "--aud", "gongan")
    assert code == common.EXIT_INVALID and "issuer_signature" in json.loads(out)["failed"]


async def test_a_counter_beside_its_running_vault_needs_no_public_url(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The vault running from the data directory (what `datavault up` records in api.json) is
    # the one whose identifiers the credential carries: its URL is the default.
    h = harness
    monkeypatch.delenv("DATAVAULT_PUBLIC_URL", raising=False)
    _, citizen, _, issued = await _setup(h)
    snapshot, shown = await _counter_files(h, tmp_path, _show(issued, citizen))
    argv = ["check", "--offline", str(snapshot), "--file", str(shown), "--aud", "gongan"]
    code, out, _ = await run_cli(h, monkeypatch, *argv)
    assert code == common.EXIT_INVALID and "issuer_signature" in json.loads(out)["failed"]
    (h.datadir / "api.json").write_text(json.dumps({"url": BASE, "pid": os.getpid()}), encoding="utf-8")
    code, out, err = await run_cli(h, monkeypatch, *argv)
    assert code == 0, out + err
