"""Contract events whose ``get_logs`` also finds anonymous events.

Both registries log their hottest event anonymously, with a single topic (a credential root,
a grant id), because the signature topic costs 375 gas per transaction. web3 (7 and 8) builds
``get_logs`` filters with the event signature as topic 0 even for anonymous events, so it
would never find one. An anonymous event's topics are its indexed arguments alone; logs are
told apart from a contract's other events by their topic count, which is sound because every
non-anonymous event of these contracts has at least one indexed argument (tests check it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_typing import ABI as ABIList
from eth_typing import ChecksumAddress
from eth_utils.decorators import combomethod
from eth_utils.hexadecimal import encode_hex
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract.base_contract import BaseContractEvents
from web3.contract.contract import Contract, ContractEvent, ContractEvents
from web3.exceptions import Web3ValidationError
from web3.types import BlockIdentifier, EventData, FilterParams


class _ContractEvent(ContractEvent):
    """A web3 contract event whose ``get_logs`` also finds anonymous events.

    An anonymous event's topics are its indexed arguments alone. Logs are told apart from the
    contract's other events by their topic count, which is sound here because every
    non-anonymous event of the registry has at least one indexed argument (a test checks it).
    """

    @combomethod
    def get_logs(
        self,
        argument_filters: dict[str, Any] | None = None,
        from_block: BlockIdentifier | None = None,
        to_block: BlockIdentifier | None = None,
        block_hash: HexBytes | None = None,
    ) -> Iterable[EventData]:
        if not self.abi.get("anonymous"):
            logs: Iterable[EventData] = super().get_logs(argument_filters, from_block, to_block, block_hash)
            return logs
        wanted = dict(argument_filters or {})
        indexed = [arg for arg in self.abi["inputs"] if arg.get("indexed")]
        unknown = set(wanted) - {arg["name"] for arg in indexed}
        if unknown:
            raise Web3ValidationError(f"{self.event_name} filters only on indexed arguments, not {sorted(unknown)}")
        topics: list[Any] = []
        for arg in indexed:
            value = wanted.get(arg["name"])
            if value is None:
                topics.append(None)
                continue
            options = value if isinstance(value, (list, tuple)) else [value]
            topics.append([self._encode_topic(arg["type"], v) for v in options])
        while topics and topics[-1] is None:
            topics.pop()
        params: FilterParams = {"address": self.address, "topics": topics}
        if block_hash is not None:
            params["blockHash"] = block_hash
        if from_block is not None:
            params["fromBlock"] = from_block
        if to_block is not None:
            params["toBlock"] = to_block
        raw = self.w3.eth.get_logs(params)
        found = [get_event_data(self.w3.codec, self.abi, log) for log in raw if len(log["topics"]) == len(indexed)]
        return sorted(found, key=lambda e: (e["blockNumber"], e["logIndex"]))

    @combomethod
    def _encode_topic(self, kind: str, value: Any) -> str:
        # Indexed dynamic values are hashed into their topic; the registry has none to filter.
        if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple"):
            raise Web3ValidationError(f"{self.event_name} cannot be filtered by a {kind} argument")
        return encode_hex(self.w3.codec.encode([kind], [value]))


class _ContractEvents(ContractEvents):
    def __init__(self, abi: ABIList, w3: Web3, address: ChecksumAddress | None = None) -> None:
        BaseContractEvents.__init__(self, abi, w3, _ContractEvent, address)


def with_anonymous_events(contract: Contract) -> Contract:
    """Gives ``contract`` event objects that find anonymous events too; returns it."""
    assert contract.address is not None
    contract.events = _ContractEvents(contract.abi, contract.w3, contract.address)
    return contract
