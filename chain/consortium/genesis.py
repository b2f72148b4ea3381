"""A Besu QBFT genesis file for a zero-gas network that runs this vault.

What the vault needs of the chain, and so what is fixed here rather than asked for:

- gas is free: ``zeroBaseFee`` and a genesis base fee of 0 (Besu's free gas network page; its
  nodes also need ``--min-gas-price=0``). The vault then sends ``gasPrice`` 0, seeing a base
  fee of 0, and funds no account;
- the EVM runs the contracts as compiled: ``chain.artifacts`` targets ``prague``, but solc emits
  nothing newer than Cancun's opcodes for that target (PUSH0 from Shanghai, MCOPY from Cancun);
  ``shanghaiTime`` and ``cancunTime`` 0 turn both on from the first block. Prague is left off:
  the contracts use nothing of it, and its other changes (system contracts, a new transaction
  type) were never tried on a QBFT chain here;
- ``difficulty`` 1 and the Istanbul ``mixHash`` are what Besu's QBFT page requires.

Validators are listed in ascending address order, as Besu's QBFT page asks of the list it
encodes. Nothing here talks to a node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chain.consortium import extra_data
from chain.errors import ChainError

# "Istanbul block identification" (Besu's QBFT page): the same constant in every BFT genesis.
MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
ZERO_HASH = "0x" + "00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
BLOCK_PERIODS = range(1, 61)  # seconds; QBFT's own advice is a few (1-5) for a busy chain
MAX_VALIDATORS = 100  # a hand-made genesis; a larger network adds validators by vote
BFT_MINIMUM = 4  # fewer validators cannot tolerate a faulty one (Besu's QBFT page)
# JavaScript reads the chain id as a number (the pages' wallet signs EIP-712 data with it).
MAX_CHAIN_ID = 2**53 - 1
EPOCH_LENGTH = 30_000  # Besu's examples; votes are reset every so many blocks
# A block gas limit with room for the largest deployment (ConsentRegistry, a few million gas)
# many times over, yet small enough that a block is built within a short block period.
GAS_LIMIT = 30_000_000
# A given account's balance: harmless where gas is free, and enough to pay if the network
# ever charges for it. 10**24 wei is a million of the chain's coins.
ALLOC_BALANCE = 10**24


class ConsortiumError(ChainError):
    """A genesis setting out of range; ``setting`` names it (validators, block_period, ...)."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(message)


@dataclass(frozen=True)
class QbftParams:
    """The network-wide choices of a QBFT genesis; checked when made."""

    chain_id: int
    block_period: int = 2
    epoch_length: int = EPOCH_LENGTH
    gas_limit: int = GAS_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.chain_id <= MAX_CHAIN_ID:
            raise ConsortiumError("chain_id", f"chain id {self.chain_id}: choose 1 to {MAX_CHAIN_ID}")
        if self.block_period not in BLOCK_PERIODS:
            raise ConsortiumError(
                "block_period",
                f"block period {self.block_period} s: choose {BLOCK_PERIODS[0]} to {BLOCK_PERIODS[-1]} seconds",
            )
        if self.epoch_length < 1:
            raise ConsortiumError("epoch_length", f"epoch length {self.epoch_length}: at least 1 block")
        if self.gas_limit < 5_000_000:
            raise ConsortiumError("gas_limit", f"gas limit {self.gas_limit}: too small to deploy the contracts")

    @property
    def request_timeout(self) -> int:
        # Besu's advice: start at twice the block period, then tune down until rounds change.
        return 2 * self.block_period


def check_validator_count(count: int) -> None:
    if not 1 <= count <= MAX_VALIDATORS:
        raise ConsortiumError("validators", f"{count} validators: choose 1 to {MAX_VALIDATORS} (4 or more for BFT)")


def qbft_genesis(
    params: QbftParams, validators: Sequence[str], alloc: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The genesis document (``json.dumps`` it) for ``validators`` and funded ``alloc``."""
    check_validator_count(len(validators))
    ordered = sorted(validators, key=extra_data.address_bytes)
    accounts = {}
    for address, balance in (alloc or {}).items():
        if balance < 0:
            raise ConsortiumError("alloc", f"a negative balance for {address}")
        # Lower-case hex without 0x, as in Besu's examples (it keeps alloc addresses as written).
        accounts[extra_data.address_bytes(address).hex()] = {"balance": hex(balance)}
    return {
        "config": {
            "chainId": params.chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": params.block_period,
                "epochlength": params.epoch_length,
                "requesttimeoutseconds": params.request_timeout,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": extra_data.encode(ordered),
        "gasLimit": hex(params.gas_limit),
        "difficulty": "0x1",
        "mixHash": MIX_HASH,
        "coinbase": ZERO_ADDRESS,
        # Without it Besu gives a London genesis a default base fee, not zero.
        "baseFeePerGas": "0x0",
        "alloc": accounts,
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": ZERO_HASH,
    }
