"""Turning revert data into ``ChainRevertError(error_name, args)`` using a contract's ABI.

Every node reports a revert differently (anvil: ``ContractCustomError`` with hex data,
hardhat: a dict with ``data``, Besu: an RPC error with ``data``, eth-tester: see
``engines.inprocess``); ``revert_data`` finds the bytes, ``decode_revert`` names them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import decode_hex, encode_hex
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.errors import ChainRevertError

ABI = Sequence[Mapping[str, Any]]

# Solidity's built-in revert payloads.
ERROR_STRING = function_signature_to_4byte_selector("Error(string)")
PANIC = function_signature_to_4byte_selector("Panic(uint256)")


def _type_of(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param.get("components", []))
        return f"({inner}){kind[5:]}"
    return kind


def error_table(abi: ABI) -> dict[bytes, tuple[str, list[str]]]:
    """Selector -> (error name, input types) for every custom error in ``abi``."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for item in abi:
        if item.get("type") == "error":
            types = [_type_of(p) for p in item.get("inputs", [])]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = (str(item["name"]), types)
    return table


def _plain(value: Any, kind: str) -> Any:
    # Addresses come back lowercase; the rest of the chain layer speaks checksum addresses.
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    return value


def decode_revert(data: bytes, abi: ABI = (), context: str = "") -> ChainRevertError:
    """A ``ChainRevertError`` naming the custom error (or Error/Panic) encoded in ``data``."""
    where = f" ({context})" if context else ""
    if len(data) < 4:
        return ChainRevertError("Reverted", (), f"reverted without a reason{where}")
    selector, body = data[:4], data[4:]
    try:
        if selector == ERROR_STRING:
            (reason,) = abi_decode(["string"], body)
            return ChainRevertError("Error", (reason,), f"reverted: {reason}{where}")
        if selector == PANIC:
            (code,) = abi_decode(["uint256"], body)
            return ChainRevertError("Panic", (code,), f"panicked with code {code:#x}{where}")
        known = error_table(abi).get(selector)
        if known is not None:
            name, types = known
            args = tuple(_plain(v, t) for v, t in zip(abi_decode(types, body), types, strict=False))
            shown = ", ".join(encode_hex(a) if isinstance(a, bytes) else str(a) for a in args)
            return ChainRevertError(name, args, f"{name}({shown}){where}")
    except DecodingError:
        pass  # fall through: report the raw data rather than guess
    return ChainRevertError("UnknownError", (encode_hex(data),), f"reverted with {encode_hex(data)}{where}")


def _hex_bytes(value: Any) -> bytes | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return decode_hex(value)
        except ValueError:
            return None
    if isinstance(value, Mapping):
        return _hex_bytes(value.get("data"))
    return None


def revert_data(exc: BaseException) -> bytes | None:
    """The revert payload carried by ``exc``; None if ``exc`` is not a revert at all."""
    if isinstance(exc, ContractLogicError):
        data = _hex_bytes(exc.data)
        return data if data is not None else b""
    if isinstance(exc, Web3RPCError):
        response: Mapping[str, Any] = exc.rpc_response or {}
        error = response.get("error")
        if not isinstance(error, Mapping):
            return None
        data = _hex_bytes(error.get("data"))
        if data is not None:
            return data
        if "revert" in str(error.get("message", "")).lower():
            return b""
    return None


def as_revert(exc: BaseException, abi: ABI = (), context: str = "") -> ChainRevertError | None:
    """``exc`` decoded as a ``ChainRevertError``, or None when it is some other failure."""
    data = revert_data(exc)
    if data is None:
        return None
    return decode_revert(data, abi, context)
