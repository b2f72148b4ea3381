"""Gas per state-changing function of CredentialRegistry, measured on py-evm (Prague).

Run ``python bench/gas.py`` (or ``make bench``). Deploys the committed artifact on an
in-process eth-tester chain, sends one real transaction per case and reads ``gasUsed``
from the receipt (the whole transaction: 21,000 intrinsic + calldata + execution).
Prints a Markdown table and writes it, with the conditions, to ``bench/GAS.md``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_tester import EthereumTester, PyEVMBackend
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider

from chain.artifacts import compiler_settings, load_artifact
from chain.merkle import merkle_proof, merkle_root

TARGETS = {"issue": 47_500, "revoke": 32_000}
# Published figures for OpenAttestation's DocumentStore, for scale.
OPENATTESTATION = {"issue": 48_168, "revoke": 50_922}
# Storage and log costs no code can avoid (EIP-2929/2200/3529 under Prague):
#  issue:  cold SLOAD of the caller's department (2,100) + fresh slot (2,100 cold + 20,000)
#          + LOG3 with two data words (375 + 3*375 + 64*8 = 2,012)
#  revoke: cold SLOAD of the anchor (2,100) + of the caller's department (2,100)
#          + rewrite of a non-zero slot (2,900) + LOG3 without data (1,500)
UNAVOIDABLE = {"issue": 2_100 + 22_100 + 2_012, "revoke": 2_100 + 2_100 + 2_900 + 1_500}
YEAR = 365 * 24 * 3600
ISSUER, VERIFIER = 1, 2


@dataclass
class Row:
    func: str
    case: str
    gas: int
    floor: int | None = None  # intrinsic + calldata + UNAVOIDABLE: the cost of zero opcodes


def leaf(i: int) -> bytes:
    return Web3.keccak(b"credential-" + str(i).encode())


def calldata_gas(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def measure() -> list[Row]:
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    accounts = list(w3.eth.accounts)
    admin, dept, other, new_admin = accounts[0], accounts[1], accounts[2], accounts[3]
    art = load_artifact("CredentialRegistry")
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    rows: list[Row] = []

    def tx(func: str, case: str, call: Any, sender: str) -> None:
        tx_hash = call.transact({"from": sender})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"{func} ({case}) reverted"
        floor = None
        if func in UNAVOIDABLE:
            data = bytes(w3.eth.get_transaction(tx_hash)["input"])
            floor = 21_000 + calldata_gas(data) + UNAVOIDABLE[func]
        rows.append(Row(func, case, int(receipt["gasUsed"]), floor))

    deploy_tx = factory.constructor(admin).transact({"from": admin})
    deploy = w3.eth.wait_for_transaction_receipt(deploy_tx)
    runtime = (len(art.deployed_bytecode) - 2) // 2
    rows.append(Row("deploy", f"{runtime:,} bytes runtime", int(deploy["gasUsed"])))
    f = w3.eth.contract(address=deploy["contractAddress"], abi=art.abi).functions
    tx("addDepartment", "first", f.addDepartment(dept, b"GA".ljust(32, b"\0"), ISSUER), admin)
    tx("addDepartment", "second", f.addDepartment(other, b"SB".ljust(32, b"\0"), VERIFIER), admin)
    tx("setRoles", "", f.setRoles(other, ISSUER | VERIFIER), admin)
    tx("deactivateDepartment", "", f.deactivateDepartment(other), admin)
    tx("reactivateDepartment", "", f.reactivateDepartment(other), admin)
    tx("transferAdmin", "", f.transferAdmin(new_admin), admin)

    now = w3.eth.get_block("latest")["timestamp"]
    window = (now, now + 5 * YEAR)  # realistic 4-byte timestamps, not calldata-cheap zeros
    tx("issue", "single credential hash", f.issue(leaf(0), *window), dept)
    tx("revoke", "whole root", f.revoke(leaf(0)), dept)
    for depth in (1, 10, 14):
        leaves = [leaf(i) for i in range(1, 2**depth + 1)]
        root = merkle_root(leaves)
        tx("issue", f"batch root, {2**depth:,} leaves", f.issue(root, *window), dept)
        proof = merkle_proof(leaves, 0)
        assert len(proof) == depth
        tx("revokeLeaf", f"proof depth {depth}", f.revokeLeaf(root, leaves[0], proof), dept)
    return rows


def render(rows: list[Row]) -> str:
    lines = [
        "| function | case | gasUsed | floor | target | OpenAttestation |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        floor = f"{r.floor:,}" if r.floor is not None else ""
        target = ""
        if r.func in TARGETS:
            target = f"<= {TARGETS[r.func]:,} " + ("met" if r.gas <= TARGETS[r.func] else "missed")
        oa = f"{OPENATTESTATION[r.func]:,}" if r.func in OPENATTESTATION else ""
        lines.append(f"| {r.func} | {r.case} | {r.gas:,} | {floor} | {target} | {oa} |")
    return "\n".join(lines) + "\n"


def document(rows: list[Row]) -> str:
    settings = compiler_settings()
    art = load_artifact("CredentialRegistry")
    issue = next(r for r in rows if r.func == "issue")
    assert issue.floor is not None
    return (
        "# Gas: CredentialRegistry\n\n"
        "Measured by `python bench/gas.py` on py-evm (Prague rules) from the committed artifact\n"
        f"(sourceHash `{art.source_hash[:18]}…`; evmVersion {settings['evmVersion']}, "
        f"optimizer runs {settings['optimizer']['runs']:,}, viaIR {settings['viaIR']}).\n"
        "`gasUsed` is the whole transaction: 21,000 intrinsic + calldata + execution.\n"
        "`floor` is what the transaction would cost if the contract ran no opcodes besides its\n"
        "unavoidable storage accesses and log (see `UNAVOIDABLE` in bench/gas.py).\n\n"
        + render(rows)
        + "\n## Why `issue` misses 47,500\n\n"
        f"With the agreed ABI the floor alone is {issue.floor:,}: 21,000 intrinsic, "
        f"{issue.floor - 21_000 - UNAVOIDABLE['issue']:,} calldata\n"
        "(selector, root and two 4-byte timestamps), 2,100 for the cold department slot that\n"
        "authorises the caller, 22,100 for the fresh anchor slot and 2,012 for `CredentialIssued`\n"
        f"(LOG3 + 64 data bytes). The contract adds {issue.gas - issue.floor:,} gas on top "
        "(dispatch, ABI\ndecoding with uint40 range checks, packing), after moving the hot path "
        "to inline assembly\nand compiling via IR (plain Solidity measured 49,724 while tuning).\n"
        "Dropping the window from the event (-512) and the issuer topic (-375) would still\n"
        f"leave {issue.floor - 887:,} + ~{issue.gas - issue.floor:,} of code, above 47,500: "
        "the target needs a leaner ABI, not more tuning.\n"
        "OpenAttestation's 48,168 anchors only a hash (no window, no issuer in the event).\n"
    )


def main() -> int:
    rows = measure()
    doc = document(rows)
    print(doc, end="")
    if os.environ.get("GAS_NO_WRITE") != "1":
        (ROOT / "bench" / "GAS.md").write_text(doc, encoding="utf-8")
        print("\nwrote bench/GAS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
