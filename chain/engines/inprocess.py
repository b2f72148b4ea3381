"""In-process chain: eth-tester on py-evm (current VM Prague). For unit tests; no state on disk."""

from __future__ import annotations

import ast
import threading
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils.hexadecimal import encode_hex
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from chain.connection import guard
from chain.engines.base import Engine
from chain.errors import NodeError
from chain.reverts import ERROR_STRING

# eth-tester funds the keys 1..10; the first is our dev account.
INPROCESS_DEV_KEY = encode_hex((1).to_bytes(32, "big"))
_REVERT_PREFIX = "execution reverted: "


class _RevertDataProvider(EthereumTesterProvider):
    """eth-tester, made to look like a real node where it matters to us.

    - Reverts: web3's eth-tester glue raises ``TransactionFailed("execution reverted: b'..'")``
      with the revert bytes only as their repr; we re-raise them as ``ContractLogicError``
      carrying hex data, exactly like anvil does, so one decoder serves every engine.
    - Threads: py-evm is not thread-safe and the vault calls web3 from worker threads.
    """

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__(tester)
        self._lock = threading.RLock()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            try:
                return super().make_request(method, params)
            except TransactionFailed as exc:
                data = _revert_bytes(exc)
                if data is None:
                    raise
                raise ContractLogicError(f"execution reverted: {encode_hex(data)}", data=encode_hex(data)) from exc


def _revert_bytes(exc: TransactionFailed) -> bytes | None:
    message = exc.args[0] if exc.args else None
    if isinstance(message, bytes):
        return message
    if not isinstance(message, str) or not message.startswith(_REVERT_PREFIX):
        return None
    rest = message[len(_REVERT_PREFIX) :]
    if rest[:2] in ("b'", 'b"'):
        try:
            # A bytes literal only: literal_eval cannot run code.
            value = ast.literal_eval(rest)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    # The glue already decoded an Error(string) reason; encode it back for one decoder.
    return ERROR_STRING + abi_encode(["string"], [rest])


class InProcessEngine(Engine):
    name = "inprocess"

    _tester: EthereumTester | None = None

    def start(self) -> None:
        if self._w3 is None:
            self._tester = EthereumTester(PyEVMBackend())
            self._w3 = guard(Web3(_RevertDataProvider(self._tester)))

    def stop(self) -> None:
        self._w3, self._tester = None, None

    def snapshot(self) -> int:
        """An id for the chain as it is now, to ``revert`` to (as anvil's ``evm_snapshot``)."""
        if self._tester is None:
            raise NodeError("the in-process chain is not started")
        return int(self._tester.take_snapshot())

    def revert(self, snapshot_id: int) -> None:
        """Back to the chain as it was at ``snapshot`` (which stays usable, unlike anvil's)."""
        if self._tester is None:
            raise NodeError("the in-process chain is not started")
        self._tester.revert_to_snapshot(snapshot_id)

    def dev_account(self) -> LocalAccount:
        account: LocalAccount = Account.from_key(INPROCESS_DEV_KEY)
        return account
