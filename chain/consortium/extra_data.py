"""The ``extraData`` of a Besu QBFT genesis block: who the first validators are.

Besu reads it as ``RLP([vanity, validators, vote, round, seals])`` (its ``QbftExtraDataCodec``):
32 bytes of vanity, the validators' 20-byte addresses, an empty list for "no vote", the round
as an RLP scalar (0 is the empty string, ``0x80``; IBFT 2.0 wrote four bytes here instead,
``0x8400000000``, which is why an IBFT 2.0 extraData does not start a QBFT chain) and an empty
list of seals. A genesis block carries no vote and no seal, so only the validators vary.

``rlp`` comes with eth-account (web3's signing); its encoder is the one the rest of the
Ethereum Python stack trusts, so no RLP is written by hand here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp

from chain.errors import ChainError

VANITY = bytes(32)
_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")


class ExtraDataError(ChainError):
    """An address list that cannot be encoded, or bytes that are no QBFT genesis extraData."""


@dataclass(frozen=True)
class QbftExtraData:
    """A decoded QBFT extraData; addresses lower-case 0x hex, as Besu prints them."""

    vanity: bytes
    validators: tuple[str, ...]
    has_vote: bool
    round: int
    seals: int


def address_bytes(address: str) -> bytes:
    """20 bytes of a 0x (or bare) hex address, whatever its case; anything else refused."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ExtraDataError(f"{address!r} is not an address: 40 hex digits, 0x optional")
    return bytes.fromhex(address.removeprefix("0x"))


def encode(validators: Sequence[str]) -> str:
    """The genesis extraData naming ``validators``, in the order given (Besu keeps it)."""
    raw = [address_bytes(v) for v in validators]
    if not raw:
        raise ExtraDataError("a QBFT genesis needs at least one validator")
    if len(set(raw)) != len(raw):
        raise ExtraDataError("a validator is named twice")
    encoded: bytes = rlp.encode([VANITY, raw, [], b"", []])
    return "0x" + encoded.hex()


def decode(extra_data: str) -> QbftExtraData:
    """The parts of a QBFT extraData; refuses anything Besu's decoder would not read."""
    try:
        items: Any = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    except (ValueError, rlp.DecodingError) as exc:
        raise ExtraDataError(f"not RLP: {exc}") from None
    if not isinstance(items, list) or len(items) != 5:
        raise ExtraDataError("QBFT extraData is a list of five: vanity, validators, vote, round, seals")
    vanity, validators, vote, round_, seals = items
    if not isinstance(vanity, bytes) or len(vanity) != 32:
        raise ExtraDataError("the vanity must be 32 bytes")
    if not isinstance(validators, list) or not all(isinstance(v, bytes) and len(v) == 20 for v in validators):
        raise ExtraDataError("the validators must be a list of 20-byte addresses")
    if isinstance(vote, bytes):
        raise ExtraDataError("the vote is not a list (an IBFT 2.0 extraData? it writes 0x80 there)")
    if not isinstance(vote, list) or not isinstance(round_, bytes) or not isinstance(seals, list):
        raise ExtraDataError("the vote and seals must be lists and the round a scalar")
    if round_[:1] == b"\x00":
        raise ExtraDataError("the round is not a minimal RLP scalar (an IBFT 2.0 extraData?)")
    return QbftExtraData(
        vanity=vanity,
        validators=tuple("0x" + v.hex() for v in validators),
        has_vote=bool(vote),
        round=int.from_bytes(round_, "big"),
        seals=len(seals),
    )
