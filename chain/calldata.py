"""Calldata and return data of a contract's functions, from its ABI, read once.

web3's contract objects re-validate the whole ABI on every call, hashing every function's
signature again: profiled, that was a third of the submitter's time at a few hundred grants.
Our contracts have no overloads, so a function is known by its name: its selector and types
are worked out once here and each call is a plain ``eth_abi`` encode or decode.

Arguments are taken as web3 takes them for our types: addresses in either case, ``bytesN``
and ``bytes`` as bytes or hex text, structs as tuples (or dicts by field name), arrays as
sequences. Returned addresses are checksummed, as web3 returns them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from eth_utils.hexadecimal import decode_hex
from web3 import Web3

from chain.reverts import ABI


@dataclass(frozen=True)
class Param:
    """One input or output: its canonical type, and for a tuple its components."""

    type: str  # e.g. "uint64", "bytes32[]", "(bytes32,address)"
    base: str  # the element type without array suffixes, e.g. "tuple" or "bytes32"
    dims: int  # how many [] follow
    components: tuple[Param, ...] = ()
    names: tuple[str, ...] = ()

    @staticmethod
    def of(spec: Mapping[str, Any]) -> Param:
        raw = str(spec["type"])
        base = raw.split("[", 1)[0]
        dims = raw.count("[")
        components = tuple(Param.of(c) for c in spec.get("components", ()))
        names = tuple(str(c.get("name", "")) for c in spec.get("components", ()))
        if base == "tuple":
            inner = "(" + ",".join(c.type for c in components) + ")"
            canonical = inner + raw[len("tuple") :]
        else:
            canonical = raw
        return Param(canonical, base, dims, components, names)

    def normalise(self, value: Any, dims: int | None = None) -> Any:
        dims = self.dims if dims is None else dims
        if dims:
            return [self.normalise(v, dims - 1) for v in value]
        if self.base == "tuple":
            if isinstance(value, Mapping):
                value = [value[n] for n in self.names]
            return tuple(c.normalise(v) for c, v in zip(self.components, value, strict=True))
        if self.base.startswith("bytes") and isinstance(value, str):
            return decode_hex(value)
        if self.base == "address" and isinstance(value, str):
            return value.lower()
        return value

    def denormalise(self, value: Any, dims: int | None = None) -> Any:
        dims = self.dims if dims is None else dims
        if dims:
            return [self.denormalise(v, dims - 1) for v in value]
        if self.base == "tuple":
            return tuple(c.denormalise(v) for c, v in zip(self.components, value, strict=True))
        if self.base == "address":
            return Web3.to_checksum_address(value)
        return value


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]

    def encode(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name} takes {len(self.inputs)} arguments, not {len(args)}")
        values = [p.normalise(a) for p, a in zip(self.inputs, args, strict=True)]
        return self.selector + encode([p.type for p in self.inputs], values)

    def decode(self, data: bytes) -> Any:
        """One output as itself, several as a tuple, none as None (as web3 returns them)."""
        values = decode([p.type for p in self.outputs], data)
        out = tuple(p.denormalise(v) for p, v in zip(self.outputs, values, strict=True))
        if not out:
            return None
        return out[0] if len(out) == 1 else out


def functions(abi: ABI) -> dict[str, Function]:
    """Every function of ``abi`` by name; an overloaded name is left out (web3 then decides)."""
    found: dict[str, Function] = {}
    overloaded: set[str] = set()
    for item in abi:
        if item.get("type") != "function":
            continue
        name = str(item["name"])
        inputs = tuple(Param.of(i) for i in item.get("inputs", ()))
        outputs = tuple(Param.of(o) for o in item.get("outputs", ()))
        signature = f"{name}({','.join(p.type for p in inputs)})"
        if name in found:
            overloaded.add(name)
        found[name] = Function(name, bytes(keccak(text=signature))[:4], inputs, outputs)
    for name in overloaded:
        del found[name]
    return found
