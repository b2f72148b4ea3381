"""What a consortium chain needs to run the vault: a Besu QBFT genesis for N validators and
their node keys. `datavault consortium genesis` writes them; CONSORTIUM.md says how to
start the nodes and point the vault at them (and what FISCO BCOS needs instead).

- ``genesis``: the genesis document and the network-wide settings it fixes (zero gas, forks)
- ``extra_data``: the RLP ``extraData`` naming the validators, as Besu encodes it
- ``node_keys``: a validator's key, its enode id and Besu's key files

Nothing here talks to a node.
"""

from __future__ import annotations

from chain.consortium.extra_data import ExtraDataError, QbftExtraData
from chain.consortium.extra_data import decode as decode_extra_data
from chain.consortium.extra_data import encode as encode_extra_data
from chain.consortium.genesis import (
    ALLOC_BALANCE,
    BFT_MINIMUM,
    BLOCK_PERIODS,
    MAX_VALIDATORS,
    ConsortiumError,
    QbftParams,
    check_validator_count,
    qbft_genesis,
)
from chain.consortium.node_keys import KEY_FILE, NodeKey, NodeKeyError, write_key_files

__all__ = [
    "ALLOC_BALANCE",
    "BFT_MINIMUM",
    "BLOCK_PERIODS",
    "KEY_FILE",
    "MAX_VALIDATORS",
    "ConsortiumError",
    "ExtraDataError",
    "NodeKey",
    "NodeKeyError",
    "QbftExtraData",
    "QbftParams",
    "check_validator_count",
    "decode_extra_data",
    "encode_extra_data",
    "qbft_genesis",
    "write_key_files",
]
