"""The calldata codec encodes every function of our contracts exactly as web3 does, from the
same arguments, and decodes return data as web3 returns it (checksummed addresses, tuples)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_abi.abi import encode
from web3 import Web3

from chain.artifacts import load_artifact
from chain.calldata import Param, functions

CONTRACTS = ["CredentialRegistry", "ConsentRegistry", "AuditAnchor"]


def sample(param: Param, rng: random.Random, dims: int | None = None) -> Any:
    """A value of ``param``'s type, in the forms callers pass (hex text for some bytes)."""
    dims = param.dims if dims is None else dims
    if dims:
        return [sample(param, rng, dims - 1) for _ in range(rng.randint(0, 3))]
    base = param.base
    if base == "tuple":
        return tuple(sample(c, rng) for c in param.components)
    if base == "address":
        return Web3.to_checksum_address(rng.randbytes(20))
    if base == "bool":
        return rng.random() < 0.5
    if base.startswith("uint"):
        return rng.getrandbits(int(base[4:] or 256))
    if base == "bytes":
        return rng.randbytes(rng.randint(0, 70))
    if base.startswith("bytes"):
        raw = rng.randbytes(int(base[5:]))
        return "0x" + raw.hex() if rng.random() < 0.5 else raw
    if base == "string":
        return "证明" * rng.randint(0, 3)
    raise AssertionError(f"no sample for {param.type}")


@pytest.mark.parametrize("name", CONTRACTS)
def test_every_function_encodes_as_web3_does(name: str) -> None:
    abi = load_artifact(name).abi
    contract = Web3().eth.contract(abi=list(abi))
    rng = random.Random(name)
    codecs = functions(abi)
    assert codecs, name
    for fn, codec in codecs.items():
        for _ in range(5):
            args = [sample(p, rng) for p in codec.inputs]
            assert "0x" + codec.encode(args).hex() == contract.encode_abi(fn, args=args), fn


def test_decoded_outputs_are_checksummed_and_tupled() -> None:
    abi = load_artifact("ConsentRegistry").abi
    status = functions(abi)["grantStatus"]
    grantee = "0x" + "ab" * 20
    data = encode([p.type for p in status.outputs], [grantee, 1, 2, 3])
    assert status.decode(data) == (Web3.to_checksum_address(grantee), 1, 2, 3)
    active = functions(abi)["isGrantActive"]
    assert active.decode(encode(["bool"], [True])) is True


def test_wrong_number_of_arguments_is_refused() -> None:
    codec = functions(load_artifact("ConsentRegistry").abi)["isGrantActive"]
    with pytest.raises(TypeError, match="takes 1 arguments"):
        codec.encode([])
