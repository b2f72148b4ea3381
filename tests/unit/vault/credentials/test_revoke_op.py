"""The outbox's ``revoke_leaf`` operation: one credential of a batch revoked by its hash on the
current registry, and with its proof on a registry an older version deployed (a data directory
keeps the registry it deployed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from eth_utils.hexadecimal import encode_hex

from chain import transactions
from chain.artifacts import Artifact
from chain.deployment import deploy_registry
from chain.engines import Engine
from chain.merkle import merkle_proof, merkle_root
from chain.registry import RegistryClient, Roles
from vault.context import ChainContext
from vault.credentials.ops import OPS

LEGACY = Path(__file__).parents[3] / "support" / "legacy" / "CredentialRegistry-revokeLeaf.json"
LEAVES = [keccak(text=f"op credential {i}") for i in range(5)]


def _artifact(legacy: bool) -> Artifact | None:
    if not legacy:
        return None
    data = json.loads(LEGACY.read_text())
    return Artifact(data["contractName"], data["abi"], data["bytecode"], data["deployedBytecode"], "")


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "older registry"])
def test_revoke_leaf_op(inprocess_engine: Engine, legacy: bool) -> None:
    admin = inprocess_engine.dev_account()
    dep = deploy_registry(inprocess_engine, admin, _artifact(legacy))
    client = RegistryClient(inprocess_engine.w3, dep.registry)
    issuer = admin  # the admin may be a department too
    client.add_department(admin, issuer.address, b"gongan".ljust(32, b"\0"), Roles.ISSUER)
    root = merkle_root(LEAVES)
    client.issue(issuer, root, 1_700_000_000, 1_800_000_000)
    chain = ChainContext(engine=inprocess_engine, client=client, operator=admin)
    payload = {
        "root": encode_hex(root),
        "leaf": encode_hex(LEAVES[3]),
        "proof": [encode_hex(p) for p in merkle_proof(LEAVES, 3)],
        "record": "r",
        "version": 1,
    }
    op = OPS["revoke_leaf"]
    assert not op.applied(chain, payload)
    request = op.build(chain, payload)
    assert request is not None and request.to == client.address
    assert request.context == ("revokeLeaf" if legacy else "revokeCredential")
    if not legacy:
        assert request.data == client.encode("revokeCredential", LEAVES[3])  # the hash, no proof
    transactions.send(inprocess_engine.w3, issuer, to=request.to, data=request.data, context=request.context)
    assert op.applied(chain, payload)
    assert not client.credential_status(LEAVES[2], merkle_proof(LEAVES, 2)).revoked
