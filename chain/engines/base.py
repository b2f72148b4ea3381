"""The one interface every chain engine offers: a started node, a ``Web3`` and a funded key.

``w3`` is synchronous web3; the vault runs calls in threads. Engines differ only in how the
node comes to exist (in this process, a child process, or someone else's RPC endpoint).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.errors import NodeError
from chain.transactions import TxResult, is_zero_gas, transfer

# First key of the standard development mnemonic ("test test ... junk"), funded on anvil
# and hardhat alike; public knowledge, so only ever used on throwaway dev chains.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


class Engine(ABC):
    name: str = "engine"

    def __init__(self, *, zero_gas: bool = False) -> None:
        self._zero_gas = zero_gas
        self._w3: Web3 | None = None

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            raise NodeError(f"the {self.name} chain engine is not started")
        return self._w3

    @property
    def rpc_url(self) -> str | None:
        """Where other processes can reach this chain; None for the in-process chain."""
        return None

    @property
    def is_running(self) -> bool:
        return self._w3 is not None

    @property
    def zero_gas(self) -> bool:
        """Gas is free here: configured so, or the chain reports a zero base fee / gas price."""
        return self._zero_gas or (self.is_running and is_zero_gas(self.w3))

    @abstractmethod
    def start(self) -> None:
        """Starts (or connects to) the node; does nothing if already running."""

    @abstractmethod
    def stop(self) -> None:
        """Stops the node (or disconnects); safe to call twice or when never started."""

    def dev_account(self) -> LocalAccount:
        """A funded account that may deploy and administer (dev chains: the first dev key)."""
        account: LocalAccount = Account.from_key(DEV_KEY)
        return account

    def fund(self, address: str, wei: int) -> TxResult | None:
        """Sends ``wei`` from the dev account; nothing to do where gas is free."""
        if self.zero_gas:
            return None
        return transfer(self.w3, self.dev_account(), Web3.to_checksum_address(address), wei)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f" {self.rpc_url}" if self.rpc_url else ""
        return f"<{type(self).__name__} {'running' if self.is_running else 'stopped'}{where}>"
