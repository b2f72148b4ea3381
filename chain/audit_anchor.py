"""Typed client of ``AuditAnchor``: the access log's tree heads on chain.

Storage holds the latest head only; ``heads`` reads the full history from the contract's
``TreeHeadAnchored`` log, which is what an auditor checks the log against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception

from chain import transactions
from chain.artifacts import load_artifact
from chain.reverts import ABI, as_revert
from chain.transactions import TxResult

CONTRACT = "AuditAnchor"
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@dataclass(frozen=True)
class AnchoredHead:
    tree_size: int
    root: bytes
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True)
class LatestHead:
    tree_size: int
    root: bytes
    anchored_at: int


class AuditAnchorClient:
    def __init__(self, w3: Web3, address: str, abi: ABI | None = None) -> None:
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.abi: ABI = abi if abi is not None else load_artifact(CONTRACT).abi
        self.contract = w3.eth.contract(address=self.address, abi=list(self.abi))

    def _call(self, fn: str, *args: Any) -> Any:
        try:
            return getattr(self.contract.functions, fn)(*args).call()
        except Web3Exception as exc:
            revert = as_revert(exc, self.abi, fn)
            if revert is not None:
                raise revert from exc
            raise

    def encode_anchor(self, tree_size: int, root: bytes) -> bytes:
        return bytes.fromhex(self.contract.encode_abi("anchor", args=[int(tree_size), bytes(root)])[2:])

    def anchor(self, sender: LocalAccount, tree_size: int, root: bytes, *, nonce: int | None = None) -> TxResult:
        data = self.encode_anchor(tree_size, root)
        return transactions.send(self.w3, sender, to=self.address, data=data, nonce=nonce, abi=self.abi, context="anchor")

    def logger(self) -> str:
        return Web3.to_checksum_address(self._call("logger"))

    def latest(self) -> LatestHead:
        size, root, at = self._call("latest")
        return LatestHead(int(size), bytes(root), int(at))

    def heads(self, from_block: int = 0) -> list[AnchoredHead]:
        """Every anchored head, oldest first (the constructor's empty tree included)."""
        logs = self.contract.events.TreeHeadAnchored().get_logs(from_block=from_block)
        found = [
            AnchoredHead(int(log["args"]["treeSize"]), bytes(log["args"]["root"]), int(log["blockNumber"]),
                         bytes(log["transactionHash"]))
            for log in logs
        ]
        return sorted(found, key=lambda h: h.tree_size)
