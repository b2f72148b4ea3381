"""The chain conformance suite on the in-process chain, plus engine checks that need no node."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.engines import Engine, make_engine
from chain.engines import anvil as anvil_module
from chain.errors import ChainError, NodeError
from tests.chain_conformance import *


@pytest.fixture
def engine(inprocess_engine: Engine) -> Engine:
    return inprocess_engine


def test_make_engine_knows_its_kinds(tmp_path: Path) -> None:
    with pytest.raises(ChainError, match="unknown chain engine"):
        make_engine("ganache")
    assert make_engine("anvil", datadir=tmp_path).name == "anvil"
    assert make_engine("hardhat", datadir=tmp_path).name == "hardhat"
    assert not make_engine("anvil", datadir=tmp_path).is_running


def test_rpc_engine_needs_url_and_key() -> None:
    with pytest.raises(NodeError, match="signer"):
        make_engine("rpc", rpc_url="http://127.0.0.1:1")
    with pytest.raises(NodeError, match="URL"):
        make_engine("rpc", signer_key="0x" + "11" * 32)
    with pytest.raises(NodeError, match="not a valid private key"):
        make_engine("rpc", rpc_url="http://127.0.0.1:1", signer_key="0x1234")
    engine = make_engine("rpc", rpc_url="http://user:secret@127.0.0.1:1", signer_key="0x" + "11" * 32)
    with pytest.raises(NodeError, match="does not answer") as info:
        engine.start()
    assert "secret" not in str(info.value) and not engine.is_running


def test_missing_anvil_binary_says_run_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anvil_module, "HARDHAT_NODE_DIR", tmp_path)
    with pytest.raises(NodeError, match="npm ci"):
        make_engine("anvil", datadir=tmp_path).start()


def test_engine_not_started_is_a_clear_error() -> None:
    engine = make_engine("inprocess")
    with pytest.raises(NodeError, match="not started"):
        _ = engine.w3
    with engine:
        assert engine.w3.eth.block_number == 0
    assert not engine.is_running
