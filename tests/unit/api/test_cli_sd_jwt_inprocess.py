"""`datavault sd-jwt`: a holder exports an SD-JWT VC with its keystore key, presents some
claims with a key binding, and a counter's `datavault check` accepts it (exit 0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import common
from tests.support.cli_bridge import keep_key, run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import Harness
from vault.interop import sd_jwt_holder


async def test_export_present_and_check_from_the_terminal(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    dept = await h.department("gongan", name="市公安局")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    keep_key(h, "citizen", citizen)
    keep_key(h, "dept-gongan", dept)

    saved = tmp_path / "licence.sd-jwt"
    code, out, err = await run_cli(h, monkeypatch, "sd-jwt", record["id"], "--as", "citizen", "--out", str(saved))
    assert code == 0, err
    issued = saved.read_text().strip()
    assert {"姓名", "准驾车型"} <= set(sd_jwt_holder.claim_names(issued))

    nonce = (await h.http.post("/presentations/challenges", headers=dept.headers)).json()["nonce"]
    argv = ["sd-jwt", "--as", "citizen", "--from", str(saved), "--aud", "gongan", "--fields", "准驾车型"]
    code, out, err = await run_cli(h, monkeypatch, *argv, "--nonce", nonce)
    assert code == 0, err
    shown = out.strip()
    assert shown.count("~") == 2  # one disclosure, then the key binding

    code, out, err = await run_cli(h, monkeypatch, "check", "--as", "dept-gongan", shown)
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["valid"] and verdict["disclosed"] == {"准驾车型": "C1"}
    # Too long for a QR code, an SD-JWT travels as a file: the second showing is a replay.
    (tmp_path / "shown.txt").write_text(shown + "\n", encoding="utf-8")
    code, out, err = await run_cli(
        h, monkeypatch, "check", "--as", "dept-gongan", "--file", str(tmp_path / "shown.txt")
    )
    assert code == common.EXIT_INVALID and "not_replayed" in json.loads(out)["failed"]
    code, _, err = await run_cli(h, monkeypatch, "check", "--as", "dept-gongan", "--file", str(tmp_path / "none.txt"))
    assert code == common.EXIT_ERROR and "cannot read" in err

    # Asked for a claim the credential lacks, or by a department's key: refused, nothing written.
    code, _, err = await run_cli(h, monkeypatch, *argv[:-1], "住址", "--nonce", nonce)
    assert code == common.EXIT_ERROR and "住址" in err
    code, _, err = await run_cli(h, monkeypatch, "sd-jwt", record["id"], "--as", "dept-gongan")
    assert code == common.EXIT_ERROR and "holder" in err
