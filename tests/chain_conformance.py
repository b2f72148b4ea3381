"""What every chain engine must do, the same way: deploy, govern, anchor, revoke, refuse.

Test modules import these tests (``from tests.chain_conformance import *``) and provide an
``engine`` fixture: a started ``chain.engines.Engine`` (module-scoped is fine: every test
deploys its own registry). The in-process run is tests/unit/chain/test_engine_inprocess.py,
the real nodes (anvil, hardhat, a zero-gas RPC chain) tests/integration/chain/test_engines.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3ValidationError

from chain import transactions
from chain.artifacts import Artifact
from chain.deployment import Deployment, deploy_registry, verify_deployment
from chain.engines import Engine
from chain.errors import ChainRevertError, DeploymentError
from chain.merkle import merkle_proof, merkle_root
from chain.registry import AnchorStatus, RegistryClient, Roles

CODE = b"gongan".ljust(32, b"\0")
YEAR = 365 * 24 * 3600
FROM, UNTIL = 1_700_000_000, 1_700_000_000 + YEAR


@dataclass
class Chain:
    engine: Engine
    dep: Deployment
    client: RegistryClient
    admin: LocalAccount

    def account(self) -> LocalAccount:
        """A fresh key with enough for gas (no funding needed where gas is free)."""
        acct: LocalAccount = Account.create()
        self.engine.fund(acct.address, 10**17)
        return acct

    def department(self, roles: int = Roles.ISSUER) -> LocalAccount:
        acct = self.account()
        self.client.add_department(self.admin, acct.address, CODE, roles)
        return acct


@pytest.fixture
def chain(engine: Engine) -> Chain:
    admin = engine.dev_account()
    dep = deploy_registry(engine, admin)
    return Chain(engine, dep, RegistryClient(engine.w3, dep.registry), admin)


def h(label: str) -> bytes:
    return bytes(Web3.keccak(text=label))


def refused(call: Callable[[], Any], name: str, chain: Chain, sender: LocalAccount) -> ChainRevertError:
    """Asserts ``call`` raises the custom error ``name`` and that nothing reached the chain."""
    w3 = chain.engine.w3
    block, nonce = w3.eth.block_number, w3.eth.get_transaction_count(sender.address)
    with pytest.raises(ChainRevertError) as info:
        call()
    assert info.value.error_name == name, info.value
    assert (w3.eth.block_number, w3.eth.get_transaction_count(sender.address)) == (block, nonce)
    return info.value


# -- deployment ---------------------------------------------------------------------------


def test_deploy_records_a_verifiable_deployment(chain: Chain) -> None:
    w3, dep = chain.engine.w3, chain.dep
    assert dep.chain_id == w3.eth.chain_id
    assert dep.block <= w3.eth.block_number and dep.deployed_at > 0
    assert w3.eth.get_code(Web3.to_checksum_address(dep.registry))
    assert Deployment.from_json(dep.to_json()) == dep
    assert chain.client.admin() == chain.admin.address
    verify_deployment(w3, dep)


def test_verify_deployment_refuses_another_chain_address_or_code(chain: Chain) -> None:
    w3, dep = chain.engine.w3, chain.dep
    wrong = [
        dataclasses.replace(dep, chain_id=dep.chain_id + 1),
        dataclasses.replace(dep, registry=Account.create().address),
        dataclasses.replace(dep, code_hash="0x" + "00" * 32),
        dataclasses.replace(dep, deployed_at=dep.deployed_at - 1),
        dataclasses.replace(dep, block_hash="0x" + "11" * 32),
        dataclasses.replace(dep, block=w3.eth.block_number + 1000),
    ]
    for bad in wrong:
        with pytest.raises(DeploymentError) as info:
            verify_deployment(w3, bad)
        assert "redeploy" in str(info.value)
    with pytest.raises(DeploymentError, match="no contract"):
        verify_deployment(w3, wrong[1])


# -- governance ---------------------------------------------------------------------------


def test_departments_and_roles(chain: Chain) -> None:
    c, admin = chain.client, chain.admin
    dept = chain.account()
    assert c.department(dept.address) is None
    c.add_department(admin, dept.address, CODE, Roles.ISSUER | Roles.VERIFIER)
    info = c.department(dept.address)
    assert info is not None and info.code == CODE and info.active and info.changed_at > 0
    assert info.roles == Roles.ISSUER | Roles.VERIFIER
    assert c.department_address(info.id) == dept.address and c.department_address(info.id + 1) is None
    assert c.has_role(dept.address, Roles.VERIFIER) and not c.has_role(dept.address, Roles.DATA_USER)

    c.set_roles(admin, dept.address, Roles.DATA_USER)
    assert c.has_role(dept.address, Roles.DATA_USER) and not c.has_role(dept.address, Roles.ISSUER)
    c.deactivate_department(admin, dept.address)
    assert not c.has_role(dept.address, Roles.DATA_USER)
    after = c.department(dept.address)
    assert after is not None and (after.id, after.roles, after.active) == (info.id, Roles.DATA_USER, False)
    c.reactivate_department(admin, dept.address)
    assert c.has_role(dept.address, Roles.DATA_USER)


def test_transfer_admin(chain: Chain) -> None:
    c, old = chain.client, chain.admin
    new = chain.account()
    c.transfer_admin(old, new.address)
    assert c.admin() == new.address
    refused(lambda: c.add_department(old, Account.create().address, CODE, 1), "NotAdmin", chain, old)
    c.add_department(new, Account.create().address, CODE, 1)


# -- anchors ------------------------------------------------------------------------------


def test_issue_and_status(chain: Chain) -> None:
    c = chain.client
    issuer = chain.department()
    root = h("batch-1")
    assert not c.root_status(root).anchored
    result = c.issue(issuer, root, FROM, UNTIL)
    assert len(result.tx_hash) == 32 and result.gas_used > 0
    status = c.root_status(root)
    assert status == AnchorStatus(root, issuer.address, status.issued_at, FROM, UNTIL, 0)
    assert status.anchored and not status.revoked and status.issued_at > 0
    assert c.credential_status(root, []) == status  # a lone credential is its own root


def test_issuance_logs_are_found_by_root(chain: Chain) -> None:
    c, w3, since = chain.client, chain.engine.w3, chain.dep.block
    issuer = chain.department()
    # A root may equal another event's signature hash; that event's logs must not pass for it.
    clash = bytes(Web3.keccak(text="CredentialRevoked(bytes32,address)"))
    roots = [h("logs-1"), clash, h("logs-2")]
    results = [c.issue(issuer, root, FROM, UNTIL) for root in roots]
    c.revoke(issuer, roots[0])  # a CredentialRevoked log, whose topic 0 is `clash`
    issued = c.contract.events.CredentialIssued()
    for root, result in zip(roots, results, strict=False):
        (log,) = issued.get_logs(argument_filters={"root": root}, from_block=since)
        assert log["args"]["root"] == root and bytes(log["transactionHash"]) == result.tx_hash
    assert [bytes(log["transactionHash"]) for log in issued.get_logs(from_block=since)] == [r.tx_hash for r in results]
    both = issued.get_logs(argument_filters={"root": [roots[0], roots[2]]}, from_block=since)
    assert [log["args"]["root"] for log in both] == [roots[0], roots[2]]
    assert issued.get_logs(argument_filters={"root": h("never issued")}, from_block=since) == []
    with pytest.raises(Web3ValidationError, match="issuer"):  # not silently ignored
        issued.get_logs(argument_filters={"issuer": issuer.address}, from_block=since)
    # What a verifier without this client asks the node: the single-topic log is the issuance.
    raw = w3.eth.get_logs({"address": c.address, "topics": [clash], "fromBlock": since})
    assert sorted(len(log["topics"]) for log in raw) == [1, 3]
    (revoked,) = c.contract.events.CredentialRevoked().get_logs(argument_filters={"root": roots[0]}, from_block=since)
    assert revoked["args"]["issuer"] == issuer.address


def test_revoke_root(chain: Chain) -> None:
    c = chain.client
    issuer, other = chain.department(), chain.department()
    root = h("to-revoke")
    c.issue(issuer, root, FROM, UNTIL)
    refused(lambda: c.revoke(other, root), "NotRootIssuer", chain, other)
    c.revoke(issuer, root)
    assert c.root_status(root).revoked and c.root_status(root).revoked_at > 0
    refused(lambda: c.revoke(issuer, root), "AlreadyRevoked", chain, issuer)
    refused(lambda: c.revoke(issuer, h("never issued")), "UnknownRoot", chain, issuer)
    # A deactivated department can still revoke what it issued.
    root2 = h("to-revoke-2")
    c.issue(issuer, root2, FROM, UNTIL)
    c.deactivate_department(chain.admin, issuer.address)
    c.revoke(issuer, root2)
    assert c.root_status(root2).revoked


def test_revoke_one_credential_by_its_hash(chain: Chain) -> None:
    c = chain.client
    issuer, other = chain.department(), chain.department()
    leaves = [h(f"credential-{i}") for i in range(5)]
    root = merkle_root(leaves)
    c.issue(issuer, root, FROM, UNTIL)
    for i, leaf in enumerate(leaves):
        status = c.credential_status(leaf, merkle_proof(leaves, i))
        assert status.root == root and status.issuer == issuer.address and not status.revoked
    assert c.revokes_by_hash()
    # Another department naming the hash revokes nothing of this issuer's.
    c.revoke_credential(other, leaves[2])
    assert not c.credential_status(leaves[2], merkle_proof(leaves, 2)).revoked
    result = c.revoke_credential(issuer, leaves[2])
    status = c.credential_status(leaves[2], merkle_proof(leaves, 2))
    assert status.revoked and status.revoked_at == c.credential_revoked_at(issuer.address, leaves[2]) > 0
    assert not c.credential_status(leaves[3], merkle_proof(leaves, 3)).revoked
    assert not c.root_status(root).revoked
    refused(lambda: c.revoke_credential(issuer, leaves[2]), "AlreadyRevoked", chain, issuer)
    (log,) = c.contract.events.CredentialHashRevoked().get_logs(
        argument_filters={"credentialHash": leaves[2], "issuer": issuer.address}, from_block=result.block_number
    )
    assert bytes(log["transactionHash"]) == result.tx_hash
    unknown = c.credential_status(h("stranger"), merkle_proof(leaves, 0))
    assert not unknown.anchored and unknown.issuer is None


def test_a_registry_from_an_older_version_revokes_with_the_proof(chain: Chain) -> None:
    # A data directory keeps the registry it deployed; one deployed before revokeCredential
    # takes revokeLeaf(root, leaf, proof), and RegistryClient's calldata says so.
    legacy = json.loads((Path(__file__).parent / "support/legacy/CredentialRegistry-revokeLeaf.json").read_text())
    art = Artifact(legacy["contractName"], legacy["abi"], legacy["bytecode"], legacy["deployedBytecode"], "")
    dep = deploy_registry(chain.engine, chain.admin, art)
    c = RegistryClient(chain.engine.w3, dep.registry)
    issuer = chain.department()
    c.add_department(chain.admin, issuer.address, CODE, Roles.ISSUER)
    leaves = [h(f"old-credential-{i}") for i in range(3)]
    root = merkle_root(leaves)
    c.issue(issuer, root, FROM, UNTIL)
    assert not c.revokes_by_hash()
    data = c.revoke_credential_calldata(leaves[1], root, merkle_proof(leaves, 1))
    transactions.send(chain.engine.w3, issuer, to=c.address, data=data, abi=art.abi, context="revokeLeaf")
    assert c.credential_status(leaves[1], merkle_proof(leaves, 1)).revoked
    assert not c.credential_status(leaves[0], merkle_proof(leaves, 0)).revoked
    # The current registry takes the hash alone.
    assert chain.client.revoke_credential_calldata(leaves[1], root, []) == chain.client.encode(
        "revokeCredential", leaves[1]
    )


def test_reverts_are_decoded_before_anything_is_sent(chain: Chain) -> None:
    c, admin = chain.client, chain.admin
    dept, outsider = chain.department(Roles.VERIFIER), chain.account()
    zero = "0x" + "00" * 20
    err = refused(lambda: c.add_department(outsider, outsider.address, CODE, 1), "NotAdmin", chain, outsider)
    assert err.error_args == (outsider.address,)
    refused(lambda: c.add_department(admin, zero, CODE, 1), "ZeroAddress", chain, admin)
    refused(lambda: c.transfer_admin(admin, zero), "ZeroAddress", chain, admin)
    refused(lambda: c.add_department(admin, dept.address, CODE, 1), "DepartmentExists", chain, admin)
    refused(lambda: c.set_roles(admin, outsider.address, 1), "UnknownDepartment", chain, admin)
    refused(lambda: c.reactivate_department(admin, dept.address), "DepartmentAlreadyActive", chain, admin)
    refused(lambda: c.issue(dept, h("x"), FROM, UNTIL), "NotIssuer", chain, dept)
    c.set_roles(admin, dept.address, Roles.ISSUER)
    refused(lambda: c.issue(dept, b"\0" * 32, FROM, UNTIL), "ZeroRoot", chain, dept)
    err = refused(lambda: c.issue(dept, h("x"), UNTIL, FROM), "InvalidWindow", chain, dept)
    assert err.error_args == (UNTIL, FROM)
    c.issue(dept, h("x"), FROM, UNTIL)
    err = refused(lambda: c.issue(dept, h("x"), FROM, UNTIL), "AlreadyIssued", chain, dept)
    assert err.error_args == (h("x"),)
    c.deactivate_department(admin, dept.address)
    refused(lambda: c.deactivate_department(admin, dept.address), "DepartmentInactive", chain, admin)
    refused(lambda: c.issue(dept, h("y"), FROM, UNTIL), "NotIssuer", chain, dept)


# -- transactions -------------------------------------------------------------------------


def test_quick_sends_keep_nonces_in_order(chain: Chain) -> None:
    c, w3 = chain.client, chain.engine.w3
    issuer = chain.department()
    roots = [h(f"quick-{i}") for i in range(4)]
    for root in roots[:2]:  # back to back, nonces fetched
        c.issue(issuer, root, FROM, UNTIL)
    # Explicit nonces, all signed first, then broadcast together (what a batching outbox does).
    base = transactions.next_nonce(w3, issuer.address)
    data = [bytes.fromhex(c.contract.encode_abi("issue", args=[r, FROM, UNTIL])[2:]) for r in roots[2:]]
    signed = [
        transactions.sign(w3, issuer, to=c.address, data=d, nonce=base + i, abi=c.abi) for i, d in enumerate(data)
    ]
    hashes = [transactions.broadcast(w3, s) for s in signed]
    results = [transactions.wait(w3, tx) for tx in hashes]
    assert [s.nonce for s in signed] == [base, base + 1]
    assert all(c.root_status(r).issuer == issuer.address for r in roots)
    assert [transactions.receipt_for(w3, tx) for tx in hashes] == results
    # With an explicit nonce through the client too.
    c.issue(issuer, h("quick-last"), FROM, UNTIL, nonce=base + 2)
    assert w3.eth.get_transaction_count(issuer.address) == base + 3


def test_sign_then_broadcast_is_idempotent(chain: Chain) -> None:
    c, w3 = chain.client, chain.engine.w3
    issuer = chain.department()
    data = bytes.fromhex(c.contract.encode_abi("issue", args=[h("outbox"), FROM, UNTIL])[2:])
    signed = transactions.sign(w3, issuer, to=c.address, data=data, abi=c.abi)
    assert transactions.receipt_for(w3, signed.tx_hash) is None  # recorded, not yet sent
    assert transactions.broadcast(w3, signed) == signed.tx_hash
    result = transactions.wait(w3, signed.tx_hash)
    assert transactions.broadcast(w3, signed) == signed.tx_hash  # a resend after a crash
    assert transactions.receipt_for(w3, signed.tx_hash) == result
    assert transactions.receipt_for(w3, os.urandom(32)) is None


def test_failed_receipt_raises(chain: Chain) -> None:
    c, w3 = chain.client, chain.engine.w3
    issuer = chain.department()
    c.issue(issuer, h("dup"), FROM, UNTIL)
    data = bytes.fromhex(c.contract.encode_abi("issue", args=[h("dup"), FROM, UNTIL])[2:])
    # An explicit gas limit skips the pre-flight, so this one really is mined and fails.
    signed = transactions.sign(w3, issuer, to=c.address, data=data, gas=200_000, abi=c.abi)
    with pytest.raises(ChainRevertError) as info:
        transactions.wait(w3, transactions.broadcast(w3, signed, c.abi), abi=c.abi)
    assert info.value.error_name == "AlreadyIssued"
    with pytest.raises(ChainRevertError) as info:
        transactions.receipt_for(w3, signed.tx_hash, c.abi)
    assert info.value.error_name == "AlreadyIssued"


def test_fund(chain: Chain) -> None:
    w3 = chain.engine.w3
    acct = Account.create()
    result = chain.engine.fund(acct.address, 12345)
    if chain.engine.zero_gas:
        assert result is None
    else:
        assert result is not None and w3.eth.get_balance(acct.address) == 12345
