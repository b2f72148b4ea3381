"""`datavault verify` of an exported credential, against the in-process vault: a copy damaged
in its structure is an INVALID verdict (exit 1) naming the check, like any other tampering."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import common
from tests.support.cli_bridge import run_cli, vault_of_its_own  # noqa: F401 - vault_of_its_own is the ``harness`` fixture
from tests.support.harness import Harness


async def exported(h: Harness) -> dict[str, Any]:
    dept = await h.department("gongan")
    citizen = await h.subject(dept)
    record = await h.issue(dept)
    await h.settle()
    mine = (await h.http.get(f"/me/records/{record['id']}", headers=citizen.headers)).json()
    return {"document": mine["document"], "proof": mine["anchor"]["proof"]}


async def test_a_damaged_export_is_invalid_not_an_error(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = harness
    credential = await exported(h)
    path = tmp_path / "licence.json"
    path.write_text(json.dumps(credential, ensure_ascii=False), encoding="utf-8")
    code, out, err = await run_cli(h, monkeypatch, "verify", str(path))
    assert code == 0 and json.loads(out)["valid"] and err.startswith("valid:"), err

    def damaged(change: Any) -> dict[str, Any]:
        copied = copy.deepcopy(credential)
        change(copied["document"])
        return copied

    cases = {
        "removed": (damaged(lambda d: d.pop("holder")), "document lacks holder"),
        "added": (damaged(lambda d: d.update(extra=1)), "keys its issuer did not write: extra"),
        "retyped": (damaged(lambda d: d.update(valid_until=str(d["valid_until"]))), "valid_until must be an integer"),
    }
    for what, (body, reason) in cases.items():
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        code, out, err = await run_cli(h, monkeypatch, "verify", str(path))
        assert code == common.EXIT_INVALID, (what, code, err)
        verdict = json.loads(out)
        assert not verdict["valid"] and [c["name"] for c in verdict["checks"]] == ["format"], what
        assert err.startswith("INVALID: format: ") and reason in err, (what, err)
        # A bare document (no {document, proof} wrapper) is judged the same way, from stdin.
        code, _out, err = await run_cli(h, monkeypatch, "verify", "-", stdin=json.dumps(body["document"]))
        assert code == common.EXIT_INVALID and reason in err, (what, err)
