"""The committed artifacts must match the Solidity sources: the vault deploys them as-is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chain import solc_wrapper
from chain.artifacts import ARTIFACTS_DIR, current_source_hash, load_artifact

ARTIFACTS = sorted(ARTIFACTS_DIR.glob("*.json"))
REGENERATE = "run `python -m chain.compiler` (or `make contracts`) and commit the artifacts"


def have_solcjs() -> bool:
    return shutil.which("node") is not None and solc_wrapper.SOLC_JS.is_file()


def test_credential_registry_artifact_exists() -> None:
    assert "CredentialRegistry" in [p.stem for p in ARTIFACTS], REGENERATE


@pytest.mark.parametrize("path", ARTIFACTS, ids=lambda p: p.name)
def test_artifact_source_hash_is_current(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["sourceHash"] == current_source_hash(), (
        f"{data['contractName']}.json is stale against contracts/*.sol or compiler settings; " + REGENERATE
    )


def test_artifact_shape() -> None:
    art = load_artifact("CredentialRegistry")
    assert art.bytecode.startswith("0x") and len(art.bytecode) > 2
    assert art.deployed_bytecode.startswith("0x") and len(art.deployed_bytecode) > 2
    names = {e.get("name") for e in art.abi}
    assert {"issue", "revoke", "revokeCredential", "credentialStatus", "addDepartment"} <= names


@pytest.mark.skipif(not have_solcjs(), reason="needs node and hardhat-node/node_modules (npm ci)")
def test_recompiling_reproduces_committed_bytecode() -> None:
    from chain.compiler import compile_contracts, render

    fresh = compile_contracts()
    assert sorted(fresh) == [p.stem for p in ARTIFACTS], REGENERATE
    for name, doc in fresh.items():
        committed = (ARTIFACTS_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert render(doc) == committed, f"{name}: recompiled output differs; {REGENERATE}"
