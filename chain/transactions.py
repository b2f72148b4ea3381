"""Sending transactions: nonce, gas (with a pre-flight), fees, signing, receipts.

Gas estimation doubles as a pre-flight: a call that would revert is decoded into a
``ChainRevertError`` before anything is signed or sent, so a refused write costs nothing and
leaves no trace. ``sign`` and ``broadcast`` are separate so that a durable outbox can record
the hash before the transaction leaves the process, and ``receipt_for`` finds it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_utils.hexadecimal import encode_hex
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3Exception
from web3.types import TxParams, TxReceipt

from chain.errors import ChainError, ChainRevertError
from chain.reverts import ABI, as_revert

DEFAULT_TIMEOUT = 120.0
# Head-room over the estimate: state may change between estimate and inclusion.
GAS_MARGIN_PERCENT = 20
FALLBACK_TIP = Web3.to_wei(1, "gwei")


@dataclass(frozen=True)
class TxResult:
    tx_hash: bytes
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: bytes
    sender: str
    nonce: int


def base_fee(w3: Web3) -> int | None:
    """Base fee of the latest block; None on a chain without EIP-1559."""
    fee = w3.eth.get_block("latest").get("baseFeePerGas")
    return None if fee is None else int(fee)


def is_zero_gas(w3: Web3) -> bool:
    """True on a chain where gas is free (base fee 0, or no EIP-1559 and gas price 0)."""
    fee = base_fee(w3)
    return fee == 0 if fee is not None else w3.eth.gas_price == 0


def fee_fields(w3: Web3) -> dict[str, int]:
    """EIP-1559 fees when there is a base fee; legacy gasPrice otherwise (0 on free chains)."""
    fee = base_fee(w3)
    if fee is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    if fee == 0:
        # Zero-gas consortium chains (Besu QBFT) accept, and sometimes require, gasPrice 0.
        return {"gasPrice": 0}
    try:
        tip = int(w3.eth.max_priority_fee)
    except (Web3Exception, ValueError):
        tip = FALLBACK_TIP
    return {"maxFeePerGas": 2 * fee + tip, "maxPriorityFeePerGas": tip}


def next_nonce(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))


def call_of(sender: str, to: str | None, data: bytes = b"", value: int = 0) -> dict[str, Any]:
    """The transaction fields a pre-flight (``estimate_gas``) and ``sign`` start from."""
    tx: dict[str, Any] = {"from": sender, "data": encode_hex(data), "value": value}
    if to is not None:
        tx["to"] = Web3.to_checksum_address(to)
    return tx


def estimate_gas(w3: Web3, tx: dict[str, Any], abi: ABI = (), context: str = "") -> int:
    """Gas for ``tx`` plus a margin; raises the decoded ``ChainRevertError`` if it would revert."""
    try:
        estimate = int(w3.eth.estimate_gas(cast(TxParams, tx)))
    except ChainError:
        raise  # the node is unreachable: nothing to say about the transaction
    except Web3Exception as exc:
        _raise_revert(exc, abi, context)
        raise
    except Exception as exc:  # a backend's own validation error (e.g. sender cannot pay)
        raise ChainError(f"gas estimation failed{_where(context)}: {exc}") from exc
    return with_margin(estimate)


def with_margin(estimate: int) -> int:
    """The gas to give a transaction the node estimated at ``estimate``."""
    return estimate + estimate * GAS_MARGIN_PERCENT // 100


def _raise_revert(exc: BaseException, abi: ABI, context: str) -> None:
    """Raises ``exc`` as a decoded ``ChainRevertError`` if it is a revert; else returns."""
    revert = as_revert(exc, abi, context)
    if revert is not None:
        raise revert from exc


def _where(context: str) -> str:
    return f" ({context})" if context else ""


def sign(
    w3: Web3,
    sender: LocalAccount,
    *,
    to: str | None,
    data: bytes = b"",
    value: int = 0,
    nonce: int | None = None,
    gas: int | None = None,
    fees: dict[str, int] | None = None,
    abi: ABI = (),
    context: str = "",
) -> SignedTx:
    """Builds and signs a transaction without sending it (pre-flight included unless ``gas`` is
    given). ``fees``: ``fee_fields`` read once for many transactions signed together."""
    tx = call_of(sender.address, to, data, value)
    tx["gas"] = gas if gas is not None else estimate_gas(w3, tx, abi, context)
    tx.update(fees if fees is not None else fee_fields(w3))
    tx["nonce"] = nonce if nonce is not None else next_nonce(w3, sender.address)
    tx["chainId"] = int(w3.eth.chain_id)
    signed = sender.sign_transaction(tx)
    return SignedTx(bytes(signed.raw_transaction), bytes(signed.hash), sender.address, int(tx["nonce"]))


def broadcast(w3: Web3, signed: SignedTx, abi: ABI = (), context: str = "") -> bytes:
    """Sends ``signed``; sending a transaction the node already has is not an error."""
    try:
        w3.eth.send_raw_transaction(signed.raw)
    except ChainError:
        raise  # unreachable: whether the node took it is for the receipt to tell
    except Exception as exc:
        _raise_revert(exc, abi, context)  # hardhat refuses a failing transaction at send time
        # "already known" / "nonce too low" for our own earlier send: it is out there.
        if known(w3, signed.tx_hash):
            return signed.tx_hash
        if isinstance(exc, Web3Exception):
            raise
        # A backend's own validation error (eth-tester): keep callers to chain/web3 errors.
        raise ChainError(f"the node refused transaction {encode_hex(signed.tx_hash)}{_where(context)}: {exc}") from exc
    return signed.tx_hash


def known(w3: Web3, tx_hash: bytes) -> bool:
    """The node has the transaction (pooled or mined)."""
    try:
        w3.eth.get_transaction(HexBytes(tx_hash))
        return True
    except TransactionNotFound:
        return False


def _result(w3: Web3, receipt: TxReceipt, abi: ABI) -> TxResult:
    if receipt["status"] != 1:
        raise failure(w3, receipt, abi)
    return TxResult(bytes(receipt["transactionHash"]), int(receipt["blockNumber"]), int(receipt["gasUsed"]))


def wait(w3: Web3, tx_hash: bytes, *, timeout: float = DEFAULT_TIMEOUT, abi: ABI = ()) -> TxResult:
    """Waits for the receipt; a failed transaction raises ``ChainRevertError``."""
    try:
        receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout, poll_latency=0.05)
    except TimeExhausted as exc:
        raise ChainError(f"transaction {encode_hex(tx_hash)} was not mined within {timeout:.0f}s") from exc
    return _result(w3, receipt, abi)


def receipt_for(w3: Web3, tx_hash: bytes, abi: ABI = ()) -> TxResult | None:
    """The result of a transaction sent earlier; None if the node does not know it (yet)."""
    try:
        receipt = w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
    return _result(w3, receipt, abi)


def failure(w3: Web3, receipt: TxReceipt, abi: ABI = ()) -> ChainRevertError:
    """Why a mined transaction failed: replayed as a call on the state before its block."""
    tx_hash = bytes(receipt["transactionHash"])
    block = int(receipt["blockNumber"])
    context = f"transaction {encode_hex(tx_hash)} in block {block}"
    try:
        tx = w3.eth.get_transaction(HexBytes(tx_hash))
        call: dict[str, Any] = {"from": tx["from"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
        if tx.get("to"):
            call["to"] = tx["to"]
        w3.eth.call(cast(TxParams, call), block_identifier=max(block - 1, 0))
    except Web3Exception as exc:
        revert = as_revert(exc, abi, context)
        if revert is not None:
            return revert
    gas = f"used {receipt['gasUsed']} gas"
    return ChainRevertError("TransactionFailed", (encode_hex(tx_hash),), f"{context} failed ({gas}; out of gas?)")


def send(
    w3: Web3,
    sender: LocalAccount,
    *,
    to: str | None,
    data: bytes = b"",
    value: int = 0,
    nonce: int | None = None,
    abi: ABI = (),
    context: str = "",
    timeout: float = DEFAULT_TIMEOUT,
) -> TxResult:
    """Pre-flight, sign, send and wait: the one call most writers need."""
    signed = sign(w3, sender, to=to, data=data, value=value, nonce=nonce, abi=abi, context=context)
    return wait(w3, broadcast(w3, signed, abi, context), timeout=timeout, abi=abi)


def transfer(w3: Web3, sender: LocalAccount, to: str, wei: int, *, nonce: int | None = None) -> TxResult:
    return send(w3, sender, to=to, value=wei, nonce=nonce, context=f"transfer to {to}")
