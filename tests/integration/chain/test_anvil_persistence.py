"""anvil keeps the chain in the data directory: restarts, kill -9, resets and leftover nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.deployment import Deployment, deploy_registry, verify_deployment
from chain.engines.anvil import STATE_FILE, AnvilEngine
from chain.errors import DeploymentError, NodeError
from chain.registry import RegistryClient, Roles
from tests.integration.chain.nodes import node_pids, process_gone

pytestmark = pytest.mark.integration

CODE = b"shebao".ljust(32, b"\0")
ROOT = bytes(range(32))


def anchor(engine: AnvilEngine) -> tuple[Deployment, LocalAccount]:
    """Deploys, registers an issuer and anchors ROOT; returns the deployment and the issuer."""
    admin = engine.dev_account()
    dep = deploy_registry(engine, admin)
    client = RegistryClient(engine.w3, dep.registry)
    issuer: LocalAccount = Account.create()
    engine.fund(issuer.address, 10**17)
    client.add_department(admin, issuer.address, CODE, Roles.ISSUER)
    client.issue(issuer, ROOT, 1, 2**40 - 1)
    return dep, issuer


def test_restart_keeps_state(tmp_path: Path) -> None:
    engine = AnvilEngine(tmp_path)
    with engine:
        dep, issuer = anchor(engine)
    # No wait_persisted: a clean stop (SIGTERM) writes the state file itself.
    with engine:
        verify_deployment(engine.w3, dep)
        assert RegistryClient(engine.w3, dep.registry).root_status(ROOT).issuer == issuer.address
    assert (tmp_path / STATE_FILE).exists()


def test_kill_9_after_wait_persisted_keeps_the_deployment(tmp_path: Path) -> None:
    engine = AnvilEngine(tmp_path)
    engine.start()
    try:
        dep, _ = anchor(engine)
        engine.wait_persisted()
        pid = engine.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        engine.stop()  # reaps the killed process
        assert process_gone(pid)
        engine.start()
        verify_deployment(engine.w3, dep)
        assert RegistryClient(engine.w3, dep.registry).root_status(ROOT).anchored
    finally:
        engine.stop()


def test_reset_chain_fails_verification(tmp_path: Path) -> None:
    with AnvilEngine(tmp_path / "original") as engine:
        dep, _ = anchor(engine)
    time.sleep(1.1)  # a later genesis: the reset chain's blocks differ from the original's
    with AnvilEngine(tmp_path / "fresh") as fresh:
        with pytest.raises(DeploymentError, match=r"reset or replaced.*refuses to redeploy"):
            verify_deployment(fresh.w3, dep)
        # The same key redeploying lands at the same address with the same code: still caught.
        again = deploy_registry(fresh, fresh.dev_account())
        assert (again.registry, again.code_hash) == (dep.registry, dep.code_hash)
        with pytest.raises(DeploymentError, match="reset or replaced"):
            verify_deployment(fresh.w3, dep)


def test_a_node_left_by_a_crashed_run_is_stopped(tmp_path: Path) -> None:
    crashed = AnvilEngine(tmp_path)
    crashed.start()  # stands in for a node whose parent died without stopping it
    old_pid = crashed.pid
    assert old_pid is not None
    try:
        with AnvilEngine(tmp_path) as engine:
            assert engine.pid != old_pid and not crashed.is_running
            assert engine.w3.eth.chain_id == 31337
    finally:
        crashed.stop()
    assert process_gone(old_pid)


def test_damaged_state_file_falls_back_to_the_backup(tmp_path: Path) -> None:
    engine = AnvilEngine(tmp_path)
    with engine:
        dep, _ = anchor(engine)
    with engine:  # this start backs up the good state file
        pass
    state = tmp_path / STATE_FILE
    state.write_bytes(state.read_bytes()[:100])  # as if killed while anvil rewrote it
    with engine:
        verify_deployment(engine.w3, dep)


def test_no_anvil_left_running(tmp_path: Path) -> None:
    with AnvilEngine(tmp_path) as engine:
        assert node_pids(str(tmp_path / STATE_FILE)) == [engine.pid]
    assert node_pids(str(tmp_path / STATE_FILE)) == []


def test_a_node_whose_owner_still_runs_is_not_taken_over(tmp_path: Path) -> None:
    # Another process (a second `datavault up`, say) must not stop a live vault's node.
    script = (
        "import sys, time; from pathlib import Path; from chain.engines.anvil import AnvilEngine;"
        "e = AnvilEngine(Path(sys.argv[1])); e.start(); print(e.pid, flush=True); time.sleep(60)"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert owner.stdout is not None
        node_pid = int(owner.stdout.readline())
        with pytest.raises(NodeError, match="belongs to a running process"):
            AnvilEngine(tmp_path).start()
        assert not process_gone(node_pid)
        owner.kill()
        owner.wait(10)
        # Its owner gone, the node is left behind: the next start stops it and takes over.
        with AnvilEngine(tmp_path) as engine:
            assert engine.pid != node_pid
        deadline = time.monotonic() + 10
        while not process_gone(node_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_gone(node_pid)
    finally:
        owner.kill()
        owner.wait(10)


def test_a_killed_node_leaves_nothing_outside_its_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # anvil's default keeps past blocks' states in files under the home directory, removed only
    # on a clean exit; killed nodes filled a machine's disk that way.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    engine = AnvilEngine(tmp_path / "chain")
    engine.start()
    try:
        account = engine.w3.eth.accounts[0]
        for _ in range(600):  # past what anvil keeps in memory before it writes states out
            engine.w3.eth.send_transaction({"from": account, "to": account, "value": 1})
        pid = engine.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
    finally:
        engine.stop()
    assert [p for p in home.rglob("*") if p.is_file()] == []
