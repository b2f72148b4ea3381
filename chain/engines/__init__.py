"""Chain engines: one interface (``Engine``), four ways to have a chain.

- ``inprocess``: eth-tester on py-evm inside this process (unit tests)
- ``anvil``: managed anvil subprocess, state in the data directory (the embedded default)
- ``hardhat``: managed hardhat node subprocess (development; no persisted state)
- ``rpc``: any JSON-RPC URL with a signer key (a consortium chain, possibly zero gas)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from chain.errors import ChainError

if TYPE_CHECKING:
    from chain.engines.base import Engine

# The chain kinds, defined here once (vault.config.CHAIN_KINDS is this); the default first.
KINDS = ("anvil", "inprocess", "hardhat", "rpc")


def __getattr__(name: str) -> Any:
    # ``Engine`` on first use: importing this package for ``KINDS`` stays free of web3.
    if name == "Engine":
        from chain.engines.base import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_engine(
    kind: str,
    *,
    datadir: Path | None = None,
    rpc_url: str | None = None,
    signer_key: str | None = None,
    zero_gas: bool = False,
    anvil_binary: Path | None = None,
) -> Engine:
    """A stopped engine of ``kind``; call ``start()`` (or use it as a context manager)."""
    # Imported lazily: the in-process engine pulls in py-evm, the others do not need it.
    if kind == "inprocess":
        from chain.engines.inprocess import InProcessEngine

        # py-evm's genesis base fee is fixed, so the in-process chain always charges gas.
        return InProcessEngine()
    if kind == "anvil":
        from chain.engines.anvil import AnvilEngine

        return AnvilEngine(datadir, zero_gas=zero_gas, binary=anvil_binary)
    if kind == "hardhat":
        from chain.engines.hardhat import HardhatEngine

        return HardhatEngine(datadir, zero_gas=zero_gas)
    if kind == "rpc":
        from chain.engines.rpc import RpcEngine

        return RpcEngine(rpc_url or "", signer_key or "", zero_gas=zero_gas)
    raise ChainError(f"unknown chain engine {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "Engine", "make_engine"]
