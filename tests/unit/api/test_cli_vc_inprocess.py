"""`datavault records <id> --vc`: the holder's credential as a W3C VC (vc+jwt), written whole
to --out, and checked here with joserfc against the issuer's published JWKS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc import jwk, jws

from api.cli import common
from tests.support.cli_bridge import keep_key, run_cli
from tests.support.harness import Harness


async def test_records_vc_writes_a_vc_that_verifies(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    gongan = await h.department("gongan")
    holder = await h.subject(gongan)
    record = await h.issue(gongan)
    await h.settle()
    keep_key(h, "citizen-zhang-san", holder)

    out = tmp_path / "licence.vc.jwt"
    code, stdout, err = await run_cli(
        h, monkeypatch, "records", "--as", "citizen-zhang-san", record["id"], "--vc", "--out", str(out)
    )
    assert code == 0, err
    assert stdout == "" and f"wrote {out}" in err
    token = out.read_text().strip()
    keys = jwk.KeySet.import_key_set((await h.http.get("/issuers/gongan/jwks.json")).json())
    vc = json.loads(jws.deserialize_compact(token, keys, algorithms=["ES256K"]).payload)
    assert vc["issuer"] == "http://vault.test/issuers/gongan"

    code, stdout, _err = await run_cli(h, monkeypatch, "records", "--as", "citizen-zhang-san", record["id"], "--vc")
    assert code == 0 and stdout.count(".") == 2  # one line of JWS compact

    # A refusal is an error with the API's reason, and leaves --out as it was.
    r = await h.http.post(f"/records/{record['id']}/revoke", json={"reason": "核销"}, headers=gongan.headers)
    assert r.status_code == 200, r.text
    code, stdout, err = await run_cli(
        h, monkeypatch, "records", "--as", "citizen-zhang-san", record["id"], "--vc", "--out", str(out)
    )
    assert code == common.EXIT_ERROR and "revoked" in err and stdout == ""
    assert out.read_text().strip() == token


async def test_vc_needs_a_record_and_excludes_export(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _out, err = await run_cli(harness, monkeypatch, "records", "--as", "citizen-zhang-san", "--vc")
    assert code == common.EXIT_ERROR and "--vc needs a record id" in err
    with pytest.raises(SystemExit):
        await run_cli(harness, monkeypatch, "records", "--as", "x", "r1", "--vc", "--export")
