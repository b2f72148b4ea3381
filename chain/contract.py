"""What every typed contract client shares: the deployed contract, its ABI, and the two ways
of talking to it. Writes pre-flight (a call that would revert raises the decoded
``ChainRevertError`` before anything is signed); reads decode reverts the same way."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from chain import transactions
from chain.artifacts import load_artifact
from chain.calldata import functions
from chain.logs import with_anonymous_events
from chain.reverts import ABI, as_revert
from chain.transactions import TxResult


class ContractClient:
    CONTRACT = ""  # the artifact name, set by each client

    def __init__(self, w3: Web3, address: str, abi: ABI | None = None) -> None:
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.abi: ABI = abi if abi is not None else load_artifact(self.CONTRACT).abi
        self.contract = with_anonymous_events(w3.eth.contract(address=self.address, abi=list(self.abi)))
        self.functions = functions(self.abi)

    def encode(self, fn: str, *args: Any) -> bytes:
        """Calldata of ``fn(args)``, for the outbox, which signs and sends on its own."""
        return self.functions[fn].encode(args)

    def _send(self, sender: LocalAccount, fn: str, args: list[Any], nonce: int | None) -> TxResult:
        data = self.encode(fn, *args)
        return transactions.send(self.w3, sender, to=self.address, data=data, nonce=nonce, abi=self.abi, context=fn)

    def _call(self, fn: str, *args: Any) -> Any:
        function = self.functions[fn]
        try:
            data = self.w3.eth.call({"to": self.address, "data": HexBytes(function.encode(args))})
            return function.decode(bytes(data))
        except Web3Exception as exc:
            revert = as_revert(exc, self.abi, fn)
            if revert is not None:
                raise revert from exc
            raise
