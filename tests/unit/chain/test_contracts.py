"""CredentialRegistry (with DepartmentRegistry) on an in-process py-evm chain, from the
committed artifact: what the vault actually deploys."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from chain.artifacts import load_artifact
from chain.merkle import merkle_proof, merkle_root, process_proof

ISSUER, VERIFIER, REGISTRAR, DATA_USER = 1, 2, 4, 8
ZERO = "0x" + "00" * 20
YEAR = 365 * 24 * 3600


def b32(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


def h(i: int | str) -> bytes:
    return keccak(text=f"credential {i}")


def event(env: Any, receipt: Any, name: str) -> Any:
    (log,) = getattr(env.c.events, name)().process_receipt(receipt)
    return log["args"]


# --- departments -----------------------------------------------------------------------


def test_constructor_sets_admin_and_emits(env: Any) -> None:
    assert env.c.functions.admin().call() == env.admin
    args = event(env, env.deploy_receipt, "AdminTransferred")
    assert (args["previousAdmin"], args["newAdmin"]) == (ZERO, env.admin)


def test_constructor_rejects_zero_admin(env: Any, reverts: Any) -> None:
    art = load_artifact("CredentialRegistry")
    factory = env.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    with reverts("ZeroAddress"):
        factory.constructor(ZERO).transact({"from": env.admin})


def test_role_constants(env: Any) -> None:
    f = env.c.functions
    got = (
        f.ROLE_ISSUER().call(),
        f.ROLE_VERIFIER().call(),
        f.ROLE_REGISTRAR().call(),
        f.ROLE_DATA_USER().call(),
    )
    assert got == (ISSUER, VERIFIER, REGISTRAR, DATA_USER)


def test_add_department_sequential_ids_views_and_event(env: Any) -> None:
    f = env.c.functions
    assert f.department(env.issuer).call()[:4] == [1, b32("GA"), ISSUER, True]
    assert f.department(env.other).call()[0] == 2
    assert f.department(env.verifier).call()[0] == 3
    assert [f.departmentById(i).call() for i in (1, 2, 3)] == [env.issuer, env.other, env.verifier]
    new = env.w3.eth.accounts[6]
    receipt = env.send(f.addDepartment(new, b32("MZ"), REGISTRAR | DATA_USER), env.admin)
    args = event(env, receipt, "DepartmentAdded")
    assert (args["account"], args["id"], args["code"], args["roles"]) == (new, 4, b32("MZ"), 12)
    ts = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert f.department(new).call() == [4, b32("MZ"), 12, True, ts]


def test_unknown_department_views_are_zero(env: Any) -> None:
    f = env.c.functions
    assert f.department(env.stranger).call() == [0, b"\0" * 32, 0, False, 0]
    assert f.departmentById(0).call() == ZERO
    assert f.departmentById(99).call() == ZERO
    assert f.hasRole(env.stranger, ISSUER).call() is False


def test_add_department_errors(env: Any, reverts: Any) -> None:
    f = env.c.functions
    with reverts("DepartmentExists", env.issuer):
        f.addDepartment(env.issuer, b32("X"), ISSUER).transact({"from": env.admin})
    with reverts("ZeroAddress"):
        f.addDepartment(ZERO, b32("X"), ISSUER).transact({"from": env.admin})


@pytest.mark.parametrize(
    "name, args",
    [
        ("addDepartment", lambda e: (e.stranger, b32("X"), ISSUER)),
        ("setRoles", lambda e: (e.issuer, VERIFIER)),
        ("deactivateDepartment", lambda e: (e.issuer,)),
        ("reactivateDepartment", lambda e: (e.issuer,)),
        ("transferAdmin", lambda e: (e.stranger,)),
    ],
)
def test_admin_only(env: Any, reverts: Any, name: str, args: Any) -> None:
    for caller in (env.stranger, env.issuer):
        with reverts("NotAdmin", caller):
            getattr(env.c.functions, name)(*args(env)).transact({"from": caller})


def test_set_roles(env: Any, reverts: Any) -> None:
    f = env.c.functions
    receipt = env.send(f.setRoles(env.verifier, VERIFIER | ISSUER), env.admin)
    args = event(env, receipt, "DepartmentRolesChanged")
    assert (args["account"], args["roles"]) == (env.verifier, 3)
    assert f.hasRole(env.verifier, ISSUER).call()
    assert f.hasRole(env.verifier, ISSUER | VERIFIER).call()
    assert not f.hasRole(env.verifier, ISSUER | DATA_USER).call()
    assert not f.hasRole(env.verifier, 0).call()
    with reverts("UnknownDepartment", env.stranger):
        f.setRoles(env.stranger, ISSUER).transact({"from": env.admin})


def test_deactivate_and_reactivate(env: Any, reverts: Any) -> None:
    f = env.c.functions
    receipt = env.send(f.deactivateDepartment(env.issuer), env.admin)
    assert event(env, receipt, "DepartmentDeactivated")["account"] == env.issuer
    assert f.department(env.issuer).call()[2:4] == [ISSUER, False]
    assert not f.hasRole(env.issuer, ISSUER).call()
    with reverts("DepartmentInactive", env.issuer):
        f.deactivateDepartment(env.issuer).transact({"from": env.admin})
    receipt = env.send(f.reactivateDepartment(env.issuer), env.admin)
    assert event(env, receipt, "DepartmentReactivated")["account"] == env.issuer
    assert f.hasRole(env.issuer, ISSUER).call()
    with reverts("DepartmentAlreadyActive", env.issuer):
        f.reactivateDepartment(env.issuer).transact({"from": env.admin})
    for name in ("deactivateDepartment", "reactivateDepartment"):
        with reverts("UnknownDepartment", env.stranger):
            getattr(f, name)(env.stranger).transact({"from": env.admin})


def test_transfer_admin(env: Any, reverts: Any) -> None:
    f = env.c.functions
    new = env.w3.eth.accounts[7]
    with reverts("ZeroAddress"):
        f.transferAdmin(ZERO).transact({"from": env.admin})
    receipt = env.send(f.transferAdmin(new), env.admin)
    args = event(env, receipt, "AdminTransferred")
    assert (args["previousAdmin"], args["newAdmin"]) == (env.admin, new)
    assert f.admin().call() == new
    with reverts("NotAdmin", env.admin):
        f.setRoles(env.issuer, VERIFIER).transact({"from": env.admin})
    env.send(f.setRoles(env.issuer, VERIFIER), new)


# --- issue -----------------------------------------------------------------------------


def test_issue_anchors_root_and_emits(env: Any) -> None:
    f = env.c.functions
    frm, until = env.window()
    receipt = env.send(f.issue(h(1), frm, until), env.other)  # department id 2
    # Anonymous: the root is the only topic, and nothing the anchor slot holds is repeated.
    (log,) = receipt["logs"]
    assert log["address"] == env.c.address
    assert [bytes(t) for t in log["topics"]] == [h(1)] and bytes(log["data"]) == b""
    assert dict(event(env, receipt, "CredentialIssued")) == {"root": h(1)}
    ts = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert f.rootStatus(h(1)).call() == [env.other, ts, frm, until, 0]


def test_one_topic_logs_are_issuances(env: Any) -> None:
    # Verifiers (and RegistryClient's log filter) tell CredentialIssued from the other events
    # by its single topic; that holds only while every other event has an indexed argument.
    events = {e["name"]: e for e in env.c.abi if e["type"] == "event"}
    issued = events.pop("CredentialIssued")
    assert issued["anonymous"] is True
    assert issued["inputs"] == [{"indexed": True, "internalType": "bytes32", "name": "root", "type": "bytes32"}]
    assert events, "the other events are missing from the ABI"
    for name, e in events.items():
        assert e["anonymous"] is False, name
        assert any(i["indexed"] for i in e["inputs"]), name


def test_issue_packs_extreme_values(env: Any) -> None:
    # The hot path packs the slot in assembly; the views read it through the struct.
    top = 2**40 - 1
    env.send(env.c.functions.issue(h("max"), top - 1, top), env.issuer)
    assert env.c.functions.rootStatus(h("max")).call()[2:] == [top - 1, top, 0]
    env.send(env.c.functions.issue(h("min"), 0, 1), env.issuer)
    assert env.c.functions.rootStatus(h("min")).call()[2:] == [0, 1, 0]


def test_issue_errors(env: Any, reverts: Any) -> None:
    f = env.c.functions
    frm, until = env.window()
    with reverts("ZeroRoot"):
        f.issue(b"\0" * 32, frm, until).transact({"from": env.issuer})
    with reverts("InvalidWindow", until, frm):
        f.issue(h(1), until, frm).transact({"from": env.issuer})
    with reverts("InvalidWindow", frm, frm):
        f.issue(h(1), frm, frm).transact({"from": env.issuer})
    with reverts("NotIssuer", env.stranger):
        f.issue(h(1), frm, until).transact({"from": env.stranger})
    with reverts("NotIssuer", env.verifier):
        f.issue(h(1), frm, until).transact({"from": env.verifier})
    env.send(f.deactivateDepartment(env.issuer), env.admin)
    with reverts("NotIssuer", env.issuer):
        f.issue(h(1), frm, until).transact({"from": env.issuer})
    env.send(f.issue(h(1), frm, until), env.other)
    env.send(f.reactivateDepartment(env.issuer), env.admin)
    for caller in (env.other, env.issuer):  # neither the issuer nor anyone else may re-anchor
        with reverts("AlreadyIssued", h(1)):
            f.issue(h(1), frm, until + 1).transact({"from": caller})


def test_issue_after_role_removed_is_refused(env: Any, reverts: Any) -> None:
    env.send(env.c.functions.setRoles(env.other, VERIFIER), env.admin)
    with reverts("NotIssuer", env.other):
        env.c.functions.issue(h(1), *env.window()).transact({"from": env.other})


# --- revoke ----------------------------------------------------------------------------


def test_revoke_whole_root(env: Any, reverts: Any) -> None:
    f = env.c.functions
    env.send(f.issue(h(1), *env.window()), env.issuer)
    receipt = env.send(f.revoke(h(1)), env.issuer)
    args = event(env, receipt, "CredentialRevoked")
    assert (args["root"], args["issuer"]) == (h(1), env.issuer)
    ts = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    status = f.rootStatus(h(1)).call()
    assert status[0] == env.issuer and status[4] == ts
    with reverts("AlreadyRevoked", h(1)):
        f.revoke(h(1)).transact({"from": env.issuer})
    with reverts("AlreadyIssued", h(1)):  # a revoked root cannot be re-anchored
        f.issue(h(1), *env.window()).transact({"from": env.issuer})


def test_revoke_errors(env: Any, reverts: Any) -> None:
    f = env.c.functions
    with reverts("UnknownRoot", h(1)):
        f.revoke(h(1)).transact({"from": env.issuer})
    env.send(f.issue(h(1), *env.window()), env.issuer)
    for caller in (env.other, env.stranger, env.admin):
        with reverts("NotRootIssuer", h(1), caller):
            f.revoke(h(1)).transact({"from": caller})


def test_closed_department_can_still_revoke(env: Any) -> None:
    f = env.c.functions
    env.send(f.issue(h(1), *env.window()), env.issuer)
    env.send(f.issue(h(2), *env.window()), env.issuer)
    env.send(f.deactivateDepartment(env.issuer), env.admin)
    env.send(f.revoke(h(1)), env.issuer)
    env.send(f.reactivateDepartment(env.issuer), env.admin)
    env.send(f.setRoles(env.issuer, VERIFIER), env.admin)
    env.send(f.revoke(h(2)), env.issuer)
    assert f.rootStatus(h(1)).call()[4] > 0 and f.rootStatus(h(2)).call()[4] > 0


# --- batches: revokeCredential and credentialStatus --------------------------------------

LEAVES = [h(i) for i in range(7)]  # odd count: the last node is promoted


@pytest.fixture
def batch(env: Any) -> bytes:
    root = merkle_root(LEAVES)
    env.send(env.c.functions.issue(root, *env.window()), env.issuer)
    return root


def test_python_proofs_agree_with_contract(env: Any, batch: bytes) -> None:
    status = env.c.functions.rootStatus(batch).call()
    for i, leaf in enumerate(LEAVES):
        proof = merkle_proof(LEAVES, i)
        got = env.c.functions.credentialStatus(leaf, proof).call()
        assert got[0] == process_proof(leaf, proof) == batch
        assert got[1:] == status


def test_credential_status_single_and_unknown(env: Any) -> None:
    f = env.c.functions
    env.send(f.issue(h("solo"), *env.window()), env.issuer)
    assert f.credentialStatus(h("solo"), []).call()[:2] == [h("solo"), env.issuer]
    assert f.credentialStatus(h("nope"), []).call() == [h("nope"), ZERO, 0, 0, 0, 0]
    fake = f.credentialStatus(h("nope"), [h(0)]).call()
    assert fake[0] == process_proof(h("nope"), [h(0)]) and fake[1] == ZERO


def test_revoke_credential(env: Any, reverts: Any, batch: bytes) -> None:
    f = env.c.functions
    proof = merkle_proof(LEAVES, 3)
    receipt = env.send(f.revokeCredential(LEAVES[3]), env.issuer)
    args = event(env, receipt, "CredentialHashRevoked")
    assert (args["credentialHash"], args["issuer"]) == (LEAVES[3], env.issuer)
    ts = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert f.credentialRevokedAt(env.issuer, LEAVES[3]).call() == ts
    assert f.credentialStatus(LEAVES[3], proof).call()[5] == ts
    assert f.credentialStatus(LEAVES[2], merkle_proof(LEAVES, 2)).call()[5] == 0
    assert f.rootStatus(batch).call()[4] == 0  # the rest of the batch stays valid
    with reverts("AlreadyRevoked", LEAVES[3]):
        f.revokeCredential(LEAVES[3]).transact({"from": env.issuer})
    # Revoking the whole root afterwards keeps the credential's own (earlier) revocation time.
    env.send(f.revoke(batch), env.issuer)
    assert f.credentialStatus(LEAVES[3], proof).call()[5] == ts
    root_ts = f.rootStatus(batch).call()[4]
    assert f.credentialStatus(LEAVES[6], merkle_proof(LEAVES, 6)).call()[5] == root_ts
    # ... and a credential revoked after its root reads the root's (earlier) time.
    env.send(f.revokeCredential(LEAVES[6]), env.issuer)
    assert f.credentialRevokedAt(env.issuer, LEAVES[6]).call() > root_ts
    assert f.credentialStatus(LEAVES[6], merkle_proof(LEAVES, 6)).call()[5] == root_ts


def test_a_lone_credential_is_revoked_by_its_hash_too(env: Any) -> None:
    f = env.c.functions
    env.send(f.issue(h("solo"), *env.window()), env.issuer)
    receipt = env.send(f.revokeCredential(h("solo")), env.issuer)
    ts = env.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert f.credentialStatus(h("solo"), []).call()[5] == ts
    assert f.rootStatus(h("solo")).call()[4] == 0  # the root's own slot is untouched


def test_revocation_by_another_account_changes_no_status(env: Any, batch: bytes) -> None:
    # Without a proof the contract cannot tell whose credential a hash is: the revocation is
    # kept under the caller, and a credential's status reads only its root's issuer's.
    f = env.c.functions
    proof = merkle_proof(LEAVES, 0)
    for caller in (env.other, env.stranger, env.admin, env.verifier):
        env.send(f.revokeCredential(LEAVES[0]), caller)
        assert f.credentialRevokedAt(caller, LEAVES[0]).call() > 0
    assert f.credentialRevokedAt(env.issuer, LEAVES[0]).call() == 0
    assert f.credentialStatus(LEAVES[0], proof).call()[5] == 0
    # The issuer's own revocation is not blocked by theirs.
    env.send(f.revokeCredential(LEAVES[0]), env.issuer)
    assert f.credentialStatus(LEAVES[0], proof).call()[5] > 0


def test_revocation_is_scoped_to_the_anchoring_issuer(env: Any) -> None:
    # Two departments anchoring the same leaf in their own batches: each one's revocation
    # counts for its own credential only.
    f = env.c.functions
    mine, theirs = [LEAVES[0], h("a")], [LEAVES[0], h("b")]
    env.send(f.issue(merkle_root(mine), *env.window()), env.issuer)
    env.send(f.issue(merkle_root(theirs), *env.window()), env.other)
    env.send(f.revokeCredential(LEAVES[0]), env.other)
    assert f.credentialStatus(LEAVES[0], merkle_proof(mine, 0)).call()[5] == 0
    assert f.credentialStatus(LEAVES[0], merkle_proof(theirs, 0)).call()[5] > 0


def test_closed_department_can_still_revoke_a_credential(env: Any, batch: bytes) -> None:
    f = env.c.functions
    env.send(f.deactivateDepartment(env.issuer), env.admin)
    env.send(f.revokeCredential(LEAVES[1]), env.issuer)
    assert f.credentialStatus(LEAVES[1], merkle_proof(LEAVES, 1)).call()[5] > 0


def test_revoking_a_credential_costs_the_same_gas_at_any_batch_size(env: Any) -> None:
    # No proof, no batch lookup: what is left of gasUsed once the calldata (which varies with
    # the hash's zero bytes) is taken off is the same for a batch of 1 or of 65,536.
    f = env.c.functions
    spent = set()
    for size in (1, 16, 1024, 65536):
        leaves = [keccak(text=f"batch {size} credential {i}") for i in range(size)]
        env.send(f.issue(merkle_root(leaves), *env.window()), env.issuer)
        receipt = env.send(f.revokeCredential(leaves[size // 3]), env.issuer)
        data = bytes(env.w3.eth.get_transaction(receipt["transactionHash"])["input"])
        spent.add(receipt["gasUsed"] - sum(16 if b else 4 for b in data))
    assert len(spent) == 1, spent
