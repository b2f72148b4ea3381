"""`datavault present --format cose`: the holder's keystore key signs a DC1 presentation (a CWT
in COSE_Sign1) with the ``cwt`` library, the PNG holds it, and a counter's `datavault check`
accepts the picture once (exit 0, then 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import common
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import Harness
from vault.presentations import qr


async def test_present_as_cose_and_check_the_picture(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    keep_key(h, "citizen", citizen)
    keep_key(h, "dept-gongan", dept)

    nonce = (await h.http.post("/presentations/challenges", headers=dept.headers)).json()["nonce"]
    png = tmp_path / "code.png"
    argv = ["present", "--as", "citizen", record["id"], "--fields", "准驾车型", "--nonce", nonce]
    code, out, err = await run_cli(h, monkeypatch, *argv, "--format", "cose", "--png", str(png))
    assert code == 0, err
    text = json.loads(out)["text"]
    assert text.startswith("DC1:") and qr.decode_image(png.read_bytes()) == text

    code, out, err = await run_cli(h, monkeypatch, "check", "--as", "dept-gongan", "--image", str(png))
    assert code == 0, err
    assert json.loads(out)["disclosed"] == {"准驾车型": "C1"}
    code, out, err = await run_cli(h, monkeypatch, "check", "--as", "dept-gongan", text)
    assert code == common.EXIT_INVALID and json.loads(out)["failed"] == ["not_replayed"]

    # A field the credential lacks: refused by the vault, nothing signed.
    code, _, err = await run_cli(h, monkeypatch, *argv[:5], "住址x", "--format", "cose")
    assert code == common.EXIT_ERROR and "住址x" in err


async def test_offline_check_of_a_dc1_takes_the_vaults_public_url(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline the counter derives the issuer's identifier from --public-url; without one it
    cannot tell the vault's URL from another site's, and refuses the code's iss."""
    h = harness
    monkeypatch.delenv("DATAVAULT_PUBLIC_URL", raising=False)
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    keep_key(h, "citizen", citizen)
    snapshot = tmp_path / "status.json"
    snapshot.write_text((await h.http.get("/status/snapshot")).text)
    code, out, err = await run_cli(h, monkeypatch, "present", "--as", "citizen", record["id"], "--format", "cose")
    assert code == 0, err
    text = json.loads(out)["text"]

    code, out, _ = await run_cli(h, monkeypatch, "check", text, "--offline", str(snapshot))
    assert code == common.EXIT_INVALID and json.loads(out)["failed"] == ["format"]
    argv = ["check", text, "--offline", str(snapshot), "--public-url", "http://vault.test"]
    code, out, err = await run_cli(h, monkeypatch, *argv)
    assert code == 0, out + err
