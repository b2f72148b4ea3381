"""The chain conformance suite on real nodes: anvil, hardhat, and a zero-gas RPC chain.

The RPC case is a consortium chain in miniature: an anvil with zero gas price and base fee,
reached only through its URL by ``RpcEngine`` with a random, unfunded signer key, sealing a
block a second. Two nodes are named, the first one down: the whole suite runs through the
failover to the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.engines import Engine, make_engine
from chain.engines.anvil import AnvilEngine
from chain.engines.hardhat import HardhatEngine
from chain.engines.rpc import RpcEngine
from tests.chain_conformance import *
from tests.integration.chain.nodes import ENGINES, process_gone, random_key, started

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with started(request.param, tmp_path_factory.mktemp(request.param)) as node:
        yield node


def test_engine_reports_its_url(engine: Engine) -> None:
    assert engine.is_running and engine.rpc_url and engine.rpc_url.startswith("http://127.0.0.1:")
    assert engine.w3.eth.chain_id == 31337


@pytest.mark.parametrize("kind", ["anvil", "hardhat"])
def test_stop_leaves_no_process(kind: str, tmp_path: Path) -> None:
    engine = make_engine(kind, datadir=tmp_path)
    assert isinstance(engine, (AnvilEngine, HardhatEngine))
    with engine:
        pid = engine.pid
        assert pid is not None and not process_gone(pid)
        assert (tmp_path / f"{kind}.pid").exists()
    assert process_gone(pid) and not engine.is_running
    assert not (tmp_path / f"{kind}.pid").exists()
    engine.stop()  # twice is fine


def test_rpc_engine_leaves_the_node_alone(tmp_path: Path) -> None:
    with AnvilEngine(tmp_path) as node:
        assert node.rpc_url is not None
        rpc = RpcEngine(node.rpc_url, random_key())
        rpc.start()
        rpc.stop()
        assert node.is_running and node.w3.eth.block_number == 0
