"""Fixtures for the contract tests: a fresh in-process py-evm (Prague) chain per test."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.providers.eth_tester import EthereumTesterProvider

from chain.artifacts import load_artifact

ISSUER, VERIFIER, REGISTRAR, DATA_USER = 1, 2, 4, 8
YEAR = 365 * 24 * 3600


@dataclass
class Env:
    w3: Web3
    c: Any  # a web3 Contract instance; its functions are dynamic attributes
    admin: str
    issuer: str  # active department with ROLE_ISSUER
    other: str  # a second issuing department
    verifier: str  # active department with ROLE_VERIFIER only
    stranger: str  # not a department
    deploy_receipt: Any

    def send(self, call: Any, sender: str) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
        assert receipt["status"] == 1
        return receipt

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def window(self) -> tuple[int, int]:
        now = self.now()
        return now, now + YEAR


def code(text: str) -> bytes:
    return text.encode().ljust(32, b"\0")


@pytest.fixture
def env() -> Env:
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    admin, issuer, other, verifier, stranger = list(w3.eth.accounts)[:5]
    art = load_artifact("CredentialRegistry")
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(admin).transact({"from": admin}))
    c = w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)
    e = Env(w3, c, admin, issuer, other, verifier, stranger, receipt)
    e.send(c.functions.addDepartment(issuer, code("GA"), ISSUER), admin)
    e.send(c.functions.addDepartment(other, code("SC"), ISSUER | VERIFIER), admin)
    e.send(c.functions.addDepartment(verifier, code("RS"), VERIFIER), admin)
    return e


def _revert_data(exc: BaseException) -> str:
    if isinstance(exc, ContractCustomError):
        return str(exc.data)
    # web3's eth-tester provider re-raises with the raw revert bytes as a repr in the message.
    text = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    assert text.startswith(prefix), text
    raw = ast.literal_eval(text[len(prefix) :])
    assert isinstance(raw, bytes), text
    return "0x" + raw.hex()


def _error_data(abi: Any, name: str, args: tuple[Any, ...]) -> str:
    (entry,) = [e for e in abi if e["type"] == "error" and e["name"] == name]
    types = [i["type"] for i in entry["inputs"]]
    selector = keccak(text=f"{name}({','.join(types)})")[:4]
    return "0x" + (selector + encode(types, list(args))).hex()


@pytest.fixture
def reverts(env: Env) -> Callable[..., Any]:
    """``with reverts("Name", *args):`` asserts a custom error with exactly these arguments."""

    @contextmanager
    def check(name: str, *args: Any) -> Iterator[None]:
        with pytest.raises((ContractCustomError, TransactionFailed)) as info:
            yield
        assert _revert_data(info.value) == _error_data(env.c.abi, name, args), name

    return check
