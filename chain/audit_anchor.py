"""Typed client of ``AuditAnchor``: the access log's tree heads on chain.

Storage holds the latest head only; ``heads`` reads the full history from the contract's
``TreeHeadAnchored`` log, which is what an auditor checks the log against.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.contract import ContractClient
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


class AuditAnchorClient(ContractClient):
    CONTRACT = CONTRACT

    def encode_anchor(self, tree_size: int, root: bytes) -> bytes:
        return self.encode("anchor", int(tree_size), bytes(root))

    def anchor(self, sender: LocalAccount, tree_size: int, root: bytes, *, nonce: int | None = None) -> TxResult:
        return self._send(sender, "anchor", [int(tree_size), bytes(root)], nonce)

    def logger(self) -> str:
        return Web3.to_checksum_address(self._call("logger"))

    def latest(self) -> LatestHead:
        size, root, at = self._call("latest")
        return LatestHead(int(size), bytes(root), int(at))

    def heads(self, from_block: int = 0) -> list[AnchoredHead]:
        """Every anchored head, oldest first (the constructor's empty tree included)."""
        logs = self.contract.events.TreeHeadAnchored().get_logs(from_block=from_block)
        found = [
            AnchoredHead(
                int(log["args"]["treeSize"]),
                bytes(log["args"]["root"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in logs
        ]
        return sorted(found, key=lambda h: h.tree_size)
